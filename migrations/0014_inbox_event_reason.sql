-- Alerts fix: the reward-error rule counts an event's recent delivery_failed inbox items every minute; without
-- this index that was a scan of the whole inbox.
CREATE INDEX `idx_inbox_event_reason` ON `inbox_items` (`event_id`,`reason`,`arrived_at`);