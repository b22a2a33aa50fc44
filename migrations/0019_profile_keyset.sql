-- The profile job pages D1's changes by (time, player id): a telemetry batch or a drain shares one time, so time alone
-- cannot say where a page stopped (issue 15, second reading).
DROP INDEX `idx_progress_synced`;--> statement-breakpoint
CREATE INDEX `idx_progress_synced` ON `player_progress` (`synced_at`,`player_id`);--> statement-breakpoint
DROP INDEX `idx_purchases_received`;--> statement-breakpoint
CREATE INDEX `idx_purchases_received` ON `telemetry_purchases` (`received_at`,`player_id`);--> statement-breakpoint
DROP INDEX `idx_sessions_received`;--> statement-breakpoint
CREATE INDEX `idx_sessions_received` ON `telemetry_sessions` (`received_at`,`player_id`);