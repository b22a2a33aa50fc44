// Personalization (issue 15) through the real runtime: the hourly job builds profiles from D1 (progress projections
// written as the shards would, telemetry through the ingest API), a game server posts needs, ops read the profile
// (admin only), players get their top 5 with the breakdown, the weights are settings, and privacy covers the profile.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { writeProfileWatermark } from "../src/db/settings";
import { MAX_CANDIDATES, recomputeProfiles } from "../src/db/profiles";
import { PROFILE_BATCH } from "../src/domain/personalization";
import { runProfiles } from "../src/jobs/profiles";
import { DAY, HOUR, apiKey, call, createEvent, createTemplate, inMs, playerToken, uniqueSlug } from "./helpers";

const tag = uniqueSlug("p15");
const NEED = `${tag}-sword`;
const ended: string[] = [];

/**
 * A progress row as a shard's drain would project it, synced a few minutes ago (past the job's settle margin): the
 * template's two objectives (100 snowflakes, 5 bosses) at `completion` of their targets unless `objectives` says.
 */
const progressRow = (eventId: string, playerId: string, completion: number, objectives?: Record<string, number>) => {
  const at = Date.now() - 5 * 60_000;
  const values = objectives ?? { snowflakes: 100 * completion, bosses: 5 * completion };
  return env.DB.prepare(
    `INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq, revision, is_synced, last_updated, created_at, synced_at)
     VALUES (?1 || ':' || ?2, ?2, ?1, ?5, '[]', ?3, 1, 1, 1, ?4, ?4, ?4)`,
  ).bind(eventId, playerId, completion, at, JSON.stringify(values));
};

async function endedEvent(type: string) {
  const t = await createTemplate({ type });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
  expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
  ended.push(e.eventId);
  return e.eventId as string;
}

const me = `${tag}-ace`;
const rival = (i: number) => `${tag}-r${i}`;

beforeAll(async () => {
  // Two ended competitive events: the player finished both, ahead of 9 rivals who got a quarter of the way.
  const a = await endedEvent("competitive");
  const b = await endedEvent("competitive");
  const c = await endedEvent("seasonal");
  const rows = [progressRow(a, me, 1), progressRow(b, me, 1), progressRow(c, me, 0.5)];
  for (let i = 0; i < 9; i++) rows.push(progressRow(a, rival(i), 0.25), progressRow(b, rival(i), 0.25));
  await env.DB.batch(rows);
  await env.DB.prepare(
    `INSERT INTO rewards_claimed (claim_id, player_id, event_id, milestone_index, rewards, source, signature, claimed_at) VALUES (?1, ?2, ?3, 0, '[]', 'claim', 'sig', ?4)`,
  )
    .bind(`${tag}-claim`, me, a, Date.now())
    .run();
  const start = new Date(Date.now() - 2 * DAY).toISOString();
  const sessions = [0, 1, 2, 3].map((i) => ({ id: `${tag}-s${i}`, playerId: me, start, durationSec: 1800 + i * 600, platform: "pc" }));
  expect((await call("POST", "/v1/telemetry/sessions", { body: { sessions } })).status).toBe(200);
  const purchases = [{ id: `${tag}-b1`, playerId: me, amount: 49.5, currency: "USD", sku: "gems" }];
  expect((await call("POST", "/v1/telemetry/purchases", { body: { purchases } })).status).toBe(200);
  // The ingest stamps received_at now: the job takes it once it is older than the settle margin.
  await env.DB.prepare("UPDATE telemetry_sessions SET received_at = received_at - 120000 WHERE session_id LIKE ?").bind(`${tag}-%`).run();
  await env.DB.prepare("UPDATE telemetry_purchases SET received_at = received_at - 120000 WHERE purchase_id LIKE ?").bind(`${tag}-%`).run();
  await runProfiles(env.DB, Date.now());
});

