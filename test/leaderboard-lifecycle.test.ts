// Leaderboards across their life: cohorts, exactly-once pushes, eviction, finalization, rank rewards, flagged
// players, ops actions and tiers across a series, through the real objects, D1 and sockets.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { tierStatements } from "../src/db/leaderboards";
import { standingsDigestInput } from "../src/domain/leaderboard";
import { sha256Hex } from "../src/lib/sha256";
import { shardOf } from "../src/domain/sharding";
import { call, playerToken } from "./helpers";
import { connect } from "./live-helpers";
import { claim, clearAlarms, runInDurableObject, shardStubFor, tickEvent, verifyReceiptJws } from "./rewards-helpers";
import { arenaEvent, coins, inBoard, me, post, top, until } from "./leaderboard-helpers";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function event(board: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const e = await arenaEvent(board, extra);
  made.push(e);
  return e;
}
const info = (eventId: string, templateId: string, definition: Record<string, unknown>) => ({
  eventId,
  templateId,
  endTime: Date.now() + 3_600_000,
  definition: { boardKey: "main", source: { kind: "trackingKey", trackingKey: "arena.wins" }, operator: "incr", sortOrder: "desc", cohortSize: 0, matching: "join_order", levelBandWidth: 10, rewardTiers: [], ...definition },
});
const REASON = { reason: "support ticket 42" };

