-- Alerts fix: response times as one histogram per isolate per minute (the p95 alert), in place of a row per
-- sampled request.
CREATE TABLE `response_histograms` (
	`isolate` text NOT NULL,
	`minute` integer NOT NULL,
	`samples` integer NOT NULL,
	`buckets` text NOT NULL,
	PRIMARY KEY(`isolate`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `idx_response_histograms_minute` ON `response_histograms` (`minute`);--> statement-breakpoint
DROP TABLE `response_samples`;