// The second reading of the analytics code (issue 14): each test pins one fix through the real runtime. A report
// that cannot be built gives up; a session ending exactly at a window's start is not active in it.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BUILD_ATTEMPTS } from "../src/actors/event/report";
import { buildReport } from "../src/db/analytics";
import { DAY, HOUR, call, createEvent, createTemplate, inMs } from "./helpers";
import { clearAlarms, eventStub, rewardEvent, tickEvent } from "./rewards-helpers";

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