describe("cohorts", () => {
  it("fill to their size in join order, overflow into the next, and each player sees only their own", async () => {
    const e = await event({ cohortSize: 2 });
    for (const p of ["c1", "c2", "c3", "c4", "c5"]) expect((await post(e.eventId, p, "wins", 1)).status).toBe(200);
    const cohorts = await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`);
    expect(cohorts.json.cohorts).toEqual([{ cohortId: "all-0", members: 2 }, { cohortId: "all-1", members: 2 }, { cohortId: "all-2", members: 1 }]);
    const mine = await until(() => top(e.eventId, "c3"), (r) => r.json.total === 2);
    expect(mine.value.json.cohortId).toBe("all-1");
    expect(mine.value.json.entries.map((r: any) => r.playerId).sort()).toEqual(["c3", "c4"]);
    const alone = await until(() => me(e.eventId, "c5"), (r) => r.json.rank === 1);
    expect(alone.value.json).toMatchObject({ cohortId: "all-2", total: 1 });
    // a second progress report keeps the player where they were placed
    await post(e.eventId, "c1", "wins", 3);
    expect((await until(() => me(e.eventId, "c1"), (r) => r.json.score === 4)).value.json.cohortId).toBe("all-0");
    const standings = await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/standings?cohort=all-0`);
    expect(standings.json.entries.map((r: any) => r.playerId)).toEqual(["c1", "c2"]);
    // a cohort the event never opened is a 404, a malformed one a 400
    for (const cohort of ["all-3", "global", "lv0-0"]) {
      const none = await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/standings?cohort=${cohort}`);
      expect([none.status, none.json.error.code]).toEqual([404, "cohort_not_found"]);
    }
    expect((await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/standings?cohort=${encodeURIComponent("../x")}`)).status).toBe(400);
  });

  it("match by level band", async () => {
    const e = await event({ cohortSize: 10, matching: "level_band", levelBandWidth: 10 });
    await post(e.eventId, "low", "wins", 1, { lvl: 3 });
    await post(e.eventId, "high", "wins", 1, { lvl: 25 });
    const cohorts = await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`);
    expect(cohorts.json.cohorts.map((c: any) => c.cohortId)).toEqual(["lv0-0", "lv2-0"]);
  });
});

describe("exactly once", () => {
  it("a retried push is acknowledged and never counted twice; pushes from several shards add up", async () => {
    const e = await event({});
    const def = info(e.eventId, e.templateId, {});
    const batch = { source: `${e.eventId}:0`, seq: 1, info: def, entries: [{ playerId: "p", value: 5, at: 1000, flagged: false }] };
    const first = await inBoard(e.eventId, "global", (o) => o.push(batch));
    const again = await inBoard(e.eventId, "global", (o) => o.push(batch));
    expect(first).toMatchObject({ applied: true, ranks: [{ playerId: "p", rank: 1, score: 5 }] });
    expect(again).toMatchObject({ applied: false, ranks: [{ playerId: "p", score: 5 }] });
    // the same player's changes arriving from another shard's sequence are their own stream
    const other = await inBoard(e.eventId, "global", (o) => o.push({ ...batch, source: `${e.eventId}:1`, entries: [{ playerId: "p", value: 2, at: 2000, flagged: false }] }));
    expect(other.ranks[0].score).toBe(7);
  });

  it("players spread over both shards land on one board, and the board equals the sum of acknowledged progress", async () => {
    const e = await event({});
    const players = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
    expect(new Set(players.map((p) => shardOf(p, 2))).size).toBe(2);
    let sum = 0;
    for (let round = 1; round <= 3; round++) {
      for (const p of players) {
        const r = await post(e.eventId, p, "wins", round);
        if (r.status === 200) sum += round;
      }
    }
    const board = await until(() => top(e.eventId, "spread-0", "?limit=100"), (r) => r.json.entries.reduce((n: number, x: any) => n + x.score, 0) === sum);
    expect(board.value.json.total).toBe(12);
    expect(sum).toBe(72);
  });
});

describe("eviction", () => {
  it("rebuilds the ranking from the object's SQLite after its memory is gone", async () => {
    const e = await event({});
    for (const [p, w] of [["e1", 3], ["e2", 9], ["e3", 6]] as const) await post(e.eventId, p, "wins", w);
    const before = await until(() => top(e.eventId, "e1"), (r) => r.json.total === 3);
    // What an eviction loses: everything in memory. The next call rebuilds it from the entries table.
    await inBoard(e.eventId, "global", (o) => {
      o.ranking = null;
    });
    const after = await top(e.eventId, "e1");
    expect(after.json.entries).toEqual(before.value.json.entries);
    expect((await me(e.eventId, "e3")).json.rank).toBe(2);
  });
});

describe("finalization", () => {
  const tiers = [{ fromRank: 1, toRank: 1, rewards: coins(500) }, { fromRank: 2, toRank: 3, rewards: coins(100) }];

  it("freezes once at expiry, twice changes nothing; rank rewards are claimed once with a receipt; flagged players are held until cleared", async () => {
    const e = await event({ rewardTiers: tiers });
    for (const [p, w] of [["f1", 30], ["f2", 20], ["f3", 10], ["f4", 5]] as const) await post(e.eventId, p, "wins", w);
    // f2 sends an implausible update (a negative amount): flagged, so their rank reward is held
    expect((await post(e.eventId, "f2", "wins", -5)).status).toBe(422);
    await until(() => top(e.eventId, "f1"), (r) => r.json.total === 4);
    await new Promise((r) => setTimeout(r, 400)); // the flag's push
    expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    await tickEvent(e.eventId, Date.now() + 5000);
    const first = await until(() => call("GET", `/v1/admin/events/${e.eventId}/leaderboard/final`), (r) => r.json.standings?.length === 4);
    expect(first.value.json.standings.map((s: any) => [s.playerId, s.rank, s.rewardTier, s.held])).toEqual([["f1", 1, 0, false], ["f2", 2, 1, true], ["f3", 3, 1, false], ["f4", 4, -1, false]]);
    const digest = first.value.json.standings[0].digest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // again, from the alarm and from ops: the same digest, nothing recomputed
    await tickEvent(e.eventId, Date.now() + 10_000);
    const forced = await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON });
    expect(forced.json.boards).toEqual([expect.objectContaining({ cohortId: "global", digest, entries: 4, rewarded: 2, held: 1 })]);
    expect((await top(e.eventId, "f1")).json.finalized).toBe(true);
    // the winner claims the rank reward (milestone 999) once, with a verifiable receipt
    const t1 = await playerToken("f1");
    const won = await claim(e.eventId, t1, 999, "rank-1");
    expect(won.status).toBe(201);
    expect(won.json.receipt).toMatchObject({ playerId: "f1", milestoneIndex: 999, rewards: [expect.objectContaining({ itemId: "coins", quantity: 500 })] });
    expect(await verifyReceiptJws(won.json.receipt)).toBe(true);
    const twice = await claim(e.eventId, t1, 999, "rank-2");
    expect(twice.status).toBe(409);
    expect(twice.json.error.code).toBe("already_claimed");
    // f4 won nothing; f2 is held until ops clear the flag
    expect((await claim(e.eventId, await playerToken("f4"), 999, "x")).status).toBe(404);
    const t2 = await playerToken("f2");
    expect((await claim(e.eventId, t2, 999, "held")).status).toBe(404);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/f2/clear-flag`, { body: REASON })).status).toBe(200);
    const released = await claim(e.eventId, t2, 999, "released");
    expect(released.status).toBe(201);
    expect(released.json.receipt.rewards[0].quantity).toBe(100);
    // finalized boards take no more score, and refuse removal
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/f1/remove`, { body: REASON })).json.error.code).toBe("board_finalized");
    const rows = await env.DB.prepare("SELECT player_id, held FROM leaderboard_standings WHERE event_id = ? ORDER BY rank").bind(e.eventId).all<any>();
    expect(rows.results.map((r: any) => [r.player_id, r.held])).toEqual([["f1", 0], ["f2", 0], ["f3", 0], ["f4", 0]]);
    // The digest the board hashed line by line as it wrote the standings is the digest of the standings as recorded.
    const recorded = await env.DB.prepare("SELECT rank, player_id, score, reached_at FROM leaderboard_standings WHERE event_id = ? ORDER BY rank").bind(e.eventId).all<any>();
    const lines = recorded.results.map((r: any) => ({ rank: r.rank, playerId: r.player_id, score: r.score, reachedAt: r.reached_at, rewardTier: 0, held: false }));
    expect(sha256Hex(standingsDigestInput(e.eventId, "global", lines))).toBe(digest);
  });
});

describe("held rewards after the claim window", () => {
  it("clearing a flag after archive auto-claims the released rank reward at once", async () => {
    const e = await event({ rewardTiers: [{ fromRank: 1, toRank: 1, rewards: coins(500) }] });
    await post(e.eventId, "ar-1", "wins", 9);
    expect((await post(e.eventId, "ar-1", "wins", -1)).status).toBe(422);
    await until(() => inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM flagged").one().n), (n) => n === 1);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON })).json.boards[0]).toMatchObject({ held: 1 });
    await tickEvent(e.eventId, Date.now() + 25 * 3_600_000); // past the grace period: archived
    expect((await call("GET", `/v1/admin/events/${e.eventId}`)).json.state).toBe("archived");
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/ar-1/clear-flag`, { body: REASON })).status).toBe(200);
    const claims = await runInDurableObject(shardStubFor(e.eventId, "ar-1", e.shardCount), (_o: any, s) =>
      s.storage.sql.exec("SELECT milestone_index, source FROM claims WHERE player_id = 'ar-1' AND milestone_index = 999").toArray(),
    );
    expect(claims).toEqual([{ milestone_index: 999, source: "auto_claim" }]);
  });
});

