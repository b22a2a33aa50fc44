import { applyD1Migrations, env } from "cloudflare:test";

// Every test file starts from a migrated D1. Migrations are idempotent, so re-running per file is cheap.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
