// Event leaderboards through the real runtime: progress over HTTP → shards → the board object → the player routes.
import { afterEach, describe, expect, it } from "vitest";
import { HOUR, call, createTemplate, inMs, playerToken } from "./helpers";
import { clearAlarms } from "./rewards-helpers";
import { arenaEvent, coins, me, post, top, until } from "./leaderboard-helpers";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function event(board: Record<string, unknown>, extra: Record<string, unknown> = {}, templateExtra: Record<string, unknown> = {}) {
  const e = await arenaEvent(board, extra, templateExtra);
  made.push(e);
  return e;
}

describe("board definition", () => {
  it("refuses a bad board on a template or an event override, naming each field", async () => {
    const t = await call("POST", "/v1/admin/templates", {
      body: {
        ...(await import("./helpers")).templateBody({ objectives: [{ objectiveId: "wins", description: "w", type: "collect", targetValue: 5, trackingKey: "arena.wins" }] }),
        leaderboard: { source: { kind: "trackingKey", trackingKey: "nope" }, operator: "sum", rewardTiers: [{ fromRank: 3, toRank: 1, rewards: coins(1) }] },
      },
    });
    expect(t.status).toBe(422);
    expect(t.json.error.code).toBe("validation_failed");
    expect(t.json.error.details.fields.map((f: { path: string }) => f.path)).toContain("leaderboard.operator");
    const fine = await createTemplate({ objectives: [{ objectiveId: "wins", description: "w", type: "collect", targetValue: 5, trackingKey: "arena.wins" }], leaderboard: { source: { kind: "trackingKey", trackingKey: "arena.wins" } } });
    expect(fine.leaderboard).toMatchObject({ operator: "incr", cohortSize: 0, sortOrder: "desc" });
    expect(fine.requiresLeaderboard).toBe(true);
    const ev = await call("POST", "/v1/admin/events", {
      body: { templateId: fine.templateId, startTime: "now", endTime: new Date(Date.now() + 3_600_000).toISOString(), leaderboard: { source: { kind: "completion" }, rewardTiers: [{ fromRank: 1, rewards: coins(1) }] } },
    });
    expect(ev.status).toBe(422);
    expect(ev.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["leaderboard.operator", "leaderboard.rewardTiers[0].toRank"]);
  });
  it("an event override replaces only the fields it names: cohort size, board key and level band stay the template's", async () => {
    const t = await createTemplate({
      objectives: [{ objectiveId: "wins", description: "w", type: "collect", targetValue: 5, trackingKey: "arena.wins" }],
      leaderboard: { source: { kind: "trackingKey", trackingKey: "arena.wins" }, boardKey: "season", cohortSize: 25, matching: "level_band", levelBandWidth: 5, operator: "best" },
    });
    const ev = await call("POST", "/v1/admin/events", {
      body: { templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), leaderboard: { rewardTiers: [{ fromRank: 1, toRank: 1, rewards: coins(5) }] } },
    });
    expect(ev.status, JSON.stringify(ev.json)).toBe(201);
    made.push({ eventId: ev.json.eventId, shardCount: ev.json.shardCount });
    expect(ev.json.leaderboard).toMatchObject({ boardKey: "season", cohortSize: 25, matching: "level_band", levelBandWidth: 5, operator: "best", sortOrder: "desc" });
    expect(ev.json.leaderboard.rewardTiers).toHaveLength(1);
  });
});

