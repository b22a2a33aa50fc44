import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          ADMIN_TOKEN: "test-admin-token",
          PLAYER_TOKEN_SECRET: "test-player-secret",
          CALENDAR_FEED_TOKEN: "test-calendar-feed-token",
          REWARD_SIGNING_SECRET: "test-reward-secret",
          INVENTORY_WEBHOOK_SECRET: "test-webhook-secret",
        },
      },
    })),
  ],
  test: {
    setupFiles: ["./test/setup.ts"],
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
