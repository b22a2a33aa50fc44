-- GET /v1/admin/series lists newest first, whole, by status or by template: each an index walk with no sort.
DROP INDEX `idx_series_template`;--> statement-breakpoint
CREATE INDEX `idx_series_created` ON `series` (`created_at`,`series_id`);--> statement-breakpoint
CREATE INDEX `idx_series_status_created` ON `series` (`status`,`created_at`,`series_id`);--> statement-breakpoint
CREATE INDEX `idx_series_template_created` ON `series` (`template_id`,`created_at`,`series_id`);