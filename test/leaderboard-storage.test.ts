// A board's storage through the real runtime: the index holds numbers only and takes player ids from the object's
// SQLite, so what a route shows must match the entries table row for row; the schema step that gave entries their
// slot keeps an existing board's rows and order.
import { describe, expect, it } from "vitest";
import { migrate } from "../src/actors/kit/migrate";
import { LEADERBOARD_SCHEMA } from "../src/actors/leaderboard/schema";
import { boardStub, inBoard } from "./leaderboard-helpers";

describe("a board of 50,000 entries", () => {
  it("pages, answers around-me with the right ids, and comes back identical after its memory is gone", async () => {
    const board = boardStub("evt_storage_big", "global");
    const load = await board.benchLoad(50_000);
    expect(load.entries).toBe(50_000);
    const first = await board.top(100, null);
    if (!first.ok) throw new Error("no page");
    expect(first.value.total).toBe(50_000);
    // benchFill: player i has score n - floor((i-1)/4) and time (i-1) % 4, so rank order is arrival order.
    expect(first.value.entries.slice(0, 5).map((e) => [e.rank, e.playerId, e.score])).toEqual([
      [1, "bench-player-00000001-0000000000000000000", 50_000],
      [2, "bench-player-00000002-0000000000000000000", 50_000],
      [3, "bench-player-00000003-0000000000000000000", 50_000],
      [4, "bench-player-00000004-0000000000000000000", 50_000],
      [5, "bench-player-00000005-0000000000000000000", 49_999],
    ]);
    const next = await board.top(100, first.value.nextCursor);
    if (!next.ok) throw new Error("no second page");
    expect(next.value.entries[0]).toMatchObject({ rank: 101, playerId: "bench-player-00000101-0000000000000000000" });
    const mine = await board.me("bench-player-00031337-0000000000000000000", 2);
    expect(mine.rank).toBe(31_337);
    expect(mine.neighbours.map((e) => [e.rank, e.playerId.slice(13, 21)])).toEqual([
      [31_335, "00031335"],
      [31_336, "00031336"],
      [31_337, "00031337"],
      [31_338, "00031338"],
      [31_339, "00031339"],
    ]);
    // The index costs its typed arrays only: 32 B per slot, a little more for growth headroom.
    const bytes = await inBoard("evt_storage_big", "global", (o) => o.ranking.bytes / o.ranking.count);
    expect(bytes).toBeGreaterThanOrEqual(32);
    expect(bytes).toBeLessThan(41);
    await inBoard("evt_storage_big", "global", (o) => {
      o.ranking = null;
    });
    const again = await board.me("bench-player-00031337-0000000000000000000", 2);
    expect(again).toEqual(mine);
    const page = await board.top(100, null);
    expect(page.ok && page.value.entries).toEqual(first.value.entries);
    // A cursor given out before entries had slots names its player: it still resumes right after them.
    const hundredth = first.value.entries[99];
    const legacy = btoa(JSON.stringify([-hundredth.score, Date.parse(hundredth.reachedAt), hundredth.playerId])).replaceAll("=", "");
    const resumed = await board.top(3, legacy);
    expect(resumed.ok && resumed.value.entries.map((e) => e.rank)).toEqual([101, 102, 103]);
    // One not given out at all is refused, not guessed.
    for (const bad of ["nope", btoa(JSON.stringify([1, 2, 0])), btoa(JSON.stringify([1, 2, ""])), btoa(JSON.stringify(["x", 2, 3]))]) {
      const refused = await board.top(10, bad);
      expect(refused).toMatchObject({ ok: false, status: 400, code: "invalid_cursor" });
    }
  });
});

describe("schema steps 3 to 5", () => {
  it("gives an existing board's entries slots in their arrival order and keeps every row", async () => {
    const ranked = await inBoard("evt_storage_migrate", "global", (o, s) => {
      const sql = s.storage.sql;
      // Back to the shape a board had before step 3: the old entries table and version 2.
      sql.exec("DROP TABLE entries");
      sql.exec("CREATE TABLE entries (player_id TEXT PRIMARY KEY, score REAL NOT NULL, reached_at INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active')");
      sql.exec("CREATE INDEX idx_entries_order ON entries (score DESC, reached_at, player_id) WHERE status = 'active'");
      sql.exec("DROP INDEX idx_standings_pending");
      sql.exec("DROP TABLE tier_seen");
      sql.exec("UPDATE schema_version SET version = 2");
      for (const [id, score, at, status] of [["zed", 10, 5, "active"], ["amy", 10, 5, "active"], ["bob", 20, 1, "active"], ["cheat", 99, 1, "banned"]] as const) {
        sql.exec("INSERT INTO entries (player_id, score, reached_at, source, status) VALUES (?, ?, ?, 'evt:0', ?)", id, score, at, status);
      }
      expect(migrate(s.storage, LEADERBOARD_SCHEMA)).toBe(LEADERBOARD_SCHEMA.length);
      const rows = sql.exec<{ slot: number; player_id: string; status: string }>("SELECT slot, player_id, status FROM entries ORDER BY slot").toArray();
      expect(rows.map((r) => [r.slot, r.player_id, r.status])).toEqual([[1, "zed", "active"], [2, "amy", "active"], [3, "bob", "active"], [4, "cheat", "banned"]]);
      o.ranking = null;
      return o.page(10, 1).entries.map((e: { playerId: string }) => e.playerId);
    });
    // Equal score and time: the one that came to the board first (zed) ranks higher; the banned row stays out.
    expect(ranked).toEqual(["bob", "zed", "amy"]);
  });
});
