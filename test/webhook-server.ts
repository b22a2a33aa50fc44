// A real HTTP inventory service on 127.0.0.1 for the webhook tests (runs in Node, as vitest globalSetup).
// Its answer depends on the player id, so one server can play every case:
//   full-*  → 507 (inventory full)     down-*  → 503 always
//   flaky-* → 503 the first time a key is seen, 200 after      anything else → 200
// and, on /push, a push provider: 503 when the title contains "FAILPUSH", else 200; on /legacy, a receiver written
// against the old X-Live-Events-* headers; on /reports, the event reports receiver: 503 the first time it sees a
// delivery id, 200 after (so every report delivery is seen to be retried); on /alerts, the alerts receiver, the same.
// Every request is verified as a Standard Webhooks receiver would, with the `standardwebhooks` package's
// Webhook.verify: /inventory with the new secret AND, as a receiver not yet rotated, with the old one. A delivery
// that fails any check is answered 401 and recorded; GET /__received returns the log, GET /__failures the failures.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { Webhook } from "standardwebhooks";
import type { TestProject } from "vitest/node";
import { ALERTS_SECRET, INVENTORY_SECRET_NEW, INVENTORY_SECRET_OLD, LEGACY_SECRET, PUSH_SECRET, REPORTS_SECRET } from "./webhook-secrets";

const VERIFIERS: Record<string, [string, Webhook][]> = {
  "/inventory": [
    ["new secret", new Webhook(INVENTORY_SECRET_NEW)],
    ["old secret", new Webhook(INVENTORY_SECRET_OLD)],
  ],
  "/push": [["push secret", new Webhook(PUSH_SECRET)]],
  "/reports": [["reports secret", new Webhook(REPORTS_SECRET)]],
  "/alerts": [["alerts secret", new Webhook(ALERTS_SECRET)]],
  "/legacy": [["raw secret", new Webhook(LEGACY_SECRET, { format: "raw" })]],
};

/** The old scheme: hex HMAC-SHA256 of "<timestamp>.<body>" with the raw secret. */
function legacyValid(headers: IncomingHttpHeaders, body: string): boolean {
  const ts = String(headers["x-live-events-timestamp"] ?? "");
  const sig = String(headers["x-live-events-signature"] ?? "");
  const expected = createHmac("sha256", LEGACY_SECRET).update(`${ts}.${body}`).digest("hex");
  return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
}

/** Every reason this delivery fails verification; empty when it passes them all. */
function verify(path: string, headers: IncomingHttpHeaders, body: string): string[] {
  const verifiers = VERIFIERS[path];
  if (!verifiers) return [`no verifier for ${path}`];
  const problems: string[] = [];
  for (const [name, wh] of verifiers) {
    try {
      wh.verify(body, headers as Record<string, string>);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (headers["idempotency-key"] !== headers["webhook-id"]) problems.push("Idempotency-Key differs from webhook-id");
  if (path === "/legacy" && !legacyValid(headers, body)) problems.push("legacy X-Live-Events-Signature does not match");
  return problems;
}

export default async function setup(project: TestProject) {
  const received: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/__received" || req.url === "/__failures")) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(req.url === "/__received" ? received : failures));
      return;
    }
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const path = String(req.url);
      const problems = verify(path, req.headers, body);
      const verified = problems.length === 0;
      const parsed = JSON.parse(body || "{}");
      const key = String(req.headers["webhook-id"] ?? "");
      if (!verified) failures.push({ path, key, problems });
      const player = String(parsed.playerId ?? "");
      let status = 200;
      if (!verified) status = 401;
      else if (path === "/push") status = String(parsed.title ?? "").includes("FAILPUSH") ? 503 : 200;
      else if (path === "/reports" || path === "/alerts") status = seen.has(key) ? 200 : 503;
      else if (player.startsWith("full-")) status = 507;
      else if (player.startsWith("down-")) status = 503;
      else if (player.startsWith("flaky-") && !seen.has(key)) status = 503;
      seen.add(key);
      received.push({
        path,
        key,
        player,
        verified,
        status,
        timestamp: Number(req.headers["webhook-timestamp"]),
        signatures: String(req.headers["webhook-signature"] ?? "").split(" ").length,
        legacyHeaders: "x-live-events-signature" in req.headers,
        source: parsed.source,
        rewards: parsed.rewards,
        receipt: parsed.receipt,
        audience: parsed.audience,
        playerIds: parsed.playerIds,
        zones: parsed.zones,
        title: parsed.title,
        body: parsed.body,
        type: parsed.type,
        report: parsed.report,
        alert: parsed.alert,
      });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ ok: status === 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  project.provide("webhookPort", typeof address === "object" && address ? address.port : 0);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
