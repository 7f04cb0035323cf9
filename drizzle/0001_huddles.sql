CREATE TABLE `huddle_series` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`rrule` text NOT NULL,
	`timezone` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `huddles` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`series_id` text,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`timezone` text NOT NULL,
	`venue_name` text,
	`venue_address` text,
	`online_url` text,
	`capacity` integer,
	`themes` text NOT NULL,
	`status` text NOT NULL,
	`cancel_reason` text,
	`cancelled_at` integer,
	`sequence` integer DEFAULT 0 NOT NULL,
	`slot_count` integer NOT NULL,
	`slot_minutes` integer NOT NULL,
	`changeover_minutes` integer NOT NULL,
	`pitch_offset_minutes` integer NOT NULL,
	`booking_opens_days_before` integer,
	`booking_closes_hours_before` integer NOT NULL,
	`cancellation_cutoff_hours` integer NOT NULL,
	`approval_required` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`series_id`) REFERENCES `huddle_series`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `huddles_cluster_start` ON `huddles` (`cluster_id`,`starts_at`,`id`);--> statement-breakpoint
CREATE INDEX `huddles_series_start` ON `huddles` (`series_id`,`starts_at`);--> statement-breakpoint
CREATE TABLE `invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invitations_huddle_email` ON `invitations` (`huddle_id`,`email`);--> statement-breakpoint
CREATE TABLE `slots` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`position` integer NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `slots_huddle_position` ON `slots` (`huddle_id`,`position`);--> statement-breakpoint
ALTER TABLE `clusters` ADD `huddles_version` integer DEFAULT 0 NOT NULL;