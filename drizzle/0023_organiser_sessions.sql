CREATE TABLE `organiser_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`token_hash` text NOT NULL,
	`user_agent` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organiser_sessions_token_hash_unique` ON `organiser_sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `organiser_sessions_email` ON `organiser_sessions` (`email`);--> statement-breakpoint
CREATE TABLE `organiser_sign_in_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`code_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organiser_sign_in_codes_code_hash_unique` ON `organiser_sign_in_codes` (`code_hash`);--> statement-breakpoint
CREATE INDEX `organiser_sign_in_codes_email` ON `organiser_sign_in_codes` (`email`);