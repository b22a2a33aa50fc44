// Shared by the script tests that drive a real Worker from outside (a browser, a C# program): the Worker served by
// the bench's harness (deploy bundle, fresh local D1, free port), the dev secrets it runs with, and a live event with
// one milestone, made through the admin API as ops would.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { startServer } from "../../bench/server.mjs";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** .dev.vars.example's values, quotes removed: what `npm start` would run with. */
export const devSecrets = Object.fromEntries(
  readFileSync(join(root, ".dev.vars.example"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^'(.*)'$/, "$1")]),
);

export function startWorker({ vars = {}, preferredPort }) {
  const logs = [];
  return startServer({ root, vars, secrets: devSecrets, preferredPort, log: (m) => logs.push(m) });
}

export const playerToken = (sub) =>
  new SignJWT({ lvl: 5 })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(devSecrets.PLAYER_TOKEN_SECRET));

/** An event running now whose objective `pts` has target 10 and whose milestone 0 unlocks at 5. Returns its id. */
export async function liveEvent(baseUrl) {
  const admin = async (path, body) => {
    const r = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${devSecrets.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const templateId = `outside-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await admin("/v1/admin/templates", {
    templateId,
    type: "seasonal",
    tier: "mini",
    name: "Outside Cup",
    description: "Points from a client outside the Worker",
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: [{ index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "coins", type: "currency", itemId: "coins", quantity: 100 }] }],
  });
  const event = await admin("/v1/admin/events", { templateId, startTime: "now", endTime: new Date(Date.now() + 3_600_000).toISOString() });
  return event.eventId;
}
