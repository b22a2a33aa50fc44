-- The alert run's ended-events arm (expired or archived, ended or touched within ENDED_WATCH_MS) as two index ranges,
-- instead of reading every ended event once a minute.
CREATE INDEX `idx_instances_state_end` ON `instances` (`state`,`end_time`);--> statement-breakpoint
CREATE INDEX `idx_instances_state_updated` ON `instances` (`state`,`updated_at`);
