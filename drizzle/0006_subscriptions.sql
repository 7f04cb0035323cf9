CREATE TABLE `consent_events` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`subscriber_id` text,
	`email_hash` text NOT NULL,
	`kind` text NOT NULL,
	`source` text NOT NULL,
	`wording_version` text NOT NULL,
	`topics` text,
	`ip` text,
	`user_agent` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `consent_events_subscriber` ON `consent_events` (`subscriber_id`,`at`);--> statement-breakpoint
CREATE INDEX `consent_events_hash` ON `consent_events` (`cluster_id`,`email_hash`);--> statement-breakpoint
CREATE TABLE `subscribers` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`status` text NOT NULL,
	`topics` text NOT NULL,
	`themes` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`confirmed_at` integer,
	`unsubscribed_at` integer,
	`last_notice_at` integer,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscribers_cluster_email` ON `subscribers` (`cluster_id`,`email`);--> statement-breakpoint
CREATE INDEX `subscribers_cluster_status` ON `subscribers` (`cluster_id`,`status`,`id`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`cluster_id` text NOT NULL,
	`email_hash` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_cluster_hash` ON `suppressions` (`cluster_id`,`email_hash`);