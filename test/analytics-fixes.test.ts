// The second reading of the analytics code (issue 14): each test pins one fix through the real runtime. A report
// that cannot be built gives up.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BUILD_ATTEMPTS } from "../src/actors/event/report";
import { call } from "./helpers";
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
