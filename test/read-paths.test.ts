// Where player reads go: a leaderboard read takes the event from the isolate's short memo and the caller's cohort from
// their own shard, so no per-event object every player shares is asked on each read.
import { describe, expect, it } from "vitest";
import { boardName, DIRECTORY } from "../src/domain/leaderboard";
import { eventMechanics } from "../src/http/event-cache";
import { ApiError } from "../src/http/errors";
import { env } from "cloudflare:test";
import { call } from "./helpers";
import { clearAlarms, runInDurableObject } from "./rewards-helpers";
import { arenaEvent, me, post, top, until } from "./leaderboard-helpers";

describe("leaderboard reads", () => {
  it("answer a cohort board's players from their shards even while the event's cohort directory is unusable", async () => {
    const e = await arenaEvent({ cohortSize: 2 });
    for (const [p, w] of [["rp1", 3], ["rp2", 5], ["rp3", 4]] as const) expect((await post(e.eventId, p, "wins", w)).status).toBe(200);
    await until(() => me(e.eventId, "rp3"), (r) => r.json.rank === 1);
    const directory = env.LEADERBOARD_ACTOR.get(env.LEADERBOARD_ACTOR.idFromName(boardName(e.eventId, DIRECTORY)));
    await runInDurableObject(directory, (_o, s: DurableObjectState) => s.storage.sql.exec("ALTER TABLE assignments RENAME TO assignments_gone"));
    try {
      const mine = await me(e.eventId, "rp1");
      expect(mine.status).toBe(200);
      expect(mine.json).toMatchObject({ cohortId: "all-0", rank: 2, total: 2 });
      expect((await top(e.eventId, "rp3")).json).toMatchObject({ cohortId: "all-1", total: 1 });
      // Before a first score there is no cohort, as before.
      expect((await me(e.eventId, "rp-none")).json).toMatchObject({ cohortId: null, rank: null });
    } finally {
      await runInDurableObject(directory, (_o, s: DurableObjectState) => s.storage.sql.exec("ALTER TABLE assignments_gone RENAME TO assignments"));
      await clearAlarms(e.eventId, e.shardCount);
    }
  });
});

describe("the isolate's memo of an event", () => {
  it("serves a cancelled event for at most 5 s, and remembers an unknown id as unknown for as long", async () => {
    const e = await arenaEvent({}, { startTime: new Date(Date.now() + 3_600_000).toISOString(), endTime: new Date(Date.now() + 7_200_000).toISOString() });
    const t0 = Date.now();
    expect((await eventMechanics(env, e.eventId, t0)).leaderboard?.source).toEqual({ kind: "trackingKey", trackingKey: "arena.wins" });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "test" } })).status).toBe(200);
    expect((await eventMechanics(env, e.eventId, t0 + 4_000)).state).toBe("scheduled");
    await expect(eventMechanics(env, e.eventId, t0 + 5_001)).rejects.toMatchObject({ status: 404, code: "event_not_found" });
    const ghost = "evt_000000000000000000000042";
    await expect(eventMechanics(env, ghost, t0)).rejects.toBeInstanceOf(ApiError);
    await expect(eventMechanics(env, ghost, t0 + 1)).rejects.toMatchObject({ code: "event_not_found" });
  });
});
