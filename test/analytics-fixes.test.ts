// The second reading of the analytics code (issue 14): each test pins one fix through the real runtime. A report
// that cannot be built gives up; a session ending exactly at a window's start is not active in it; a long event's report
// reads what was kept once its first days' telemetry is purged; an erased participant still counts.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BUILD_ATTEMPTS } from "../src/actors/event/report";
import { buildReport, telemetryCutoff } from "../src/db/analytics";
import { storeRollups } from "../src/db/rollups";
import { DAY, HOUR, call, createEvent, createTemplate, inMs } from "./helpers";
import { until } from "./leaderboard-helpers";
import { clearAlarms, earn, eventStub, rewardEvent, settle, tickEvent } from "./rewards-helpers";

const MIN = 60_000;

const progressRow = (eventId: string, playerId: string, objectives: string, createdAt: number) =>
  env.DB.prepare(
    `INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq, revision, is_synced, last_updated, created_at, synced_at)
     VALUES (?1 || ':' || ?2, ?2, ?1, ?3, '[]', 0, 1, 1, 1, ?4, ?4, ?4)`,
  ).bind(eventId, playerId, objectives, createdAt);

describe("the report row", () => {
  it("gives up after its last attempt (no retry every 5 min for ever), and GET …/report says why", async () => {
    const e = await rewardEvent();
    try {
      // A corrupt projection row (not JSON): D1 refuses the report's json_each over it, on every try.
      await progressRow(e.eventId, "corrupt-1", "not json", Date.now()).run();
      const ended = await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "give-up test" } });
      expect(ended.status).toBe(200);
      let at = Date.parse(ended.json.endTime) + 11_000;
      for (let i = 0; i < MAX_BUILD_ATTEMPTS; i++, at += 10 * MIN) await tickEvent(e.eventId, at);
      const rows = await runInDurableObject(eventStub(e.eventId), (_o, s) => s.storage.sql.exec("SELECT kind FROM schedule WHERE kind = 'report'").toArray());
      expect(rows).toEqual([]);
      const res = await call("GET", `/v1/admin/events/${e.eventId}/report`);
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("report_failed");
      expect(res.json.error.details.attempts).toBe(MAX_BUILD_ATTEMPTS);
      expect(res.json.error.details.error).toContain("JSON");
    } finally {
      await clearAlarms(e.eventId, e.shardCount);
    }
  });
});

describe("active in a window", () => {
  it("means a session overlapping it: one ending exactly at the start is not active in [s, s + 24 h), nor in [s, e)", async () => {
    const tpl = await createTemplate();
    const ev = await createEvent(tpl.templateId, { startTime: inMs(50 * DAY), endTime: inMs(50 * DAY + HOUR) });
    const s = Date.parse(ev.startTime);
    const e = Date.parse(ev.endTime);
    const session = (id: string, playerId: string, start: number, durationSec: number) => ({ id: `${ev.eventId}-${id}`, playerId, start: new Date(start).toISOString(), durationSec, platform: "pc" });
    const res = await call("POST", "/v1/telemetry/sessions", {
      body: {
        sessions: [
          session("edge", "kb-edge", s - HOUR, 3600), // ends exactly at s: [s - 1 h, s) does not overlap [s, …)
          session("over", "kb-over", s - HOUR, 3601), // ends 1 s into the event
          session("edge-back", "kb-edge", e + DAY, 60),
        ],
      },
    });
    expect(res.json.inserted).toBe(3);
    const report = (await buildReport(env.DB, ev.eventId, e + 8 * DAY))!;
    expect(report.kpis.counts.activeFirstDay).toBe(1);
    // Non-participants active during the event: kb-over only (not back), so 0, not kb-edge's 1 of 2.
    expect(report.kpis.retention7d).toEqual({ participants: null, nonParticipants: 0 });
  });
});

