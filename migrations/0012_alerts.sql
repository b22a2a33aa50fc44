-- Alerts (issue 14 part 4): alert rows (one open per scope and kind), the progress shards' drain health per
-- minute (progress-sync failure rate) and sampled Worker response times (p95).
CREATE TABLE `alerts` (
	`alert_id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`state` text NOT NULL,
	`value` real,
	`threshold` real NOT NULL,
	`opened_at` integer NOT NULL,
	`evaluated_at` integer NOT NULL,
	`resolved_at` integer,
	`resolved_by` text,
	`resolve_reason` text,
	`silenced` integer DEFAULT 0 NOT NULL,
	`delivery_pending` text,
	`delivery_attempts` integer DEFAULT 0 NOT NULL,
	`webhook_status` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_alerts_open` ON `alerts` (`scope`,`kind`) WHERE state = 'open';--> statement-breakpoint
CREATE INDEX `idx_alerts_state` ON `alerts` (`state`,`opened_at`);--> statement-breakpoint
CREATE INDEX `idx_alerts_scope` ON `alerts` (`scope`,`kind`);--> statement-breakpoint
CREATE TABLE `response_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_response_samples_at` ON `response_samples` (`at`);--> statement-breakpoint
CREATE TABLE `sync_health` (
	`event_id` text NOT NULL,
	`shard` integer NOT NULL,
	`minute` integer NOT NULL,
	`drains` integer NOT NULL,
	`failures` integer NOT NULL,
	PRIMARY KEY(`event_id`, `shard`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `idx_sync_health_minute` ON `sync_health` (`minute`);