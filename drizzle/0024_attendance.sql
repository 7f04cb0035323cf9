CREATE TABLE `attendance` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`member_id` text NOT NULL,
	`checked_in_at` integer NOT NULL,
	`checked_in_by` text,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `attendance_huddle_member` ON `attendance` (`huddle_id`,`member_id`);--> statement-breakpoint
CREATE INDEX `attendance_member` ON `attendance` (`member_id`);