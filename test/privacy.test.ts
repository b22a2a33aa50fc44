// Privacy through the real runtime: a player's export gathers their rows from D1 and every object that holds them
// (progress shard, board, clan, inventory); erasure is a job on the player's privacy object that deletes or
// anonymizes each, survives an eviction mid-way, and repeats harmlessly; an export after it is empty.
import { env, evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { shardName, shardOf } from "../src/domain/sharding";
import { pseudonym } from "../src/lib/pseudonym";
import { HOUR, apiKey, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { arenaEvent, coins, post, until } from "./leaderboard-helpers";
import { claim, clearAlarms, settle } from "./rewards-helpers";

const OBJECTIVES = [
  { objectiveId: "boss-damage", description: "Damage the raid boss", type: "collect", targetValue: 100, trackingKey: "raid.damage" },
  { objectiveId: "wins", description: "Win matches", type: "collect", targetValue: 10, trackingKey: "arena.wins" },
];
const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});

/** An event with a global board (wins) and clans (boss damage), two shards. */
async function privacyEvent() {
  const t = await createTemplate({
    type: "competitive",
    objectives: OBJECTIVES,
    milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(5) }],
    leaderboard: { source: { kind: "trackingKey", trackingKey: "arena.wins" } },
    clan: { objectiveIds: ["boss-damage"], milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(50), unlockMessage: "Halfway" }] },
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
  made.push({ eventId: e.eventId, shardCount: 2 });
  return e.eventId as string;
}

/** A player who played: board entry, clan contribution, a claimed milestone (ledger + D1 claim + feed row), drained to D1. */
async function played(eventId: string, playerId: string, wins: number) {
  const w = await post(eventId, playerId, "wins", wins, { clan: "red" });
  expect(w.status).toBe(200);
  expect((await post(eventId, playerId, "boss-damage", 90, { clan: "red" })).status).toBe(200);
  const token = await playerToken(playerId, { clan: "red" });
  const claimed = await claim(eventId, token, 0, `k-${playerId}`);
  expect(claimed.status, JSON.stringify(claimed.json)).toBe(201);
  await until(() => call("GET", `/v1/admin/events/${eventId}/clans/red`), (r) => r.json.members?.some((m: { playerId: string }) => m.playerId === playerId));
  await until(() => call("GET", `/v1/events/${eventId}/leaderboard`, { token }), (r) => r.json.entries?.some((e: { playerId: string }) => e.playerId === playerId));
  await settle(eventId, 2);
}

const exportOf = (playerId: string) => call("POST", `/v1/admin/players/${playerId}/export`, { body: { reason: "GDPR access request 42" } });
const erase = (playerId: string, reason = "GDPR erasure request 42") => call("POST", `/v1/admin/players/${playerId}/erase`, { body: { reason } });
const job = (jobId: string) => call("GET", `/v1/admin/privacy/jobs/${jobId}`);
const doneJob = async (jobId: string) => (await until(() => job(jobId), (r) => r.json.state === "done", 5000)).value.json;
const privacyStub = async (playerId: string) => env.PRIVACY_ACTOR.get(env.PRIVACY_ACTOR.idFromName(await pseudonym(env.PRIVACY_SALT, playerId)));
const nonEmpty = (data: Record<string, unknown[]>) => Object.keys(data).filter((k) => data[k].length > 0);