describe("the cohort directory", () => {
  it("is not asked for a global board's players, which still list and finalize", async () => {
    const e = await event({});
    for (const p of ["gd-1", "gd-2", "gd-3"]) await post(e.eventId, p, "wins", 1);
    await until(() => top(e.eventId, "gd-1"), (r) => r.json.total === 3);
    expect(await inBoard(e.eventId, "~directory", (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM assignments").one().n)).toBe(0);
    expect((await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`)).json.cohorts).toEqual([{ cohortId: "global", members: 3 }]);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON })).json.boards).toEqual([expect.objectContaining({ cohortId: "global", entries: 3 })]);
  });

  it("finalizes many cohorts in chunks, the rest on its own schedule", async () => {
    const e = await event({ cohortSize: 1 });
    for (const p of ["ch-1", "ch-2", "ch-3", "ch-4", "ch-5"]) await post(e.eventId, p, "wins", 1);
    await until(() => call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`), (r) => r.json.cohorts.length === 5);
    await inBoard(e.eventId, "~directory", (o) => {
      o.directory.chunk = 2;
    });
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } });
    const first = await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON });
    expect(first.json.boards).toHaveLength(2);
    const all = await until(() => call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON }), (r) => r.json.boards?.length === 5);
    expect(all.value.json.boards.map((b: any) => b.cohortId)).toEqual(["all-0", "all-1", "all-2", "all-3", "all-4"]);
  });
});

