import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");
const secrets = {
  TEST_MIGRATIONS: migrations,
  ADMIN_TOKEN: "test-admin-token",
  PLAYER_TOKEN_SECRET: "test-player-secret",
  CALENDAR_FEED_TOKEN: "test-calendar-feed-token",
  REWARD_SIGNING_SECRET: "test-reward-secret",
  INVENTORY_WEBHOOK_SECRET: "test-webhook-secret",
  PUSH_WEBHOOK_SECRET: "test-webhook-secret",
};
const WEBHOOK_TESTS = ["test/rewards-webhook.test.ts", "test/push-webhook.test.ts"];

// Two projects, because the inventory hand-off mode is deployment configuration: the main suite runs with the
// built-in ledger (and a small capacity, so "inventory full" is reachable), the webhook suite against a real HTTP
// server that test/webhook-server.ts starts on 127.0.0.1.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Two allowed origins for test/http-edge.test.ts; requests without an Origin header see no difference.
            miniflare: { bindings: { ...secrets, INVENTORY_CAPACITY_SLOTS: "5", CORS_ORIGINS: "https://game.example, https://beta.game.example" } },
          }),
        ],
        test: { name: "workers", setupFiles: ["./test/setup.ts"], include: ["src/**/*.test.ts", "test/**/*.test.ts"], exclude: WEBHOOK_TESTS },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...secrets,
                INVENTORY_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/inventory`,
                PUSH_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/push`,
              },
            },
          })),
        ],
        test: { name: "webhook", globalSetup: ["./test/webhook-server.ts"], setupFiles: ["./test/setup.ts"], include: WEBHOOK_TESTS },
      },
    ],
  },
});
