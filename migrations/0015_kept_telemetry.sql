-- What analytics keeps of telemetry before the purge takes it (issue 14, second reading): a long event's payers and
-- its active players (revenue, RPPU, conversion and the non-participants' retention group outlive raw telemetry), and
-- the watermark the purge never passes.
CREATE TABLE `event_active_players` (
	`event_id` text NOT NULL,
	`player_id` text NOT NULL,
	PRIMARY KEY(`event_id`, `player_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_event_active_player` ON `event_active_players` (`player_id`);--> statement-breakpoint
CREATE TABLE `event_payers` (
	`event_id` text NOT NULL,
	`player_id` text NOT NULL,
	`revenue` real NOT NULL,
	`purchases` integer NOT NULL,
	PRIMARY KEY(`event_id`, `player_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_event_payers_player` ON `event_payers` (`player_id`);--> statement-breakpoint
ALTER TABLE `event_analytics` ADD `kept_before` integer;