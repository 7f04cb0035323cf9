CREATE TABLE `registrations` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`member_id` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`cancelled_at` integer,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registrations_active_member` ON `registrations` (`huddle_id`,`member_id`) WHERE status IN ('registered', 'waitlisted');--> statement-breakpoint
CREATE INDEX `registrations_huddle` ON `registrations` (`huddle_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `registrations_member` ON `registrations` (`member_id`,`status`);--> statement-breakpoint
CREATE TABLE `reminders` (
	`huddle_id` text NOT NULL,
	`email` text NOT NULL,
	`sent_at` integer NOT NULL,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reminders_huddle_email` ON `reminders` (`huddle_id`,`email`);