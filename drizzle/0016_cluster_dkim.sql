ALTER TABLE `clusters` ADD `dkim_domain` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `dkim_selector` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `dkim_key` text;