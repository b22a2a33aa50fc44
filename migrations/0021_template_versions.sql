-- Template version history (issue 16, the console's templates library): every saved version of a template, with who saved it.
CREATE TABLE `template_versions` (
	`template_id` text NOT NULL,
	`version` integer NOT NULL,
	`document` text NOT NULL,
	`saved_at` integer NOT NULL,
	`saved_by` text NOT NULL,
	PRIMARY KEY(`template_id`, `version`)
);
--> statement-breakpoint
-- Templates saved before the history existed start it with their current version (who saved it is not known).
INSERT OR IGNORE INTO `template_versions` (`template_id`, `version`, `document`, `saved_at`, `saved_by`)
SELECT template_id, version, json_object('type', event_type, 'tier', tier, 'name', name, 'description', description,
  'objectives', json(objectives), 'milestones', json(milestones), 'progressionMechanics', progression_mechanics,
  'theme', json(theme_config), 'layout', json(ui_layout_config),
  'requiresLeaderboard', json(CASE WHEN requires_leaderboard THEN 'true' ELSE 'false' END), 'leaderboard', json(leaderboard),
  'requiresClan', json(CASE WHEN requires_clan THEN 'true' ELSE 'false' END), 'clan', json(clan),
  'minimumPlayerLevel', minimum_player_level, 'difficulty', difficulty, 'shardCount', shard_count, 'expectedParticipants', expected_participants,
  'averageEngagementScore', average_engagement_score), updated_at, 'unknown (before version history)'
FROM `templates`;
