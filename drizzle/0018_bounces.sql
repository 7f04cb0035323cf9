CREATE TABLE `bounces` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`via` text NOT NULL,
	`outbox_id` text,
	`cluster_id` text,
	`email_hash` text NOT NULL,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `bounces_hash` ON `bounces` (`email_hash`,`kind`,`at`);--> statement-breakpoint
CREATE UNIQUE INDEX `bounces_outbox_kind` ON `bounces` (`outbox_id`,`kind`);--> statement-breakpoint
CREATE TABLE `__new_suppressions` (
	`cluster_id` text,
	`email_hash` text NOT NULL,
	`email` text,
	`reason` text NOT NULL,
	`detail` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_suppressions`("cluster_id", "email_hash", "email", "reason", "detail", "created_at") SELECT "cluster_id", "email_hash", NULL, "reason", NULL, "created_at" FROM `suppressions`;--> statement-breakpoint
DROP TABLE `suppressions`;--> statement-breakpoint
ALTER TABLE `__new_suppressions` RENAME TO `suppressions`;--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_cluster_hash` ON `suppressions` (`cluster_id`,`email_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_everywhere_hash` ON `suppressions` (`email_hash`) WHERE cluster_id IS NULL;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `returned` text;