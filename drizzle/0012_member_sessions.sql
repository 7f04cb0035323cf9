ALTER TABLE `member_tokens` ADD `kind` text DEFAULT 'api' NOT NULL;--> statement-breakpoint
ALTER TABLE `member_tokens` ADD `user_agent` text;