describe("finalization waits for the shards", () => {
  it("a push failing across expiry still lands in the final standings; a running event's boards cannot be force-finalized", async () => {
    const e = await event({});
    await post(e.eventId, "late-1", "wins", 5);
    await until(() => me(e.eventId, "late-1"), (r) => r.json.rank === 1);
    // The board starts failing every push (its exactly-once table is gone), so the shards' batches stay in flight.
    await inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("ALTER TABLE sources RENAME TO sources_gone"));
    expect((await post(e.eventId, "late-2", "wins", 7)).status).toBe(200);
    expect((await post(e.eventId, "late-1", "wins", 1)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 600));
    const running = await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON });
    expect(running.status).toBe(409);
    expect(running.json.error.code).toBe("event_not_ended");
    expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    // Past the finalize row's time: the shards cannot deliver what they owe, so no board freezes.
    await tickEvent(e.eventId, Date.now() + 5000);
    expect(await inBoard(e.eventId, "global", (o) => o.final())).toBeNull();
    const owed = await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON });
    expect(owed.status).toBe(409);
    expect(owed.json.error.code).toBe("scores_in_flight");
    // The board recovers; the finalize row's retry flushes the shards first, then freezes.
    await inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("ALTER TABLE sources_gone RENAME TO sources"));
    await tickEvent(e.eventId, Date.now() + 10 * 60_000);
    const final = await until(() => call("GET", `/v1/admin/events/${e.eventId}/leaderboard/final`), (r) => r.json.standings?.length === 2);
    expect(final.value.json.standings.map((s: any) => [s.playerId, s.score])).toEqual([["late-2", 7], ["late-1", 6]]);
  });

  it("a new batch reaching a final board is refused as frozen, and the shard logs and counts the loss; a retried one is still an ack", async () => {
    const e = await event({});
    await post(e.eventId, "fz-1", "wins", 2);
    await until(() => me(e.eventId, "fz-1"), (r) => r.json.rank === 1);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { body: REASON })).status).toBe(200);
    const source = `${e.eventId}:${shardOf("fz-1", e.shardCount)}`;
    const seq = await inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT seq FROM sources WHERE source = ?", source).one().seq);
    const def = info(e.eventId, e.templateId, {});
    const retried = await inBoard(e.eventId, "global", (o) => o.push({ source, seq, info: def, entries: [{ playerId: "fz-1", value: 2, at: 1, flagged: false }] }));
    expect(retried).toMatchObject({ applied: false, frozen: false });
    // A batch the board never saw: the shard that sent it records the loss instead of dropping it silently.
    const shard = shardStubFor(e.eventId, "fz-1", e.shardCount);
    const refused = await runInDurableObject(shard, async (o: any, s) => {
      s.storage.sql.exec("INSERT INTO board_pending (player_id, cohort_id, value, at, flagged) VALUES ('fz-1', 'global', 3, 1, 0)");
      await o.board.pushCohort(o.info.board, "global", Date.now());
      return s.storage.sql.exec("SELECT v FROM meta WHERE k = 'board_refused'").one().v;
    });
    expect(Number(refused)).toBe(1);
    expect((await me(e.eventId, "fz-1")).json.score).toBe(2);
  });
});

