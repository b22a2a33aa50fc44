-- Analytics (issue 14): game telemetry (sessions, purchases) with retention, hourly event rollups, stored event
-- reports, template performance averages, and player_progress.synced_at (D1's time at the write-behind upsert,
-- for progress-sync latency).
CREATE TABLE `event_reports` (
	`event_id` text PRIMARY KEY NOT NULL,
	`template_id` text NOT NULL,
	`generated_at` integer NOT NULL,
	`report` text NOT NULL,
	`engagement_score` real,
	`completion_rate` real,
	`rppu` real,
	`webhook_status` integer,
	`posted_at` integer
);
--> statement-breakpoint
CREATE INDEX `idx_reports_template` ON `event_reports` (`template_id`);--> statement-breakpoint
CREATE TABLE `event_rollups` (
	`event_id` text NOT NULL,
	`hour` integer NOT NULL,
	`joins` integer NOT NULL,
	`active_players` integer NOT NULL,
	`purchases` integer NOT NULL,
	`revenue` real NOT NULL,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `telemetry_purchases` (
	`purchase_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`amount` real NOT NULL,
	`currency` text NOT NULL,
	`sku` text NOT NULL,
	`event_id` text,
	`at` integer NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_purchases_at` ON `telemetry_purchases` (`at`,`player_id`);--> statement-breakpoint
CREATE INDEX `idx_purchases_event` ON `telemetry_purchases` (`event_id`);--> statement-breakpoint
CREATE INDEX `idx_purchases_player` ON `telemetry_purchases` (`player_id`,`at`);--> statement-breakpoint
CREATE TABLE `telemetry_sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`start` integer NOT NULL,
	`duration_sec` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`platform` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_sessions_start` ON `telemetry_sessions` (`start`,`ends_at`,`player_id`);--> statement-breakpoint
CREATE INDEX `idx_sessions_player` ON `telemetry_sessions` (`player_id`,`start`);--> statement-breakpoint
ALTER TABLE `player_progress` ADD `synced_at` integer;--> statement-breakpoint
ALTER TABLE `templates` ADD `average_completion_rate` real;--> statement-breakpoint
ALTER TABLE `templates` ADD `average_rppu` real;--> statement-breakpoint
ALTER TABLE `templates` ADD `reported_events` integer DEFAULT 0 NOT NULL;