-- Alerts fixes (issue 14, second reading): response times as one histogram per isolate per minute (replacing a row
-- per sampled request), and indexes so the per-minute run reads no whole table (owed deliveries, silenced pairs,
-- old resolved alerts, an event's recent delivery_failed inbox items).
CREATE TABLE `response_histograms` (
	`isolate` text NOT NULL,
	`minute` integer NOT NULL,
	`samples` integer NOT NULL,
	`buckets` text NOT NULL,
	PRIMARY KEY(`isolate`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `idx_response_histograms_minute` ON `response_histograms` (`minute`);--> statement-breakpoint
DROP TABLE `response_samples`;--> statement-breakpoint
CREATE INDEX `idx_alerts_pending` ON `alerts` (`evaluated_at`) WHERE delivery_pending IS NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_alerts_silenced` ON `alerts` (`scope`,`kind`) WHERE silenced = 1;--> statement-breakpoint
CREATE INDEX `idx_alerts_resolved` ON `alerts` (`resolved_at`) WHERE state = 'resolved';--> statement-breakpoint
CREATE INDEX `idx_inbox_event_reason` ON `inbox_items` (`event_id`,`reason`,`arrived_at`);