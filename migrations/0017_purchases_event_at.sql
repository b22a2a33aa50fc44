-- An event's purchases by (event_id, at): the untagged arm (event_id IS NULL) of an event's purchases is a range on
-- purchase time, not every untagged purchase in the table (the hourly keep and the report read it).
DROP INDEX `idx_purchases_event`;--> statement-breakpoint
CREATE INDEX `idx_purchases_event` ON `telemetry_purchases` (`event_id`,`at`);