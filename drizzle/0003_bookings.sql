CREATE TABLE `bookings` (
	`id` text PRIMARY KEY NOT NULL,
	`huddle_id` text NOT NULL,
	`slot_id` text NOT NULL,
	`member_id` text NOT NULL,
	`organisation_key` text NOT NULL,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`sequence` integer DEFAULT 0 NOT NULL,
	`cancelled_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`decided_at` integer,
	`cancelled_at` integer,
	FOREIGN KEY (`huddle_id`) REFERENCES `huddles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`slot_id`) REFERENCES `slots`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bookings_active_slot` ON `bookings` (`slot_id`) WHERE status IN ('pending', 'confirmed');--> statement-breakpoint
CREATE INDEX `bookings_huddle` ON `bookings` (`huddle_id`,`status`);--> statement-breakpoint
CREATE INDEX `bookings_member` ON `bookings` (`member_id`,`status`);--> statement-breakpoint
CREATE INDEX `bookings_organisation` ON `bookings` (`organisation_key`,`status`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`state` text NOT NULL,
	`status_code` integer,
	`headers` text,
	`body` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idempotency_keys_scope_key` ON `idempotency_keys` (`scope`,`key`);--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires` ON `idempotency_keys` (`expires_at`);