ALTER TABLE `bookings` ADD `theme` text;--> statement-breakpoint
ALTER TABLE `bookings` ADD `share_contact` integer DEFAULT false NOT NULL;