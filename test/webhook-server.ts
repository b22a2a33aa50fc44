// A real HTTP inventory service on 127.0.0.1 for the webhook tests (runs in Node, as vitest globalSetup).
// Its answer depends on the player id, so one server can play every case:
//   full-*  → 507 (inventory full)     down-*  → 503 always
//   flaky-* → 503 the first time a key is seen, 200 after      anything else → 200
// and, on /push, a push provider: 503 when the title contains "FAILPUSH", else 200.
// Every request is checked against the HMAC signature and logged; GET /__received returns the log.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { TestProject } from "vitest/node";

const SECRET = "test-webhook-secret";

export default async function setup(project: TestProject) {
  const received: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/__received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received));
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const ts = String(req.headers["x-live-events-timestamp"] ?? "");
      const sig = String(req.headers["x-live-events-signature"] ?? "");
      const expected = createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex");
      const verified = sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
      const parsed = JSON.parse(body || "{}");
      const key = String(req.headers["idempotency-key"] ?? "");
      const player = String(parsed.playerId ?? "");
      let status = 200;
      if (!verified) status = 401;
      else if (req.url === "/push") status = String(parsed.title ?? "").includes("FAILPUSH") ? 503 : 200;
      else if (player.startsWith("full-")) status = 507;
      else if (player.startsWith("down-")) status = 503;
      else if (player.startsWith("flaky-") && !seen.has(key)) status = 503;
      seen.add(key);
      received.push({ path: req.url, key, player, verified, status, source: parsed.source, rewards: parsed.rewards, audience: parsed.audience, playerIds: parsed.playerIds });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ ok: status === 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  project.provide("webhookPort", typeof address === "object" && address ? address.port : 0);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
