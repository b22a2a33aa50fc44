CREATE TABLE `notification_interactions` (
	`notification_id` text NOT NULL,
	`player_id` text NOT NULL,
	`shown_at` integer,
	`clicked_at` integer,
	PRIMARY KEY(`notification_id`, `player_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_interactions_player` ON `notification_interactions` (`player_id`);--> statement-breakpoint
ALTER TABLE `notification_queue` ADD `push_failures` integer DEFAULT 0 NOT NULL;