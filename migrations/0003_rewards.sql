CREATE TABLE `inbox_items` (
	`item_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`event_id` text NOT NULL,
	`milestone_index` integer NOT NULL,
	`receipt_id` text NOT NULL,
	`rewards` text NOT NULL,
	`source` text NOT NULL,
	`reason` text NOT NULL,
	`status` text NOT NULL,
	`arrived_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`claimed_at` integer
);
--> statement-breakpoint
CREATE INDEX `idx_inbox_player` ON `inbox_items` (`player_id`,`status`);--> statement-breakpoint
CREATE TABLE `notification_queue` (
	`notification_id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`notification_type` text NOT NULL,
	`target_player_id` text,
	`scheduled_time` integer NOT NULL,
	`sent_at` integer,
	`status` text DEFAULT 'pending' NOT NULL,
	`payload` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_notifications_due` ON `notification_queue` (`status`,`scheduled_time`);--> statement-breakpoint
CREATE INDEX `idx_notifications_event` ON `notification_queue` (`event_id`,`notification_type`);--> statement-breakpoint
CREATE TABLE `reward_ledger` (
	`ledger_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`event_id` text NOT NULL,
	`milestone_index` integer NOT NULL,
	`source` text NOT NULL,
	`receipt_id` text NOT NULL,
	`rewards` text NOT NULL,
	`delivered_via` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_ledger_player` ON `reward_ledger` (`player_id`,`at`);--> statement-breakpoint
CREATE INDEX `idx_ledger_event` ON `reward_ledger` (`event_id`);--> statement-breakpoint
CREATE TABLE `rewards_claimed` (
	`claim_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`event_id` text NOT NULL,
	`milestone_index` integer NOT NULL,
	`rewards` text NOT NULL,
	`source` text NOT NULL,
	`signature` text NOT NULL,
	`claimed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_rewards_claimed` ON `rewards_claimed` (`player_id`,`event_id`,`milestone_index`);--> statement-breakpoint
CREATE INDEX `idx_player_claims` ON `rewards_claimed` (`player_id`,`event_id`);