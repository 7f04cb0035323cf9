CREATE TABLE `outbox_bodies` (
	`outbox_id` text PRIMARY KEY NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL,
	`headers` text NOT NULL,
	`calendar` text,
	`attachments` text,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `outbox_bodies`("outbox_id", "text", "html", "headers", "calendar", "attachments") SELECT "id", "text", "html", "headers", "calendar", "attachments" FROM `outbox`;--> statement-breakpoint
ALTER TABLE `outbox` DROP COLUMN `text`;--> statement-breakpoint
ALTER TABLE `outbox` DROP COLUMN `html`;--> statement-breakpoint
ALTER TABLE `outbox` DROP COLUMN `headers`;--> statement-breakpoint
ALTER TABLE `outbox` DROP COLUMN `calendar`;--> statement-breakpoint
ALTER TABLE `outbox` DROP COLUMN `attachments`;