describe("export, erase, export again", () => {
  it("exports every source's rows, erases them as a job (deleted or anonymized), and the next export is empty", async () => {
    const eventId = await privacyEvent();
    await played(eventId, "priv-ann", 7);
    await played(eventId, "priv-bob", 5);
    const shard = shardName(eventId, shardOf("priv-ann", 2));

    const before = await exportOf("priv-ann");
    expect(before.status).toBe(200);
    expect(before.json).toMatchObject({ playerId: "priv-ann", empty: false });
    const data = before.json.data;
    expect(data["d1/player_progress"]).toHaveLength(1);
    expect(data["d1/rewards_claimed"]).toMatchObject([{ player_id: "priv-ann", milestone_index: 0 }]);
    expect(data["d1/reward_ledger"]).toHaveLength(1);
    expect(data["d1/notification_queue"].length).toBeGreaterThan(0);
    expect(data[`shards/${shard}/progress`]).toMatchObject([{ player_id: "priv-ann" }]);
    expect(data[`shards/${shard}/claims`]).toHaveLength(1);
    expect(data[`boards/${eventId}|global/entries`]).toMatchObject([{ player_id: "priv-ann", score: 7 }]);
    expect(data[`clans/${eventId}|c:red/member`]).toMatchObject([{ player_id: "priv-ann", contribution: 90 }]);
    expect(data["inventory/ledger"]).toHaveLength(1);
    // nobody else's rows: every row found names the player (or is theirs by object)
    expect(JSON.stringify(data)).not.toContain("priv-bob");

    const clanBefore = (await call("GET", `/v1/admin/events/${eventId}/clans/red`)).json;
    const started = await erase("priv-ann");
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ run: 1, requestedBy: "bootstrap", reason: "GDPR erasure request 42" });
    expect(started.json.jobId).toMatch(/^erase_[0-9a-f]{32}$/);
    const done = await doneJob(started.json.jobId);
    expect(done.steps.map((s: { step: string }) => s.step)).toEqual(["locate", "shards", "boards", "clans", "inventory", "d1"]);
    expect(done.touched).toMatchObject({
      "locate.events": 1,
      "shards.progress": 1,
      "shards.claims": 1,
      "boards.entries": 1,
      "clans.member": 1,
      "inventory.ledger": 1,
      "d1.player_progress": 1,
      "d1.rewards_claimed": 1,
      "d1.reward_ledger": 1,
    });
    expect(done.finishedAt).not.toBeNull();
    // the job names the pseudonym, never the player
    expect(JSON.stringify(done)).not.toContain("priv-ann");

    const after = await exportOf("priv-ann");
    expect(after.json.empty).toBe(true);
    expect(nonEmpty(after.json.data)).toEqual([]);

    // The board ranks without them; the clan keeps their contribution under the pseudonym; D1 keeps the claim for accounting.
    const anon = await pseudonym(env.PRIVACY_SALT, "priv-ann");
    expect(done.pseudonym).toBe(anon);
    const board = await call("GET", `/v1/events/${eventId}/leaderboard`, { token: await playerToken("priv-bob") });
    expect(board.json.entries.map((e: { playerId: string }) => e.playerId)).toEqual(["priv-bob"]);
    const clanAfter = (await call("GET", `/v1/admin/events/${eventId}/clans/red`)).json;
    expect(clanAfter.total).toBe(clanBefore.total);
    expect(clanAfter.members.map((m: { playerId: string }) => m.playerId).sort()).toEqual([anon, "priv-bob"].sort());
    const kept = await env.DB.prepare("SELECT player_id, signature FROM rewards_claimed WHERE event_id = ? ORDER BY player_id").bind(eventId).all<{ player_id: string; signature: string }>();
    expect(kept.results).toEqual([{ player_id: anon, signature: "" }, expect.objectContaining({ player_id: "priv-bob" })]);
    // bob is untouched
    expect((await exportOf("priv-bob")).json.data[`boards/${eventId}|global/entries`]).toHaveLength(1);
  });

  it("a repeated erase runs again, touches nothing, and both requests are in the audit log", async () => {
    const eventId = await privacyEvent();
    await played(eventId, "priv-cat", 6);
    const first = await doneJob((await erase("priv-cat")).json.jobId);
    expect(first.touched["shards.progress"]).toBe(1);
    const again = await erase("priv-cat", "asked twice");
    expect(again.status).toBe(202);
    expect(again.json.jobId).toBe(first.jobId);
    const second = await doneJob(again.json.jobId);
    expect(second.run).toBe(2);
    expect(Object.values(second.touched).every((n) => n === 0)).toBe(true);
    expect(second.audit.map((a: { action: string; reason: string }) => [a.action, a.reason])).toEqual([
      ["erase", "GDPR erasure request 42"],
      ["erase", "asked twice"],
    ]);
    expect((await exportOf("priv-cat")).json.empty).toBe(true);
  });
});