describe("a long event's report after its first days' telemetry is purged", () => {
  it("keeps the closed hours' rollups and reads participation from the first-day snapshot", async () => {
    const tpl = await createTemplate();
    const ev = await createEvent(tpl.templateId, { startTime: inMs(60 * DAY), endTime: inMs(70 * DAY) });
    const s = Date.parse(ev.startTime);
    const session = (id: string, playerId: string, start: number) => ({ id: `${ev.eventId}-${id}`, playerId, start: new Date(start).toISOString(), durationSec: 600, platform: "pc" });
    await call("POST", "/v1/telemetry/sessions", { body: { sessions: [session("a", "lp-a", s + MIN), session("b", "lp-b", s + 2 * MIN), session("c", "lp-c", s + 3 * MIN)] } });
    await call("POST", "/v1/telemetry/purchases", { body: { purchases: [{ id: `${ev.eventId}-buy`, playerId: "lp-a", amount: 3, currency: "USD", sku: "x", eventId: ev.eventId, at: new Date(s + 5 * MIN).toISOString() }] } });
    await env.DB.batch([progressRow(ev.eventId, "lp-a", "{}", s + 10 * MIN), progressRow(ev.eventId, "lp-b", "{}", s + 20 * MIN)]);

    // The hourly job a day in: the first 25 hours rolled up, and the first day's figures snapshotted.
    const dayIn = s + 25 * HOUR;
    expect(await storeRollups(env.DB, ev.eventId, dayIn, telemetryCutoff(dayIn, 35))).toBe(25);
    // 40 days in, with 35 days' retention, the purge has taken the first days' sessions and purchases.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM telemetry_sessions WHERE session_id LIKE ?").bind(`${ev.eventId}-%`),
      env.DB.prepare("DELETE FROM telemetry_purchases WHERE purchase_id LIKE ?").bind(`${ev.eventId}-%`),
    ]);
    const later = s + 40 * DAY;
    await storeRollups(env.DB, ev.eventId, later, telemetryCutoff(later, 35));
    // Hour 0 still holds what it was given while its telemetry was there (not zeros).
    const hour0 = await env.DB.prepare("SELECT joins, active_players, purchases, revenue FROM event_rollups WHERE event_id = ? AND hour = ?").bind(ev.eventId, s).first();
    expect(hour0).toEqual({ joins: 2, active_players: 3, purchases: 1, revenue: 3 });

    const report = (await buildReport(env.DB, ev.eventId, later, { retentionDays: 35 }))!;
    expect(report.kpis.participationRate).toBe(0.6667); // lp-a, lp-b of the three active on the first day
    expect(report.kpis.counts.activeFirstDay).toBe(3);
    expect(report.participationByHour[0]).toMatchObject({ joins: 2, participants: 2, activePlayers: 3, purchases: 1, revenue: 3 });
    expect(report.participationByHour).toHaveLength(10 * 24); // the whole (ended) event
  });
});

describe("erasure and the KPIs", () => {
  it("keeps the participant's counts: participation, completion and conversion are the same before and after an erase", async () => {
    const tpl = await createTemplate();
    const ev = await createEvent(tpl.templateId, { startTime: inMs(80 * DAY), endTime: inMs(80 * DAY + HOUR) });
    const s = Date.parse(ev.startTime);
    const session = (id: string, playerId: string) => ({ id: `${ev.eventId}-${id}`, playerId, start: new Date(s + MIN).toISOString(), durationSec: 600, platform: "pc" });
    await call("POST", "/v1/telemetry/sessions", { body: { sessions: [session("a", "er-a"), session("b", "er-b")] } });
    await call("POST", "/v1/telemetry/purchases", { body: { purchases: [{ id: `${ev.eventId}-buy`, playerId: "er-a", amount: 2, currency: "USD", sku: "x", at: new Date(s + 2 * MIN).toISOString() }] } });
    await progressRow(ev.eventId, "er-a", JSON.stringify({ snowflakes: 100, bosses: 5 }), s + 5 * MIN).run();
    const kpis = async () => (await buildReport(env.DB, ev.eventId, s + 2 * HOUR))!.kpis;
    const before = await kpis();
    expect(before).toMatchObject({ participationRate: 0.5, completionRate: 1, conversionRate: 1, rppu: 2, counts: { participants: 1, completers: 1 } });

    const res = await call("POST", "/v1/admin/players/er-a/erase", { body: { reason: "GDPR erasure, KPI test" } });
    expect(res.status).toBe(202);
    const done = await until(() => call("GET", `/v1/admin/privacy/jobs/${res.json.jobId}`), (r) => r.json.state === "done", 5000);
    expect(done.value.json.touched["d1.player_progress"]).toBe(1);
    expect(await kpis()).toEqual(before);
    // The player's own id is gone: their export is empty.
    const exported = await call("POST", "/v1/admin/players/er-a/export", { body: { reason: "check" } });
    expect(exported.json.empty).toBe(true);
  });
});

describe("erasing a player whose progress has not reached D1", () => {
  it("finds them in their shard: nothing drains to D1 under their id afterwards", async () => {
    const e = await rewardEvent();
    try {
      await earn(e.eventId, "er-undrained", 3);
      // No drain yet: the shards' alarms are cleared, so D1 has never heard of the player.
      await clearAlarms(e.eventId, e.shardCount);
      const inD1 = () => env.DB.prepare("SELECT COUNT(*) AS n FROM player_progress WHERE player_id = ?").bind("er-undrained").first<{ n: number }>();
      expect((await inD1())!.n).toBe(0);

      const res = await call("POST", "/v1/admin/players/er-undrained/erase", { body: { reason: "GDPR erasure, undrained" } });
      expect(res.status).toBe(202);
      const done = await until(() => call("GET", `/v1/admin/privacy/jobs/${res.json.jobId}`), (r) => r.json.state === "done", 5000);
      expect(done.value.json.touched["shards.progress"]).toBe(1);
      // The shard's next drain has nothing of theirs to write.
      await settle(e.eventId, e.shardCount);
      expect((await inD1())!.n).toBe(0);
    } finally {
      await clearAlarms(e.eventId, e.shardCount);
    }
  });
});
