ALTER TABLE `clusters` ADD `sender_name` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `sender_address` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `reply_to` text;