-- Ended events' completion histograms, stored once for the profile job's pace percentile (issue 15, second reading).
CREATE TABLE `pace_histograms` (
	`event_id` text PRIMARY KEY NOT NULL,
	`buckets` text NOT NULL,
	`computed_at` integer NOT NULL
);