describe("finalize against concurrent pushes", () => {
  it("a push landing while finalize awaits its tier read is in the final standings", async () => {
    const e = await event({ tiers: { names: ["bronze", "silver"], promoteTopPercent: 50, demoteBottomPercent: 0 } });
    const def = info(e.eventId, e.templateId, { tiers: { names: ["bronze", "silver"], promoteTopPercent: 50, demoteBottomPercent: 0 } });
    const entry = (playerId: string, value: number) => ({ playerId, value, at: 1000, flagged: false });
    const standings = await inBoard(e.eventId, "global", async (o, s) => {
      await o.push({ source: "x:0", seq: 1, info: def, entries: [entry("cc-1", 5)] });
      const finalizing = o.finalize(def, "test");
      // finalize is now awaiting D1 (the players' tiers); this push lands meanwhile
      const pushed = await o.push({ source: "x:0", seq: 2, info: def, entries: [entry("cc-2", 9)] });
      const summary = await finalizing;
      return { pushed, summary, rows: s.storage.sql.exec("SELECT rank, player_id FROM standings ORDER BY rank").toArray() };
    });
    expect(standings.pushed).toMatchObject({ applied: true, frozen: false });
    expect(standings.summary.entries).toBe(2);
    expect(standings.rows).toEqual([{ rank: 1, player_id: "cc-2" }, { rank: 2, player_id: "cc-1" }]);
  });
});

