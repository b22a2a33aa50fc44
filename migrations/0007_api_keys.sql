-- api_keys: per-operator and server-to-server API keys, stored as SHA-256 hashes (src/db/api-keys.ts writes it).
-- idempotency_keys: Idempotency-Key of admin creates, per operator key, kept 24 h (src/db/idempotency.ts writes it).
CREATE TABLE `api_keys` (
	`key_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`role` text,
	`scopes` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`revoked_at` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE INDEX `idx_api_keys_created` ON `api_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`route` text NOT NULL,
	`body_hash` text NOT NULL,
	`status` integer,
	`response` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idx_idempotency_created` ON `idempotency_keys` (`created_at`);