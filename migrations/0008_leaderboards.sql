-- leaderboard_standings: final standings of every finalized board (the board object projects them; src/db/leaderboards.ts).
-- leaderboard_tiers: each player's tier per series (template + board key), moved by their final rank.
-- templates.leaderboard: the board definition events from the template rank players by.
CREATE TABLE `leaderboard_standings` (
	`event_id` text NOT NULL,
	`player_id` text NOT NULL,
	`cohort_id` text NOT NULL,
	`rank` integer NOT NULL,
	`score` real NOT NULL,
	`reached_at` integer NOT NULL,
	`reward_tier` integer NOT NULL,
	`held` integer DEFAULT false NOT NULL,
	`digest` text NOT NULL,
	`finalized_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `player_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_standings_cohort` ON `leaderboard_standings` (`event_id`,`cohort_id`,`rank`);--> statement-breakpoint
CREATE TABLE `leaderboard_tiers` (
	`series_key` text NOT NULL,
	`player_id` text NOT NULL,
	`tier` text NOT NULL,
	`event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`series_key`, `player_id`)
);
--> statement-breakpoint
ALTER TABLE `templates` ADD `leaderboard` text;