describe("ranking", () => {
  it("ranks within a second of the ack; ties go to who reached the score first; pages by cursor; around-me", async () => {
    const e = await event({});
    for (const [p, wins] of [["ann", 5], ["bob", 7], ["cat", 5], ["dan", 1]] as const) {
      const ack = await post(e.eventId, p, "wins", wins);
      expect(ack.status).toBe(200);
      if (p === "ann") await new Promise((r) => setTimeout(r, 5)); // ann reaches 5 strictly before cat
    }
    const { value, tookMs } = await until(() => me(e.eventId, "dan"), (r) => r.json.total === 4);
    expect(tookMs).toBeLessThan(1000);
    expect(value.json).toMatchObject({ cohortId: "global", rank: 4, score: 1, percentile: 100 });
    expect(value.json.neighbours.map((n: any) => n.playerId)).toEqual(["cat", "dan"]);
    const page1 = await top(e.eventId, "dan", "?limit=2");
    expect(page1.json.entries.map((r: any) => [r.rank, r.playerId, r.score])).toEqual([[1, "bob", 7], [2, "ann", 5]]);
    const page2 = await top(e.eventId, "dan", `?limit=2&cursor=${page1.json.nextCursor}`);
    expect(page2.json.entries.map((r: any) => r.playerId)).toEqual(["cat", "dan"]);
    expect(page2.json.nextCursor).toBeNull();
    // incr: more wins add up, and the rank moves within a second
    await post(e.eventId, "dan", "wins", 10);
    expect((await until(() => me(e.eventId, "dan", 0), (r) => r.json.rank === 1)).value.json).toMatchObject({ score: 11, neighbours: [{ rank: 1, playerId: "dan", score: 11 }] });
    // bad input is a 4xx JSON error
    expect((await top(e.eventId, "dan", "?cursor=garbage")).json.error.code).toBe("invalid_cursor");
    expect((await top(e.eventId, "dan", "?limit=0")).status).toBe(400);
    expect((await call("GET", `/v1/events/${e.eventId}/leaderboard/me?around=500`, { token: await playerToken("dan") })).status).toBe(400);
  });

  it("answers 404 for an event without a board, and an empty place for a player not yet ranked", async () => {
    const e = await event({});
    const unranked = await me(e.eventId, "nobody");
    expect(unranked.json).toMatchObject({ rank: null, total: 0, neighbours: [] });
    const plain = await createTemplate();
    const ev = await call("POST", "/v1/admin/events", { body: { templateId: plain.templateId, startTime: "now", endTime: new Date(Date.now() + 3_600_000).toISOString() } });
    made.push({ eventId: ev.json.eventId, shardCount: ev.json.shardCount });
    const none = await top(ev.json.eventId, "x");
    expect(none.status).toBe(404);
    expect(none.json.error.code).toBe("leaderboard_not_found");
  });

  it("an ascending board ranks the lowest first even when it was read before its first score", async () => {
    const e = await event({ sortOrder: "asc" });
    expect((await me(e.eventId, "asc-1")).json.rank).toBeNull();
    await post(e.eventId, "asc-1", "wins", 3);
    await post(e.eventId, "asc-2", "wins", 9);
    const board = await until(() => top(e.eventId, "asc-1"), (r) => r.json.total === 2);
    expect(board.value.json.entries.map((r: any) => [r.rank, r.playerId])).toEqual([[1, "asc-1"], [2, "asc-2"]]);
  });

  it("best keeps the highest rating reported; set keeps the last", async () => {
    const best = await event({ source: { kind: "trackingKey", trackingKey: "arena.rating" }, operator: "best" });
    await post(best.eventId, "r1", "rating", 1500);
    await post(best.eventId, "r1", "rating", 1400);
    expect((await until(() => me(best.eventId, "r1"), (r) => r.json.rank === 1)).value.json.score).toBe(1500);
    const set = await event({ source: { kind: "objective", objectiveId: "wins" }, operator: "set" });
    await post(set.eventId, "s1", "wins", 9);
    await until(() => me(set.eventId, "s1"), (r) => r.json.score === 9);
    await post(set.eventId, "s1", "wins", 2);
    await until(() => me(set.eventId, "s1"), (r) => r.json.score === 2);
  });
});

describe("demo", () => {
  it("arena-clash ranks players by their best arena.rating from the moment its event starts", async () => {
    const { default: demo } = await import("../seed/demo-templates.json");
    const arena = (demo as any[]).find((t) => t.templateId === "arena-clash");
    const t = await createTemplate({ ...arena, templateId: `arena-clash-${Date.now().toString(36)}` });
    expect(t.leaderboard).toMatchObject({ operator: "best", cohortSize: 50, matching: "tier" });
    const ev = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: "now", endTime: new Date(Date.now() + 3_600_000).toISOString(), shardCount: 2 } });
    made.push({ eventId: ev.json.eventId, shardCount: 2 });
    await post(ev.json.eventId, "demo-1", "rating", 1650, { lvl: 20 });
    await post(ev.json.eventId, "demo-2", "rating", 1720, { lvl: 20 });
    await post(ev.json.eventId, "demo-1", "rating", 1500, { lvl: 20 });
    const board = await until(() => top(ev.json.eventId, "demo-1"), (r) => r.json.total === 2);
    expect(board.value.json.cohortId).toBe("bronze-0");
    expect(board.value.json.entries.map((r: any) => [r.playerId, r.score])).toEqual([["demo-2", 1720], ["demo-1", 1650]]);
  });
});

describe("bench hooks", () => {
  it("loads synthetic entries into one board's memory and times reads there; the route is off unless enabled", async () => {
    const { inBoard } = await import("./leaderboard-helpers");
    const load = await inBoard("evt_benchboardtest", "bench", (o) => o.benchLoad(50_000));
    expect(load.entries).toBe(50_000);
    const probe = await inBoard("evt_benchboardtest", "bench", (o) => o.benchProbe(4));
    expect(probe).toMatchObject({ entries: 50_000, exact: true });
    expect(probe.depth).toBeLessThan(50);
    const off = await call("GET", "/v1/_bench/leaderboard?op=probe", { token: null });
    expect(off.status).toBe(404);
    // off means absent: even a query it would refuse is a 404, not a validation error
    expect((await call("GET", "/v1/_bench/leaderboard?op=bogus&n=-1", { token: null })).status).toBe(404);
  });
});
