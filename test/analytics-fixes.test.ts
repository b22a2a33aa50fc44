// The second reading of the analytics code (issue 14): each test pins one fix through the real runtime. A report
// that cannot be built gives up; a session ending exactly at a window's start is not active in it; a long event's report
// reads what was kept once its first days' telemetry is purged; an erased participant still counts.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BUILD_ATTEMPTS } from "../src/actors/event/report";
import { buildReport } from "../src/db/analytics";
import { runHourly } from "../src/jobs/hourly";
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
  it("gives up after its last attempt (no retry every 5 min for ever), GET …/report says why, and the hourly job tries again", async () => {
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
      // The hourly job tries a given-up report again: once the cause is gone it is stored and the failure cleared.
      await env.DB.prepare("DELETE FROM player_progress WHERE player_id = 'corrupt-1'").run();
      await runHourly(env, Date.now());
      const late = await call("GET", `/v1/admin/events/${e.eventId}/report`);
      expect(late.status).toBe(200);
      expect(late.json).toMatchObject({ eventId: e.eventId, final: true });
      const failure = await env.DB.prepare("SELECT report_failures, report_gave_up_at FROM event_analytics WHERE event_id = ?").bind(e.eventId).first();
      expect(failure).toEqual({ report_failures: 0, report_gave_up_at: null });
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

describe("a long event's report after its first weeks' telemetry is purged", () => {
  it("is the same report before and after the hourly job keeps and purges: curve, participation, revenue, payers, RPPU, conversion, retention", async () => {
    const tpl = await createTemplate();
    const ev = await createEvent(tpl.templateId, { startTime: inMs(60 * DAY), endTime: inMs(100 * DAY) });
    const s = Date.parse(ev.startTime);
    const e = Date.parse(ev.endTime);
    const session = (id: string, playerId: string, start: number) => ({ id: `${ev.eventId}-${id}`, playerId, start: new Date(start).toISOString(), durationSec: 600, platform: "pc" });
    const buy = (id: string, playerId: string, amount: number, at: number, tagged: boolean) => ({
      id: `${ev.eventId}-${id}`, playerId, amount, currency: "USD", sku: "x", at: new Date(at).toISOString(), ...(tagged ? { eventId: ev.eventId } : {}),
    });
    await call("POST", "/v1/telemetry/sessions", {
      body: {
        sessions: [
          session("a", "lp-a", s + MIN), session("b", "lp-b", s + 2 * MIN), session("c", "lp-c", s + 3 * MIN), // the first day
          session("d", "lp-d", s + 2 * DAY), // a non-participant, early: purged before the report
          session("e", "lp-e", s + 30 * DAY), // a non-participant, late: still stored
          session("a-back", "lp-a", e + DAY), session("d-back", "lp-d", e + 2 * DAY), // back within 7 days of the end
        ],
      },
    });
    await call("POST", "/v1/telemetry/purchases", {
      body: {
        purchases: [
          buy("a", "lp-a", 3, s + 5 * MIN, true),
          buy("b", "lp-b", 2, s + 3 * DAY, false), // untagged, by a participant in the window: the event's
          buy("d", "lp-d", 7, s + 3 * DAY, false), // untagged, by a non-participant: not the event's
          buy("e", "lp-e", 4, s + 30 * DAY, true), // tagged, by a non-participant: revenue, not a participant payer
          buy("a2", "lp-a", 1, s + 11 * DAY + 90 * MIN, true), // kept by the third run below
        ],
      },
    });
    await env.DB.batch([
      progressRow(ev.eventId, "lp-a", "{}", s + 10 * MIN),
      progressRow(ev.eventId, "lp-b", "{}", s + 20 * MIN),
      env.DB.prepare("UPDATE instances SET state = 'expired' WHERE event_id = ?").bind(ev.eventId),
    ]);

    // The report a week after the end, with every row still stored.
    const final = e + 8 * DAY;
    const before = (await buildReport(env.DB, ev.eventId, final))!;
    expect(before.kpis).toMatchObject({
      participationRate: 0.6667,
      conversionRate: 1,
      retention7d: { participants: 0.5, nonParticipants: 0.3333 },
      rppu: 3.33,
      counts: { activeFirstDay: 3, participants: 2, payers: 3, revenue: 10 },
    });
    const sessionsLeft = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM telemetry_sessions WHERE session_id LIKE ?").bind(`${ev.eventId}-%`).first<{ n: number }>())!.n;
    // Six days after the end, with 35 days' retention, the hourly job keeps everything before s + 11 d; the purge waits
    // for a line every listed event has kept on an earlier run, so it takes it on the next.
    const now = e + 6 * DAY;
    await runHourly(env, now);
    expect(await sessionsLeft()).toBe(7);
    const kept = await env.DB.prepare("SELECT player_id FROM event_active_players WHERE event_id = ? ORDER BY player_id").bind(ev.eventId).all();
    expect(kept.results).toEqual([{ player_id: "lp-a" }, { player_id: "lp-b" }, { player_id: "lp-c" }, { player_id: "lp-d" }]);
    // The next hour's run purges what the first kept, and keeps nothing twice.
    await runHourly(env, now + HOUR);
    expect(await sessionsLeft()).toBe(3); // lp-e's and the two after the end
    const after = (await buildReport(env.DB, ev.eventId, final))!;
    expect(after.kpis).toEqual(before.kpis);
    expect(after.participationByHour).toEqual(before.participationByHour);
    expect(after.participationByHour[0]).toMatchObject({ joins: 2, participants: 2, activePlayers: 3, purchases: 1, revenue: 3 });
    expect(after.participationByHour).toHaveLength(40 * 24);
    // Two runs at once (the same kept line read by both): the second adds nothing.
    await Promise.all([runHourly(env, now + 2 * HOUR), runHourly(env, now + 2 * HOUR)]);
    const payers = await env.DB.prepare("SELECT SUM(revenue) AS r FROM event_payers WHERE event_id = ?").bind(ev.eventId).first<{ r: number }>();
    expect(payers!.r).toBe(6); // lp-a's 3 + 1 and lp-b's 2, once (lp-e's 4 at s + 30 d is still raw)
    expect((await buildReport(env.DB, ev.eventId, final))!.kpis).toEqual(before.kpis);

    // Erasing a kept payer: their kept rows move to the pseudonym, so nothing names them and the figures stay.
    const res = await call("POST", "/v1/admin/players/lp-b/erase", { body: { reason: "GDPR erasure, kept rows" } });
    const done = await until(() => call("GET", `/v1/admin/privacy/jobs/${res.json.jobId}`), (r) => r.json.state === "done", 5000);
    expect(done.value.json.touched).toMatchObject({ "d1.event_payers": 1, "d1.event_active_players": 1 });
    const named = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM event_payers WHERE player_id = 'lp-b') + (SELECT COUNT(*) FROM event_active_players WHERE player_id = 'lp-b') AS n").first<{ n: number }>();
    expect(named!.n).toBe(0);
    expect((await buildReport(env.DB, ev.eventId, final))!.kpis).toEqual(before.kpis);
  });

  it("never purges past what an event could not keep", async () => {
    const tpl = await createTemplate();
    const ev = await createEvent(tpl.templateId, { startTime: inMs(60 * DAY), endTime: inMs(100 * DAY) });
    const s = Date.parse(ev.startTime);
    await call("POST", "/v1/telemetry/sessions", { body: { sessions: [{ id: `${ev.eventId}-x`, playerId: "np-x", start: new Date(s + HOUR).toISOString(), durationSec: 60, platform: "pc" }] } });
    const doc = await env.DB.prepare("SELECT document FROM instances WHERE event_id = ?").bind(ev.eventId).first<{ document: string }>();
    try {
      // A corrupt projection of the event: every keep of it fails.
      await env.DB.prepare("UPDATE instances SET state = 'expired', document = 'not json' WHERE event_id = ?").bind(ev.eventId).run();
      await runHourly(env, s + 41 * DAY); // the cutoff is s + 6 d: the session would go
      await runHourly(env, s + 41 * DAY + HOUR);
      const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM telemetry_sessions WHERE session_id = ?").bind(`${ev.eventId}-x`).first<{ n: number }>();
      expect(left!.n).toBe(1);
    } finally {
      await env.DB.prepare("UPDATE instances SET document = ? WHERE event_id = ?").bind(doc!.document, ev.eventId).run();
    }
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
