ALTER TABLE `campaigns` ADD `sender` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `heartbeat_at` integer;