-- progress_flags: one row per refused update becomes one row per (event, player, objective, reason) with a count, so a
-- player sending implausible updates cannot write D1 rows without bound. Existing rows are aggregated, not dropped:
-- free-text reasons map to the codes the shards now record (text matching none is kept as it is), flags for an
-- objective id the event never had are counted under "*" (as the shards now do), and each group keeps its first and
-- last time and its most recent amount and reason text as the sample. shard_total starts at 0: the owning shard's
-- own total, added on top of what is carried over here.
CREATE TABLE `progress_flags_v2` (
	`event_id` text NOT NULL,
	`player_id` text NOT NULL,
	`objective_id` text NOT NULL,
	`reason` text NOT NULL,
	`count` integer NOT NULL,
	`shard_total` integer DEFAULT 0 NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`sample_amount` text NOT NULL,
	`sample_detail` text NOT NULL,
	PRIMARY KEY(`event_id`, `player_id`, `objective_id`, `reason`)
);
--> statement-breakpoint
INSERT INTO `progress_flags_v2` (`event_id`, `player_id`, `objective_id`, `reason`, `count`, `shard_total`, `first_seen`, `last_seen`, `sample_amount`, `sample_detail`)
SELECT `event_id`, `player_id`, `objective_id`, `code`, `n`, 0, `first_at`, `at`, `amount`, `reason`
FROM (
	SELECT `event_id`, `player_id`, `objective_id`, `code`, `amount`, `reason`, `at`,
		COUNT(*) OVER `grp` AS `n`,
		MIN(`at`) OVER `grp` AS `first_at`,
		ROW_NUMBER() OVER (PARTITION BY `event_id`, `player_id`, `objective_id`, `code` ORDER BY `at` DESC, `flag_id` DESC) AS `latest`
	FROM (
		SELECT `flag_id`, `event_id`, `player_id`, `amount`, `reason`, `at`, `code`,
			CASE WHEN `code` = 'unknown_objective' THEN '*' ELSE `objective_id` END AS `objective_id`
		FROM (
			SELECT *,
				CASE
					WHEN `reason` LIKE 'seq must be%' THEN 'invalid_seq'
					WHEN `reason` LIKE 'unknown objective%' THEN 'unknown_objective'
					WHEN `reason` LIKE 'amount must be a finite number%' THEN 'not_a_number'
					WHEN `reason` LIKE 'amount must be greater than 0%' THEN 'not_positive'
					WHEN `reason` LIKE 'amount % exceeds the maximum of %' THEN 'too_large'
					WHEN `reason` LIKE '% exceeds maxPerUpdate %' THEN 'max_per_update'
					WHEN `reason` LIKE 'would make % in the last minute %' THEN 'max_per_minute'
					ELSE `reason`
				END AS `code`
			FROM `progress_flags`
		)
	)
	WINDOW `grp` AS (PARTITION BY `event_id`, `player_id`, `objective_id`, `code`)
)
WHERE `latest` = 1;
--> statement-breakpoint
DROP TABLE `progress_flags`;
--> statement-breakpoint
ALTER TABLE `progress_flags_v2` RENAME TO `progress_flags`;
--> statement-breakpoint
CREATE INDEX `idx_flags_event` ON `progress_flags` (`event_id`,`last_seen`);
--> statement-breakpoint
CREATE INDEX `idx_flags_player` ON `progress_flags` (`player_id`,`last_seen`);