describe("board writes", () => {
  it("a player flagged again after ops cleared them is held again", async () => {
    const e = await event({});
    const def = info(e.eventId, e.templateId, {});
    const flag = (seq: number) => ({ source: "x:0", seq, info: def, entries: [{ playerId: "rf-1", value: 1, at: 1000 + seq, flagged: true }] });
    const audit = { actor: "test", reason: "r" };
    const result = await inBoard(e.eventId, "global", async (o) => {
      await o.push(flag(1));
      const cleared = await o.act("rf-1", "clear_flag", audit);
      await o.push(flag(2));
      const again = await o.act("rf-1", "clear_flag", audit);
      return { cleared: cleared.ok, again: again.ok };
    });
    expect(result).toEqual({ cleared: true, again: true });
  });

  it("a client mistake (not a number, unknown objective) is refused without flagging the player; an implausible amount flags them", async () => {
    const e = await event({});
    await post(e.eventId, "mk-1", "wins", 3);
    await post(e.eventId, "mk-2", "wins", 3);
    expect((await post(e.eventId, "mk-1", "wins", "three")).status).toBe(422);
    expect((await post(e.eventId, "mk-1", "nope", 1)).status).toBe(422);
    expect((await post(e.eventId, "mk-2", "wins", 1e12)).status).toBe(422);
    const flagged = await until(
      () => inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT player_id FROM flagged ORDER BY player_id").toArray().map((r: any) => r.player_id)),
      (ids) => ids.length > 0,
    );
    await new Promise((r) => setTimeout(r, 400)); // any flag push for mk-1 would have landed by now
    expect(await inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT player_id FROM flagged").toArray().map((r: any) => r.player_id))).toEqual(["mk-2"]);
    expect(flagged.value).toEqual(["mk-2"]);
  });

  it("a lower best (or the same set) reported before the push keeps the time the pending value was reached", async () => {
    const e = await event({ source: { kind: "trackingKey", trackingKey: "arena.rating" }, operator: "best" });
    await post(e.eventId, "tb-0", "rating", 10); // the shard learns of its event and board
    const shard = shardStubFor(e.eventId, "tb-0", e.shardCount);
    const at = await runInDurableObject(shard, (o: any, s) => {
      s.storage.sql.exec("INSERT INTO board_players (player_id, cohort_id) VALUES ('tb-1', 'global')");
      const state = { objectives: {} };
      const report = (amount: number, now: number) => o.board.record(o.info, "tb-1", [{ objectiveId: "rating", amount, seq: now }], [now], state, state, 0, now);
      report(1500, 1000);
      report(1400, 2000);
      const first = s.storage.sql.exec("SELECT value, at FROM board_pending WHERE player_id = 'tb-1'").one();
      report(1600, 3000);
      const moved = s.storage.sql.exec("SELECT value, at FROM board_pending WHERE player_id = 'tb-1'").one();
      return { first, moved };
    });
    expect(at).toEqual({ first: { value: 1500, at: 1000 }, moved: { value: 1600, at: 3000 } });
  });

  it("an older run's tier projection landing late does not move a tier back", async () => {
    const series = `tier-order-${Date.now()}/main`;
    const write = (eventId: string, tier: string, updatedAt: number) => env.DB.batch(tierStatements(env.DB, [{ seriesKey: series, playerId: "to-1", tier, eventId, updatedAt }]));
    await write("evt_run2", "gold", 2000);
    await write("evt_run1", "silver", 1000);
    const row = await env.DB.prepare("SELECT tier, event_id FROM leaderboard_tiers WHERE series_key = ? AND player_id = 'to-1'").bind(series).first();
    expect(row).toEqual({ tier: "gold", event_id: "evt_run2" });
  });

  it("a batch that fails half-way leaves neither its rows nor the in-memory ranking changed", async () => {
    const e = await event({});
    const def = info(e.eventId, e.templateId, {});
    const result = await inBoard(e.eventId, "global", async (o, s) => {
      await o.push({ source: "x:0", seq: 1, info: def, entries: [{ playerId: "tx-1", value: 1, at: 1000, flagged: false }] });
      // the exactly-once write at the end of the transaction fails, after the entries were written
      s.storage.sql.exec("ALTER TABLE sources RENAME TO sources_gone");
      s.storage.sql.exec("CREATE TABLE sources (source TEXT PRIMARY KEY, seq INTEGER NOT NULL CHECK (seq < 2))");
      s.storage.sql.exec("INSERT INTO sources SELECT * FROM sources_gone");
      const failed = await o.push({ source: "x:0", seq: 2, info: def, entries: [{ playerId: "tx-2", value: 50, at: 1000, flagged: false }] }).then(() => "applied", (err: unknown) => String(err));
      const rows = s.storage.sql.exec("SELECT player_id FROM entries ORDER BY player_id").toArray().map((r: any) => r.player_id);
      return { failed, rows, top: (await o.top(10, null)).value.entries.map((r: any) => r.playerId) };
    });
    expect(result.failed).toMatch(/CHECK constraint/);
    expect(result.rows).toEqual(["tx-1"]);
    expect(result.top).toEqual(["tx-1"]);
  });
});

describe("projection", () => {
  it("projects every final standing to D1, across more than one flush's worth of rows", async () => {
    const e = await event({});
    const def = info(e.eventId, e.templateId, {});
    const players = Array.from({ length: 7 }, (_, i) => ({ playerId: `pj-${i}`, value: 10 + i, at: 1000, flagged: false }));
    await inBoard(e.eventId, "global", async (o) => {
      o.projectRows = 3; // three flushes: 3 + 3 + 1
      await o.push({ source: "x:0", seq: 1, info: def, entries: players });
      await o.finalize(def, "test");
    });
    const rows = await until(
      () => env.DB.prepare("SELECT COUNT(*) AS n FROM leaderboard_standings WHERE event_id = ?").bind(e.eventId).first<{ n: number }>(),
      (r) => r?.n === 7,
      5000,
    );
    expect(rows.value?.n).toBe(7);
  });
});

describe("ops actions", () => {
  it("remove and ban need a reason, are audited, and a banned player's later scores are refused", async () => {
    const e = await event({});
    await post(e.eventId, "o1", "wins", 4);
    await post(e.eventId, "o2", "wins", 8);
    await until(() => top(e.eventId, "o1"), (r) => r.json.total === 2);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/o2/ban`, { body: {} })).json.error.code).toBe("validation_failed");
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/o2/smite`, { body: REASON })).status).toBe(400);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/ghost/remove`, { body: REASON })).status).toBe(404);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/o2/ban`, { body: REASON })).json).toEqual({ playerId: "o2", action: "ban", cohortId: "global" });
    expect((await top(e.eventId, "o1")).json.entries.map((r: any) => r.playerId)).toEqual(["o1"]);
    await post(e.eventId, "o2", "wins", 50);
    await new Promise((r) => setTimeout(r, 500));
    expect((await me(e.eventId, "o2")).json.rank).toBeNull();
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/entries/o1/remove`, { body: REASON })).status).toBe(200);
    const audit = await inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT actor, action, player_id, reason FROM audit ORDER BY seq").toArray());
    expect(audit).toEqual([
      { actor: "bootstrap", action: "ban", player_id: "o2", reason: REASON.reason },
      { actor: "bootstrap", action: "remove", player_id: "o1", reason: REASON.reason },
    ]);
    const viewer = await (await import("./helpers")).apiKey({ name: "lb-viewer", role: "viewer" });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/leaderboard/finalize`, { token: viewer.key, body: REASON })).status).toBe(403);
    expect((await call("GET", `/v1/admin/events/${e.eventId}/leaderboard/cohorts`, { token: viewer.key })).status).toBe(200);
  });
});

