import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { ALERTS_SECRET, INVENTORY_SECRET_NEW, INVENTORY_SECRET_OLD, PUSH_SECRET, REPORTS_SECRET } from "./test/webhook-secrets.ts";

const migrations = await readD1Migrations("./migrations");
const secrets = {
  TEST_MIGRATIONS: migrations,
  ADMIN_TOKEN: "test-admin-token",
  PLAYER_TOKEN_SECRET: "test-player-secret",
  CALENDAR_FEED_TOKEN: "test-calendar-feed-token",
  REWARD_SIGNING_SECRET: "test-reward-secret",
  // Test-only keys, as during a rotation: the Ed25519 key signs, the older P-256 one is still published.
  RECEIPT_SIGNING_KEY: JSON.stringify([
    { crv: "Ed25519", d: "aS9bgCSQMUmHUuIv93NTnSIzWbda134zzrvI_YN6gfs", x: "Qu44KLFqU_QtURneIfjyUO2Oh_IRfXtp419cAvbNePg", kty: "OKP", kid: "test-receipts-1", alg: "EdDSA", use: "sig" },
    { kty: "EC", crv: "P-256", x: "Wz0ozsfa6CnGtF195BRisJpo4snW8ZTMJsiFlySTZMM", y: "uwJenWIsiG1ut1kjf-e75YKDkT_cFlXWM_b2qMmYfr0", d: "qYqijauIopK2HzXaV47x1WcVJaf_eIctlJbC-_IwVy8", kid: "test-receipts-0", alg: "ES256", use: "sig" },
  ]),
  // Newest first, as during a rotation: every delivery carries a signature for each.
  INVENTORY_WEBHOOK_SECRET: `${INVENTORY_SECRET_NEW} ${INVENTORY_SECRET_OLD}`,
  PUSH_WEBHOOK_SECRET: PUSH_SECRET,
  PRIVACY_SALT: "test-privacy-salt",
  REPORTS_WEBHOOK_SECRET: REPORTS_SECRET,
  ALERTS_WEBHOOK_SECRET: ALERTS_SECRET,
};
const WEBHOOK_TESTS = ["test/rewards-webhook.test.ts", "test/push-webhook.test.ts", "test/local-time-push.test.ts", "test/analytics-report.test.ts", "test/alerts-webhook.test.ts"];
const JWT_TESTS = ["test/player-jwt.test.ts"];

/**
 * One vitest project: the Worker under wrangler.toml with the shared secrets plus `bindings`, which may read values
 * that the project's globalSetup provides (the ports of the servers it starts in Node).
 */
function project(name: string, bindings: (inject: <T>(key: string) => T) => Record<string, string>, test: { include: string[]; exclude?: string[]; globalSetup?: string[] }) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ...secrets, ...bindings(inject as <T>(key: string) => T) } },
      })),
    ],
    // Tests drive real objects, D1 and sockets: seconds alone, several times that on a machine shared with other
    // test processes. A generous ceiling keeps a slow machine from failing a correct test; none waits on it.
    test: { name, setupFiles: ["./test/setup.ts"], testTimeout: 20_000, ...test },
  };
}

// Three projects, because these are deployment configuration: the main suite runs with the built-in ledger (and a
// small capacity, so "inventory full" is reachable) and plain HS256 player tokens; the webhook suite against a real
// HTTP server that test/webhook-server.ts starts on 127.0.0.1; the player-JWT suite with issuer, audience, kid-keyed
// HS256 keys and a JWKS served by test/jwks-server.ts (a Firebase-style setup).
export default defineConfig({
  test: {
    projects: [
      project(
        "workers",
        // Two allowed origins for test/http-edge.test.ts; requests without an Origin header see no difference.
        () => ({ INVENTORY_CAPACITY_SLOTS: "5", CORS_ORIGINS: "https://game.example, https://beta.game.example" }),
        { include: ["src/**/*.test.ts", "test/**/*.test.ts"], exclude: [...WEBHOOK_TESTS, ...JWT_TESTS] },
      ),
      project(
        "webhook",
        (inject) => ({
          INVENTORY_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/inventory`,
          PUSH_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/push`,
          REPORTS_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/reports`,
          ALERTS_WEBHOOK_URL: `http://127.0.0.1:${inject<number>("webhookPort")}/alerts`,
        }),
        { globalSetup: ["./test/webhook-server.ts"], include: WEBHOOK_TESTS },
      ),
      project(
        "jwt",
        (inject) => ({
          PLAYER_JWKS_URL: `http://127.0.0.1:${inject<number>("idpPort")}/jwks.json`,
          PLAYER_JWT_ISSUER: "https://securetoken.google.com/demo-game",
          PLAYER_JWT_AUDIENCE: "demo-game",
          PLAYER_JWT_HS256_KEYS: JSON.stringify({ "2025-a": "hs-key-a", "2025-b": "hs-key-b" }),
          // Short, so the suite can watch a rotated-in key get picked up; production keeps the 30 s default.
          PLAYER_JWKS_COOLDOWN_SECONDS: "1",
        }),
        { globalSetup: ["./test/jwks-server.ts"], include: JWT_TESTS },
      ),
    ],
  },
});
