CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`subject` text NOT NULL,
	`body_markdown` text NOT NULL,
	`topic` text NOT NULL,
	`theme` text,
	`status` text NOT NULL,
	`rate` integer NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `campaigns_cluster` ON `campaigns` (`cluster_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`subscriber_id` text,
	`email` text NOT NULL,
	`status` text NOT NULL,
	`outbox_id` text,
	`skip_reason` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_campaign_subscriber` ON `deliveries` (`campaign_id`,`subscriber_id`);--> statement-breakpoint
CREATE INDEX `deliveries_campaign_status` ON `deliveries` (`campaign_id`,`status`,`id`);