describe("live frames", () => {
  it("sends the player a rank frame when their rank changes, and leaderboard_top when the top 10 does", async () => {
    const e = await event({});
    const { client } = await connect(e.eventId, await playerToken("live-1"));
    expect(client).not.toBeNull();
    await client!.next((f) => f.type === "event_state");
    await post(e.eventId, "live-1", "wins", 3);
    const rank = await client!.next((f) => f.type === "rank", 1500);
    expect(rank).toMatchObject({ eventId: e.eventId, cohortId: "global", rank: 1, score: 3, total: 1 });
    const topFrame = await client!.next((f) => f.type === "leaderboard_top", 2500);
    expect(topFrame.entries).toEqual([expect.objectContaining({ rank: 1, playerId: "live-1", score: 3 })]);
    client!.ws.close(1000);
  });
});

describe("tiers across a series", () => {
  it("promotes and demotes from the final rank, and the next run matches cohorts by tier", async () => {
    const rules = { names: ["bronze", "silver", "gold"], promoteTopPercent: 25, demoteBottomPercent: 25 };
    const run1 = await event({ cohortSize: 10, matching: "tier", tiers: rules });
    for (const [p, w] of [["t1", 40], ["t2", 30], ["t3", 20], ["t4", 10]] as const) await post(run1.eventId, p, "wins", w);
    await until(() => me(run1.eventId, "t4"), (r) => r.json.total === 4);
    expect((await call("GET", `/v1/admin/events/${run1.eventId}/leaderboard/cohorts`)).json.cohorts).toEqual([{ cohortId: "bronze-0", members: 4 }]);
    await call("POST", `/v1/admin/events/${run1.eventId}/end-now`, { body: { reason: "test" } });
    await call("POST", `/v1/admin/events/${run1.eventId}/leaderboard/finalize`, { body: REASON });
    const tiers = await env.DB.prepare("SELECT player_id, tier FROM leaderboard_tiers WHERE series_key = ? ORDER BY player_id").bind(`${run1.templateId}/main`).all<any>();
    expect(tiers.results.map((r: any) => [r.player_id, r.tier])).toEqual([["t1", "silver"], ["t2", "bronze"], ["t3", "bronze"], ["t4", "bronze"]]);
    // run 2 of the same template and board key
    const second = await call("POST", "/v1/admin/events", { body: { templateId: run1.templateId, startTime: "now", endTime: new Date(Date.now() + 3_600_000).toISOString(), shardCount: 2 } });
    made.push({ eventId: second.json.eventId, shardCount: 2 });
    for (const p of ["t1", "t2"]) await post(second.json.eventId, p, "wins", 1);
    const cohorts = await call("GET", `/v1/admin/events/${second.json.eventId}/leaderboard/cohorts`);
    expect(cohorts.json.cohorts).toEqual([{ cohortId: "bronze-0", members: 1 }, { cohortId: "silver-0", members: 1 }]);
  });
});