describe("telemetry", () => {
  it("is in the export, and an erase keeps it under the pseudonym so reported counts stay", async () => {
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const sessions = [{ id: `s-${crypto.randomUUID()}`, playerId: "priv-tel", start, durationSec: 600, platform: "ios" }];
    const purchases = [{ id: `p-${crypto.randomUUID()}`, playerId: "priv-tel", amount: 4.99, currency: "USD", sku: "gems.small" }];
    expect((await call("POST", "/v1/telemetry/sessions", { body: { sessions } })).status).toBe(200);
    expect((await call("POST", "/v1/telemetry/purchases", { body: { purchases } })).status).toBe(200);
    const before = await exportOf("priv-tel");
    expect(before.json.data["d1/telemetry_sessions"]).toMatchObject([{ session_id: sessions[0].id, player_id: "priv-tel" }]);
    expect(before.json.data["d1/telemetry_purchases"]).toMatchObject([{ purchase_id: purchases[0].id, amount: 4.99 }]);
    const job = await doneJob((await erase("priv-tel")).json.jobId);
    expect(job.touched).toMatchObject({ "d1.telemetry_sessions": 1, "d1.telemetry_purchases": 1 });
    expect((await exportOf("priv-tel")).json.empty).toBe(true);
    const anon = await pseudonym("test-privacy-salt", "priv-tel");
    const kept = await env.DB.prepare("SELECT player_id FROM telemetry_sessions WHERE session_id = ?").bind(sessions[0].id).first<{ player_id: string }>();
    expect(kept?.player_id).toBe(anon);
  });
});

describe("a finalized board", () => {
  it("keeps the final standing under the pseudonym (others keep their ranks), and drops the cohort assignment", async () => {
    const e = await arenaEvent({ cohortSize: 2, rewardTiers: [{ fromRank: 1, toRank: 2, rewards: coins(10) }] });
    made.push({ eventId: e.eventId, shardCount: 2 });
    for (const [p, w] of [["priv-g1", 30], ["priv-g2", 20]] as const) expect((await post(e.eventId, p, "wins", w)).status).toBe(200);
    await until(() => call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`), (r) => r.json.cohorts?.[0]?.members === 2);
    await new Promise((r) => setTimeout(r, 400)); // the shards' pushes
    expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: { reason: "test" } })).status).toBe(200);
    const standings = () => env.DB.prepare("SELECT player_id, rank FROM leaderboard_standings WHERE event_id = ? ORDER BY rank").bind(e.eventId).all<{ player_id: string; rank: number }>();
    await until(standings, (r) => r.results.length === 2);
    await settle(e.eventId, 2);
    const before = (await exportOf("priv-g1")).json.data;
    expect(before[`boards/${e.eventId}|all-0/standings`]).toMatchObject([{ player_id: "priv-g1", rank: 1 }]);
    expect(before[`boards/${e.eventId}|~directory/cohortAssignment`]).toMatchObject([{ player_id: "priv-g1", cohort_id: "all-0" }]);
    expect(before["d1/leaderboard_standings"]).toHaveLength(1);

    const done = await doneJob((await erase("priv-g1")).json.jobId);
    expect(done.touched).toMatchObject({ "boards.standings": 1, "boards.cohortAssignment": 1, "d1.leaderboard_standings": 1 });
    const anon = await pseudonym(env.PRIVACY_SALT, "priv-g1");
    expect((await standings()).results).toEqual([{ player_id: anon, rank: 1 }, { player_id: "priv-g2", rank: 2 }]);
    const final = await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/final`);
    expect(final.json.standings.map((r: { playerId: string; rank: number }) => [r.playerId, r.rank])).toEqual([[anon, 1], ["priv-g2", 2]]);
    expect((await exportOf("priv-g1")).json.empty).toBe(true);
  });
});

