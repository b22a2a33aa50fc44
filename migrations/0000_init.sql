CREATE TABLE `event_transitions` (
	`event_id` text NOT NULL,
	`seq` integer NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`at` integer NOT NULL,
	`cause` text NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	PRIMARY KEY(`event_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `idx_transitions_at` ON `event_transitions` (`at`);--> statement-breakpoint
CREATE TABLE `instances` (
	`event_id` text PRIMARY KEY NOT NULL,
	`template_id` text NOT NULL,
	`template_version` integer NOT NULL,
	`event_type` text NOT NULL,
	`tier` text NOT NULL,
	`state` text NOT NULL,
	`custom_name` text NOT NULL,
	`custom_description` text NOT NULL,
	`theme_override` text NOT NULL,
	`objectives` text NOT NULL,
	`milestones` text NOT NULL,
	`reward_pool` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`minimum_player_level` integer NOT NULL,
	`participant_count` integer DEFAULT 0 NOT NULL,
	`completion_count` integer DEFAULT 0 NOT NULL,
	`leaderboard_id` text,
	`eligible_clan_ids` text NOT NULL,
	`document` text NOT NULL,
	`revision` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`template_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_instances_state_time` ON `instances` (`state`,`start_time`,`end_time`);--> statement-breakpoint
CREATE INDEX `idx_instances_template` ON `instances` (`template_id`);--> statement-breakpoint
CREATE INDEX `idx_instances_start` ON `instances` (`start_time`,`event_id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `templates` (
	`template_id` text PRIMARY KEY NOT NULL,
	`event_type` text NOT NULL,
	`tier` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`objectives` text NOT NULL,
	`milestones` text NOT NULL,
	`progression_mechanics` text,
	`theme_config` text NOT NULL,
	`ui_layout_config` text NOT NULL,
	`requires_leaderboard` integer DEFAULT false NOT NULL,
	`requires_clan` integer DEFAULT false NOT NULL,
	`minimum_player_level` integer DEFAULT 1 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`usage_count` integer DEFAULT 0 NOT NULL,
	`average_engagement_score` real,
	`last_used` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_templates_type` ON `templates` (`event_type`,`tier`);--> statement-breakpoint
CREATE INDEX `idx_templates_usage` ON `templates` (`usage_count`,`average_engagement_score`);