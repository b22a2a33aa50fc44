-- Alerts fix: partial indexes for the per-minute run's questions (owed deliveries, silenced pairs, old resolved
-- alerts to purge), so none of them scans the whole alerts table.
CREATE INDEX `idx_alerts_pending` ON `alerts` (`evaluated_at`) WHERE delivery_pending IS NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_alerts_silenced` ON `alerts` (`scope`,`kind`) WHERE silenced = 1;--> statement-breakpoint
CREATE INDEX `idx_alerts_resolved` ON `alerts` (`resolved_at`) WHERE state = 'resolved';