describe("an erase job across a restart", () => {
  it("resumes where it stopped after the object is evicted with its alarm lost", async () => {
    const eventId = await privacyEvent();
    await played(eventId, "priv-dan", 8);
    const stub = await privacyStub("priv-dan");
    // Start the job and cut it off after its first step, as a crash would: the alarm that would run the rest is gone.
    const started = await runInDurableObject(stub, async (o, s) => {
      const view = await o.erase("priv-dan", { actor: "test", reason: "restart" });
      await s.storage.deleteAlarm();
      return view;
    });
    expect(started.state).toBe("running");
    expect(started.steps.filter((s: { state: string }) => s.state === "pending").length).toBeGreaterThan(0);
    await evictDurableObject(stub);
    // Woken again (any request will do), the object finds its booked step and rings its alarm for it.
    const done = await doneJob(started.jobId);
    expect(done.touched).toMatchObject({ "shards.progress": 1, "boards.entries": 1, "d1.player_progress": 1 });
    expect((await exportOf("priv-dan")).json.empty).toBe(true);
  });
});

describe("a failing step", () => {
  it("is retried with backoff where it stopped, its error and attempts in the job, until it succeeds", async () => {
    const eventId = await privacyEvent();
    await played(eventId, "priv-hal", 5);
    // D1 refuses the erase (a table it writes is gone) until the test puts it back.
    await env.DB.exec("ALTER TABLE notification_interactions RENAME TO interactions_away");
    let jobId = "";
    try {
      jobId = (await erase("priv-hal")).json.jobId;
      const failing = await until(() => job(jobId), (r) => r.json.steps?.find((s: { step: string }) => s.step === "d1")?.error !== null && r.json.steps.at(-1).attempts >= 1, 5000);
      expect(failing.value.json.state).toBe("running");
      expect(failing.value.json.steps.at(-1).error).toMatch(/notification_interactions/);
      // the steps before it are done and stay done
      expect(failing.value.json.steps.filter((s: { state: string }) => s.state === "done").map((s: { step: string }) => s.step)).toEqual(["locate", "shards", "boards", "clans", "inventory"]);
    } finally {
      await env.DB.exec("ALTER TABLE interactions_away RENAME TO notification_interactions");
    }
    const done = await doneJob(jobId);
    expect(done.touched).toMatchObject({ "shards.progress": 1, "d1.player_progress": 1 });
    expect(done.steps.at(-1)).toMatchObject({ step: "d1", state: "done", error: null });
    expect((await exportOf("priv-hal")).json.empty).toBe(true);
  }, 20_000);
});

describe("who may ask, and bad input", () => {
  it("needs an admin: viewers and operators are 403, player tokens too", async () => {
    for (const role of ["viewer", "operator"] as const) {
      const { key } = await apiKey({ name: `priv-${role}`, role });
      for (const [method, path] of [["POST", "/v1/admin/players/p1/export"], ["POST", "/v1/admin/players/p1/erase"], ["GET", "/v1/admin/privacy/jobs/erase_0123456789abcdef0123456789abcdef"]]) {
        const r = await call(method, path, { token: key, body: method === "POST" ? { reason: "x" } : undefined });
        expect(r.status, `${role} ${path}`).toBe(403);
        expect(r.json.error).toMatchObject({ code: "forbidden", details: { required: "admin" } });
      }
    }
    expect((await call("POST", "/v1/admin/players/p1/export", { token: await playerToken("p1") })).status).toBe(403);
  });

  it("refuses bad ids, a missing reason and unknown jobs with 4xx JSON", async () => {
    const long = "x".repeat(65);
    expect((await call("POST", `/v1/admin/players/${long}/export`)).json.error.code).toBe("validation_failed");
    const noReason = await call("POST", "/v1/admin/players/p1/erase");
    expect(noReason.status).toBe(400);
    const blank = await call("POST", "/v1/admin/players/p1/erase", { body: { reason: " " } });
    expect(blank.status).toBe(422);
    expect(blank.json.error.details.fields[0].path).toBe("reason");
    const extra = await call("POST", "/v1/admin/players/p1/export", { body: { reason: "x", everything: true } });
    expect(extra.status).toBe(422);
    const badJob = await job("not-a-job");
    expect(badJob.status).toBe(400);
    expect(badJob.json.error.code).toBe("invalid_job_id");
    const unknown = await job("erase_0123456789abcdef0123456789abcdef");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("job_not_found");
  });
});

