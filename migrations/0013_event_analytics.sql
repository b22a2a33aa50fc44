-- Analytics fixes (issue 14, second reading): per event, the first-day figures snapshotted once the first 24 h are
-- over (raw telemetry may be purged before a long event ends), and the report row's failures (capped attempts).
CREATE TABLE `event_analytics` (
	`event_id` text PRIMARY KEY NOT NULL,
	`first_day_active` integer,
	`first_day_joined` integer,
	`first_day_at` integer,
	`report_failures` integer DEFAULT 0 NOT NULL,
	`report_error` text,
	`report_gave_up_at` integer
);
