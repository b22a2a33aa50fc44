CREATE TABLE `player_progress` (
	`progress_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`event_id` text NOT NULL,
	`objectives` text NOT NULL,
	`unlocked_milestones` text NOT NULL,
	`completion` real NOT NULL,
	`last_seq` integer NOT NULL,
	`revision` integer NOT NULL,
	`is_synced` integer DEFAULT true NOT NULL,
	`last_updated` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_player_progress` ON `player_progress` (`player_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `idx_event_progress` ON `player_progress` (`event_id`,`last_updated`);--> statement-breakpoint
CREATE INDEX `idx_event_completion` ON `player_progress` (`event_id`,`completion`);--> statement-breakpoint
CREATE TABLE `progress_flags` (
	`flag_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`event_id` text NOT NULL,
	`objective_id` text NOT NULL,
	`amount` text NOT NULL,
	`reason` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_flags_event` ON `progress_flags` (`event_id`,`at`);--> statement-breakpoint
CREATE INDEX `idx_flags_player` ON `progress_flags` (`player_id`,`at`);--> statement-breakpoint
ALTER TABLE `templates` ADD `shard_count` integer;--> statement-breakpoint
ALTER TABLE `templates` ADD `expected_participants` integer;