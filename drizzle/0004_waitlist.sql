CREATE TABLE `waitlist_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`member_id` text NOT NULL,
	`organisation_key` text NOT NULL,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `waitlist_active_organisation` ON `waitlist_entries` (`huddle_id`,`organisation_key`) WHERE status IN ('waiting', 'offered');--> statement-breakpoint
CREATE INDEX `waitlist_line` ON `waitlist_entries` (`huddle_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `waitlist_offers` (
	`id` text PRIMARY KEY NOT NULL,
	`entry_id` text NOT NULL,
	`huddle_id` text NOT NULL,
	`slot_id` text NOT NULL,
	`status` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`decided_at` integer,
	FOREIGN KEY (`entry_id`) REFERENCES `waitlist_entries`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`slot_id`) REFERENCES `slots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `waitlist_offers_open_slot` ON `waitlist_offers` (`slot_id`) WHERE status = 'open';--> statement-breakpoint
CREATE INDEX `waitlist_offers_due` ON `waitlist_offers` (`expires_at`) WHERE status = 'open';