describe("the profile", () => {
  it("is recomputed from D1 by the hourly job: participation by type, claims, pace, sessions, spend", async () => {
    const res = await call("GET", `/v1/admin/players/${me}/profile`);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({
      playerId: me,
      level: null,
      participation: { competitive: { joined: 2, completed: 2 }, seasonal: { joined: 1, completed: 0 } },
      eventsJoined: 3,
      eventsCompleted: 2,
      claims: 1,
      sessionsPerDay: 2, // 4 sessions since 2 days ago
      avgSessionMinutes: 45, // (30 + 40 + 50 + 60) / 4
      spendTotal: 49.5,
      spendSegment: "dolphin",
      needs: null,
    });
    // Each competitive event: above all 9 rivals, alone in the top bucket → (9 + 0.5) / 10; seasonal: alone → 0.5.
    expect(res.json.pacePercentile).toBe(0.8);
    expect(res.json.skill).toBe(0.8);
    expect(res.json.computedAt).not.toBeNull();
    const rivalProfile = await call("GET", `/v1/admin/players/${rival(0)}/profile`);
    expect(rivalProfile.json.pacePercentile).toBe(0.45); // 9 in the same bucket: 0.5 × 9 / 10
  });

  it("the watermark moves on: a second run takes nothing already taken", async () => {
    const again = await runProfiles(env.DB, Date.now());
    const mine = await env.DB.prepare("SELECT COUNT(*) AS n FROM player_profiles WHERE player_id LIKE ?").bind(`${tag}-%`).first<{ n: number }>();
    expect(mine?.n).toBe(10);
    expect(again.upTo.at).toBeGreaterThan(0);
  });

  it("is an admin's: a viewer is refused, an unknown player is a 404, a bad id a 400", async () => {
    const viewer = await apiKey({ name: `${tag}-viewer`, role: "viewer" });
    expect((await call("GET", `/v1/admin/players/${me}/profile`, { token: viewer.key })).status).toBe(403);
    const none = await call("GET", `/v1/admin/players/${tag}-nobody/profile`);
    expect(none.status).toBe(404);
    expect(none.json.error.code).toBe("profile_not_found");
    expect((await call("GET", `/v1/admin/players/${"x".repeat(65)}/profile`)).status).toBe(400);
  });

  it("takes a game server's level and needs (profile:write or the admin token), refusing bad bodies and other scopes", async () => {
    const writer = await apiKey({ name: `${tag}-srv`, scopes: ["profile:write"] });
    const other = await apiKey({ name: `${tag}-srv2`, scopes: ["inventory:read"] });
    const path = `/v1/server/players/${me}/profile`;
    expect((await call("POST", path, { token: writer.key, body: { level: 40 } })).status).toBe(204);
    expect((await call("POST", path, { body: { needs: { itemIds: [NEED], rewardTypes: ["item"] } } })).status).toBe(204);
    const forbidden = await call("POST", path, { token: other.key, body: { level: 3 } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.details.required).toBe("profile:write");
    expect((await call("POST", path, { token: writer.key, body: {} })).status).toBe(422);
    expect((await call("POST", path, { token: writer.key, body: { needs: { rewardTypes: ["gold"] } } })).status).toBe(422);
    expect((await call("POST", path, { token: writer.key, body: { level: 0 } })).status).toBe(422);
    // The admin token reaches only the bootstrap scopes of the server app.
    expect((await call("GET", `/v1/server/players/${me}/inventory`)).status).toBe(401);
    const p = (await call("GET", `/v1/admin/players/${me}/profile`)).json;
    expect(p.level).toBe(40);
    expect(p.needs).toEqual({ itemIds: [NEED], rewardTypes: ["item"] });
    // skill: level part (40 − 1) / 49 = 0.7959, pace 0.8 → mean 0.798
    expect(p.skill).toBe(0.798);
    // A recomputation keeps what the server posted.
    await env.DB.prepare("UPDATE player_progress SET synced_at = ?1 WHERE player_id = ?2").bind(Date.now() - 90_000, me).run();
    await runProfiles(env.DB, Date.now());
    expect((await call("GET", `/v1/admin/players/${me}/profile`)).json).toMatchObject({ level: 40, needs: { itemIds: [NEED] }, eventsJoined: 3 });
  });
});

describe("participation's completed", () => {
  it("counts an event completed on the report's definition (≥ 75 % of required objectives, the event's own targets)", async () => {
    const p = `${tag}-adj`;
    const a = await endedEvent("cooperative");
    const b = await endedEvent("cooperative");
    const c = await endedEvent("cooperative");
    const d = await endedEvent("cooperative");
    await env.DB.batch([
      progressRow(d, p, 0.9, { snowflakes: 120, bosses: 5 }),
      // Adjusted: completion 1 of their own ×0.8 targets, short of the event's on both objectives.
      progressRow(a, p, 1, { snowflakes: 80, bosses: 4 }),
      // Both of 2 required objectives reached: completed, whatever the stored completion says.
      progressRow(b, p, 0.99, { snowflakes: 100, bosses: 5 }),
      // 1 of 2 is 50 %: not completed.
      progressRow(c, p, 0.5, { snowflakes: 100, bosses: 0 }),
    ]);
    const at = Date.now() - 5 * 60_000;
    await writeProfileWatermark(env.DB, { at: at - 60_000, player: null }, Date.now());
    await runProfiles(env.DB, Date.now());
    const profile = (await call("GET", `/v1/admin/players/${p}/profile`)).json;
    expect(profile.participation).toEqual({ cooperative: { joined: 4, completed: 2 } });
    expect(profile.eventsCompleted).toBe(2);
  });
});

describe("pace histograms", () => {
  it("an ended event's histogram is stored once final (a day after its end) and read from there, not counted again", async () => {
    const p = `${tag}-hist`;
    const ev = await endedEvent("gacha");
    await env.DB.prepare("UPDATE instances SET end_time = ?2 WHERE event_id = ?1").bind(ev, Date.now() - 2 * DAY).run();
    await progressRow(ev, p, 1).run();
    const at = Date.now() - 5 * 60_000;
    await writeProfileWatermark(env.DB, { at: at - 60_000, player: null }, Date.now());
    await runProfiles(env.DB, Date.now());
    expect((await call("GET", `/v1/admin/players/${p}/profile`)).json.pacePercentile).toBe(0.5); // alone in its bucket
    const stored = await env.DB.prepare("SELECT buckets FROM pace_histograms WHERE event_id = ?").bind(ev).first<{ buckets: string }>();
    expect(JSON.parse(stored!.buckets)).toEqual([...new Array(19).fill(0), 1]);
    // Were it counted again, the player would still be alone (0.5); the stored histogram says 9 others below them.
    await env.DB.prepare("UPDATE pace_histograms SET buckets = ?2 WHERE event_id = ?1").bind(ev, JSON.stringify([9, ...new Array(18).fill(0), 1])).run();
    await env.DB.prepare("UPDATE player_progress SET synced_at = ?2 WHERE player_id = ?1").bind(p, at + 1).run();
    await writeProfileWatermark(env.DB, { at, player: null }, Date.now());
    await runProfiles(env.DB, Date.now());
    expect((await call("GET", `/v1/admin/players/${p}/profile`)).json.pacePercentile).toBe(0.95);
  });
});

describe("the profile job's paging", () => {
  /** `n` players' progress rows synced at `at` (one drain, one D1 time), the watermark just before. */
  async function drained(prefix: string, n: number, at: number | ((i: number) => number)) {
    const eventId = await endedEvent("seasonal");
    const rows = Array.from({ length: n }, (_, i) => ({ i, p: `${prefix}-${String(i).padStart(4, "0")}` }));
    for (let i = 0; i < rows.length; i += 50)
      await env.DB.batch(
        rows.slice(i, i + 50).map(({ i: k, p }) => {
          const t = typeof at === "number" ? at : at(k);
          return env.DB.prepare(
            `INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq, revision, is_synced, last_updated, created_at, synced_at)
             VALUES (?1 || ':' || ?2, ?2, ?1, '{}', '[]', 0.5, 1, 1, 1, ?3, ?3, ?3)`,
          ).bind(eventId, p, t);
        }),
      );
    return rows.map((r) => r.p);
  }
  const profiled = async (prefix: string) =>
    (await env.DB.prepare("SELECT COUNT(*) AS n FROM player_profiles WHERE player_id LIKE ?").bind(`${prefix}-%`).first<{ n: number }>())!.n;

  it("takes every player of a millisecond shared by more rows than a page, none lost across runs", async () => {
    const prefix = `${tag}-ms`;
    const at = Date.now() - 10 * 60_000;
    const players = await drained(prefix, PROFILE_BATCH + 150, at);
    await writeProfileWatermark(env.DB, { at: at - 1, player: null }, Date.now());
    for (let run = 0; run < 3; run++) await runProfiles(env.DB, Date.now());
    expect(await profiled(prefix)).toBe(players.length);
  });

  it("one run pages on until caught up: more changed players than a page are all recomputed by a single run", async () => {
    const prefix = `${tag}-many`;
    const at = Date.now() - 10 * 60_000;
    const players = await drained(prefix, 2 * PROFILE_BATCH + 200, (i) => at + i);
    await writeProfileWatermark(env.DB, { at: at - 1, player: null }, Date.now());
    const run = await runProfiles(env.DB, Date.now());
    expect(run.pages).toBeGreaterThanOrEqual(3);
    expect(run.caughtUp).toBe(true);
    expect(await profiled(prefix)).toBe(players.length);
  });
});

describe("GET /v1/events/recommended", () => {
  let easy: string, hard: string, wanted: string, clanOnly: string, highLevel: string;

  beforeAll(async () => {
    const sword = [{ index: 0, progressThreshold: 1, rewards: [{ rewardId: "sw", type: "item", itemId: NEED, quantity: 1 }] }];
    const tEasy = await createTemplate({ type: "seasonal", difficulty: 1 });
    const tHard = await createTemplate({ type: "competitive", difficulty: 5 });
    const tWanted = await createTemplate({ type: "competitive", difficulty: 4, milestones: sword });
    const window = { startTime: inMs(30 * DAY), endTime: inMs(32 * DAY) };
    easy = (await createEvent(tEasy.templateId, window)).eventId;
    hard = (await createEvent(tHard.templateId, window)).eventId;
    wanted = (await createEvent(tWanted.templateId, window)).eventId;
    const tClan = await createTemplate({ type: "competitive", requiresClan: true, milestones: sword });
    clanOnly = (await createEvent(tClan.templateId, { ...window, eligibleClanIds: ["blue"] })).eventId;
    highLevel = (await createEvent((await createTemplate({ minimumPlayerLevel: 90, milestones: sword })).templateId, window)).eventId;
    // The need's item is only in these events: weighting reward relevance high makes them this file's top picks.
    const put = await call("PUT", "/v1/admin/personalization/settings", { body: { rewardRelevance: 10 } });
    expect(put.status).toBe(200);
    expect(put.json.weights).toMatchObject({ rewardRelevance: 10, typeAffinity: 1 });
  });

  const recommended = async (playerId: string, claims: Record<string, unknown> = {}, query = "?withinHours=1000") =>
    call("GET", `/v1/events/recommended${query}`, { token: await playerToken(playerId, claims) });

  it("scores eligible events with the breakdown, the wanted reward first; ineligible events never appear", async () => {
    const res = await recommended(me, { level: 40, clan: "red" });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.events.length).toBeLessThanOrEqual(5);
    const ids = res.json.events.map((e: { eventId: string }) => e.eventId);
    expect(ids[0]).toBe(wanted);
    expect(ids).not.toContain(clanOnly);
    expect(ids).not.toContain(highLevel);
    const top = res.json.events[0];
    expect(top.breakdown.rewardRelevance).toBe(10); // both needs (the item, the type) met, × 10
    const b = top.breakdown;
    expect(top.score).toBeCloseTo(b.typeAffinity + b.difficultyMatch + b.timeCommitment + b.rewardRelevance, 3);
    expect(res.json.skill).toBe(0.798);
    expect(res.headers.get("cache-control")).toContain("private");
  });

  it("matches difficulty to skill: the skilled player's hard event beats the easy one, the novice's the reverse", async () => {
    const weights = { rewardRelevance: 0, typeAffinity: 0, timeCommitment: 0, difficultyMatch: 1 };
    expect((await call("PUT", "/v1/admin/personalization/settings", { body: weights })).status).toBe(200);
    const score = (r: { json: { events: Array<{ eventId: string; breakdown: { difficultyMatch: number } }> } }, id: string) =>
      r.json.events.find((e) => e.eventId === id)?.breakdown.difficultyMatch;
    const ace = await recommended(me, { level: 40 });
    expect(score(ace, hard)).toBe(0.798); // 1 − |1 − 0.798|
    const novice = await recommended(`${tag}-novice`, { level: 1 });
    // No profile: skill is the token's level alone (0); the easy event (difficulty 0) matches perfectly.
    expect(novice.json.profileComputedAt).toBeNull();
    expect(novice.json.events[0].breakdown.difficultyMatch).toBe(1);
    expect(score(novice, easy)).toBe(1);
    const order = novice.json.events.map((e: { eventId: string }) => e.eventId);
    if (order.includes(hard)) expect(score(novice, hard)).toBe(0);
    // And for the ace, the hard event outranks the easy one (1 − 0.798 = 0.202).
    const aceOrder = ace.json.events.map((e: { eventId: string }) => e.eventId);
    expect(aceOrder.indexOf(hard)).toBeLessThan(aceOrder.includes(easy) ? aceOrder.indexOf(easy) : 99);
    // Deterministic: the same player at (nearly) the same time gets the same list.
    const again = await recommended(`${tag}-novice`, { level: 1 });
    expect(again.json.events.map((e: { eventId: string }) => e.eventId)).toEqual(novice.json.events.map((e: { eventId: string }) => e.eventId));
    expect((await call("PUT", "/v1/admin/personalization/settings", { body: { rewardRelevance: 10, typeAffinity: 1, timeCommitment: 1 } })).status).toBe(200);
  });

  it("events closed to the player never crowd out open ones: more ineligible events than the candidate cap come sooner", async () => {
    // MAX_CANDIDATES + 10 events for level 90 only, all starting before the open ones (copies of a real one in D1).
    const t = await createTemplate({ minimumPlayerLevel: 90 });
    const closed = (await createEvent(t.templateId, { startTime: inMs(29 * DAY), endTime: inMs(29 * DAY + HOUR) })).eventId;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
       INSERT INTO instances SELECT event_id || '-' || n.i, template_id, template_version, event_type, tier, state, custom_name, custom_description,
         theme_override, objectives, milestones, reward_pool, start_time - n.i, end_time, minimum_player_level, participant_count, completion_count,
         NULL, eligible_clan_ids, document, revision, created_at, updated_at
       FROM instances, n WHERE event_id = ?1`,
    )
      .bind(closed, MAX_CANDIDATES + 10)
      .run();
    const ids = (await recommended(me, { level: 40, clan: "red" })).json.events.map((e: { eventId: string }) => e.eventId);
    expect(ids).toContain(wanted);
    expect(ids.some((id: string) => id.startsWith(closed))).toBe(false);
  });

  it("refuses bad input with a 400 and a bad weight with a 422; weights are an admin's to change", async () => {
    expect((await recommended(me, {}, "?withinHours=-1")).status).toBe(400);
    expect((await recommended(me, {}, "?withinHours=abc")).status).toBe(400);
    expect((await recommended(me, {}, "?surprise=1")).status).toBe(400);
    expect((await call("GET", "/v1/events/recommended", { token: null })).status).toBe(401);
    expect((await call("PUT", "/v1/admin/personalization/settings", { body: { typeAffinity: -1 } })).status).toBe(422);
    expect((await call("PUT", "/v1/admin/personalization/settings", { body: {} })).status).toBe(422);
    expect((await call("PUT", "/v1/admin/personalization/settings", { body: { nope: 1 } })).status).toBe(422);
    const viewer = await apiKey({ name: `${tag}-viewer2`, role: "viewer" });
    expect((await call("GET", "/v1/admin/personalization/settings", { token: viewer.key })).status).toBe(200);
    expect((await call("PUT", "/v1/admin/personalization/settings", { token: viewer.key, body: { typeAffinity: 2 } })).status).toBe(403);
  });

  it("templates keep their difficulty, and refuse one outside 1–5", async () => {
    const t = await createTemplate({ difficulty: 3 });
    expect((await call("GET", `/v1/admin/templates/${t.templateId}`)).json.difficulty).toBe(3);
    const bad = await call("POST", "/v1/admin/templates", { body: { ...t, templateId: uniqueSlug(), difficulty: 6 } });
    expect(bad.status).toBe(422);
  });
});

describe("privacy", () => {
  it("the profile is in the player's export and gone after an erase", async () => {
    const player = `${tag}-priv`;
    await call("POST", `/v1/server/players/${player}/profile`, { body: { level: 7 } });
    const before = await call("POST", `/v1/admin/players/${player}/export`, { body: { reason: "GDPR access request" } });
    expect(before.json.data["d1/player_profiles"]).toMatchObject([{ player_id: player, level: 7 }]);
    const job = await call("POST", `/v1/admin/players/${player}/erase`, { body: { reason: "GDPR erasure request" } });
    expect(job.status).toBe(202);
    for (let i = 0; i < 50; i++) {
      const j = await call("GET", `/v1/admin/privacy/jobs/${job.json.jobId}`);
      if (j.json.state === "done") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await call("GET", `/v1/admin/players/${player}/profile`)).status).toBe(404);
  });

  it("builds no profile for an erased player's pseudonym, whose rows live on for the KPIs", async () => {
    const anon = `anon_${"ab".repeat(16)}`;
    const at = Date.now() - 10 * 60_000;
    await env.DB.prepare("INSERT INTO telemetry_sessions (session_id, player_id, start, duration_sec, ends_at, platform, received_at) VALUES (?1, ?2, ?3, 600, ?3 + 600000, 'pc', ?3)")
      .bind(`${tag}-anon-session`, anon, at)
      .run();
    await writeProfileWatermark(env.DB, { at: at - 1, player: null }, Date.now());
    await runProfiles(env.DB, Date.now());
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM player_profiles WHERE player_id = ?").bind(anon).first<{ n: number }>();
    expect(row!.n).toBe(0);
  });

  it("a recomputation that read a player before their erase does not bring their profile back under the raw id", async () => {
    const player = `${tag}-gone`;
    // The job saw this player touched, but their rows were renamed to the pseudonym before its write: none left here.
    await recomputeProfiles(env.DB, [player], Date.now());
    expect((await call("GET", `/v1/admin/players/${player}/profile`)).status).toBe(404);
  });
});
