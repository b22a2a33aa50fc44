-- Recurring series (issue 17): each series' rule and status, and its occurrences with their event ids, as the
-- SeriesActor's outbox projects them (original_start keeps RECURRENCE-ID fixed; seq_base keeps SEQUENCE rising).
CREATE TABLE `series` (
	`series_id` text PRIMARY KEY NOT NULL,
	`template_id` text NOT NULL,
	`rule` text NOT NULL,
	`on_conflict` text NOT NULL,
	`status` text NOT NULL,
	`sequence` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`revision` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_series_template` ON `series` (`template_id`);--> statement-breakpoint
CREATE TABLE `series_occurrences` (
	`series_id` text NOT NULL,
	`occurrence_key` text NOT NULL,
	`event_id` text,
	`status` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`shifted_from` integer,
	`reason` text,
	`updated_at` integer NOT NULL,
	`revision` integer NOT NULL,
	`original_start` integer,
	`seq_base` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`series_id`, `occurrence_key`)
);
--> statement-breakpoint
CREATE INDEX `idx_series_occurrences_event` ON `series_occurrences` (`event_id`);