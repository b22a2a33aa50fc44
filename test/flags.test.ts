// Anti-cheat flags (issue 10, item 9): refused updates are counted per player, objective and reason, not written as
// one D1 row each, and the rows D1 held before (one per refusal) survive migration 0006 as those counts.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { shardName } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { drainShard } from "./rewards-helpers";

const events: string[] = [];
afterEach(async () => {
  for (const id of events.splice(0)) {
    await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id)), (_o, s) => s.storage.deleteAlarm());
    await runInDurableObject(shard(id), (_o, s) => s.storage.deleteAlarm());
  }
});
const shard = (eventId: string) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, 0)));
async function gemsEvent() {
  const t = await createTemplate({
    objectives: [{ objectiveId: "gems", description: "Gems", type: "collect", targetValue: 1000, trackingKey: "gems", maxPerUpdate: 50 }],
    milestones: [{ index: 0, progressThreshold: 1 }],
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 });
  events.push(e.eventId);
  return e;
}
const flagsOf = async (eventId: string, playerId: string) =>
  (
    await env.DB.prepare(
      "SELECT objective_id, reason, count, first_seen, last_seen, sample_amount, sample_detail FROM progress_flags WHERE event_id = ? AND player_id = ? ORDER BY objective_id, reason",
    )
      .bind(eventId, playerId)
      .all<any>()
  ).results;

describe("flags are counted, not written one row per refusal", () => {
  it("400 refused updates from one player are three rows with counts, first and last seen, and a sample", async () => {
    const e = await gemsEvent();
    const token = await playerToken("spammer");
    const batch = (amount: (i: number) => unknown, objective: (i: number) => string = () => "gems") =>
      Array.from({ length: 100 }, (_, i) => ({ objectiveId: objective(i), amount: amount(i), seq: i + 1 }));
    const bodies = [
      batch((i) => 51 + i),
      batch(() => 1, (i) => `bogus-${i}`),
      batch(() => -1),
      batch((i) => 151 + i),
    ];
    for (const updates of bodies) expect((await call("POST", `/v1/events/${e.eventId}/progress`, { token, body: { updates } })).status).toBe(422);
    await drainShard(shard(e.eventId));

    const rows = await flagsOf(e.eventId, "spammer");
    expect(rows.map((r) => [r.objective_id, r.reason, r.count])).toEqual([
      ["*", "unknown_objective", 100],
      ["gems", "max_per_update", 200],
      ["gems", "not_positive", 100],
    ]);
    const [unknown, tooMuch] = rows;
    expect(unknown.sample_detail).toContain("bogus-99");
    expect(tooMuch).toMatchObject({ sample_amount: "250", sample_detail: "amount 250 exceeds maxPerUpdate 50 for gems" });
    expect(tooMuch.first_seen).toBeLessThanOrEqual(tooMuch.last_seen);

    // More of the same later adds to the counts; a drain that runs twice adds nothing twice.
    await call("POST", `/v1/events/${e.eventId}/progress`, { token, body: { updates: [{ objectiveId: "gems", amount: 99, seq: 1 }] } });
    await drainShard(shard(e.eventId));
    await runInDurableObject(shard(e.eventId), (_o, s) => s.storage.sql.exec("UPDATE flag_counts SET synced_count = 0"));
    await call("POST", `/v1/events/${e.eventId}/progress`, { token, body: { updates: [{ objectiveId: "gems", amount: 0, seq: 1 }] } });
    await drainShard(shard(e.eventId));
    const after = await flagsOf(e.eventId, "spammer");
    expect(after.map((r) => [r.objective_id, r.reason, r.count])).toEqual([
      ["*", "unknown_objective", 100],
      ["gems", "max_per_update", 201],
      ["gems", "not_positive", 101],
    ]);
    expect(after[1]).toMatchObject({ sample_amount: "99" });
    expect((await call("GET", `/v1/admin/events/${e.eventId}/progress/summary`)).json.ingest).toMatchObject({ flagsPending: 0 });
  });
});
