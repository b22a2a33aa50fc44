-- Personalization (issue 15): player profiles maintained by the hourly job, adaptive-difficulty decisions from the
-- shards (treated and control), and indexes on telemetry's arrival time for the profile job's watermark.
CREATE TABLE `adaptive_decisions` (
	`event_id` text NOT NULL,
	`player_id` text NOT NULL,
	`arm` text NOT NULL,
	`reason` text NOT NULL,
	`decided_at` integer NOT NULL,
	`completion` real NOT NULL,
	`pace` real NOT NULL,
	`factor` real,
	`targets` text,
	`assist` text,
	PRIMARY KEY(`event_id`, `player_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_adaptive_player` ON `adaptive_decisions` (`player_id`);--> statement-breakpoint
CREATE TABLE `player_profiles` (
	`player_id` text PRIMARY KEY NOT NULL,
	`level` integer,
	`participation` text NOT NULL,
	`events_joined` integer DEFAULT 0 NOT NULL,
	`events_completed` integer DEFAULT 0 NOT NULL,
	`claims` integer DEFAULT 0 NOT NULL,
	`pace_percentile` real,
	`sessions_per_day` real DEFAULT 0 NOT NULL,
	`avg_session_minutes` real,
	`spend_total` real DEFAULT 0 NOT NULL,
	`spend_segment` text DEFAULT 'non_payer' NOT NULL,
	`needs` text,
	`computed_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_profiles_computed` ON `player_profiles` (`computed_at`);--> statement-breakpoint
ALTER TABLE `templates` ADD `difficulty` integer;--> statement-breakpoint
CREATE INDEX `idx_progress_synced` ON `player_progress` (`synced_at`);--> statement-breakpoint
CREATE INDEX `idx_purchases_received` ON `telemetry_purchases` (`received_at`);--> statement-breakpoint
CREATE INDEX `idx_sessions_received` ON `telemetry_sessions` (`received_at`);