describe("a player's own export", () => {
  it("answers the caller's own rows and nobody else's", async () => {
    const eventId = await privacyEvent();
    await played(eventId, "priv-eve", 5);
    await played(eventId, "priv-fay", 6);
    const mine = await call("POST", "/v1/me/export", { token: await playerToken("priv-eve") });
    expect(mine.status).toBe(200);
    expect(mine.json.playerId).toBe("priv-eve");
    expect(mine.json.data["d1/player_progress"]).toMatchObject([{ player_id: "priv-eve", event_id: eventId }]);
    expect(JSON.stringify(mine.json.data)).not.toContain("priv-fay");
    expect((await call("POST", "/v1/me/export", { token: null })).status).toBe(401);
    // the request is in the player's audit log, as the player's own
    const audit = await runInDurableObject(await privacyStub("priv-eve"), (_o, s) => s.storage.sql.exec("SELECT actor, action FROM audit").toArray());
    expect(audit).toEqual([{ actor: "player", action: "export" }]);
  });

  it("is one a minute per player: a second at once is a 429 with Retry-After that records nothing, and ops' exports go on", async () => {
    const token = await playerToken("priv-gus");
    expect((await call("POST", "/v1/me/export", { token })).status).toBe(200);
    const again = await call("POST", "/v1/me/export", { token });
    expect(again.status).toBe(429);
    expect(again.json.error).toMatchObject({ code: "rate_limited", message: expect.stringContaining("one export a minute") });
    const wait = Number(again.headers.get("Retry-After"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(again.json.error.details).toEqual({ retryAfter: wait });
    // another player is not held back by gus's limit, nor is an operator's export of gus
    expect((await call("POST", "/v1/me/export", { token: await playerToken("priv-hal") })).status).toBe(200);
    expect((await exportOf("priv-gus")).status).toBe(200);
    const audit = await runInDurableObject(await privacyStub("priv-gus"), (_o, s) => s.storage.sql.exec("SELECT actor, action FROM audit ORDER BY seq").toArray());
    expect(audit).toEqual([{ actor: "player", action: "export" }, { actor: "bootstrap", action: "export" }]);
    // a minute later (the last export moved back in the object's own log) the player may export again
    await runInDurableObject(await privacyStub("priv-gus"), (_o, s) => s.storage.sql.exec("UPDATE audit SET at = at - 61000"));
    expect((await call("POST", "/v1/me/export", { token })).status).toBe(200);
  });
});

describe("a Worker without PRIVACY_SALT", () => {
  it("refuses privacy requests with 503 privacy_not_configured instead of using a public salt, and changes nothing", async () => {
    const { default: worker } = await import("../src/index");
    const bare = { ...env, PRIVACY_SALT: "" } as Env;
    const ask = (path: string, headers: Record<string, string>, body?: unknown) =>
      worker.fetch!(new Request(`https://x${path}`, { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) }) as never, bare, { waitUntil() {}, passThroughOnException() {}, props: {} } as never);
    const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
    for (const [path, headers, body] of [
      ["/v1/admin/players/priv-ida/erase", admin, { reason: "GDPR erasure" }],
      ["/v1/admin/players/priv-ida/export", admin, {}],
      ["/v1/me/export", { Authorization: `Bearer ${await playerToken("priv-ida")}` }, undefined],
    ] as const) {
      const res = await ask(path, headers, body);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: "privacy_not_configured", message: expect.stringContaining("PRIVACY_SALT") } });
    }
    // nothing was asked of the player's privacy object: its audit log is empty
    const audit = await runInDurableObject(await privacyStub("priv-ida"), (_o, s) => s.storage.sql.exec("SELECT count(*) AS n FROM audit").one().n);
    expect(audit).toBe(0);
  });
});
