-- clan_standings: a cooperative event's final clan standings (its clan leaderboard), written once by the clan directory.
CREATE TABLE `clan_standings` (
	`event_id` text NOT NULL,
	`clan_id` text NOT NULL,
	`rank` integer NOT NULL,
	`total` real NOT NULL,
	`reached_at` integer NOT NULL,
	`members` integer NOT NULL,
	`reward_tier` integer NOT NULL,
	`digest` text NOT NULL,
	`finalized_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `clan_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_clan_standings_rank` ON `clan_standings` (`event_id`,`rank`);