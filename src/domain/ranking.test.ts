import { describe, expect, it } from "vitest";
import { RankIndex, type RankEntry } from "./ranking";

/** The reference: a full sort by the same order. */
function naive(entries: Map<string, RankEntry>, descending: boolean): RankEntry[] {
  return [...entries.values()].sort((a, b) => {
    if (a.score !== b.score) return descending ? b.score - a.score : a.score - b.score;
    if (a.reachedAt !== b.reachedAt) return a.reachedAt - b.reachedAt;
    return a.playerId < b.playerId ? -1 : a.playerId > b.playerId ? 1 : 0;
  });
}

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("RankIndex", () => {
  for (const descending of [true, false]) {
    it(`matches a naive sort under random upserts and removals (${descending ? "desc" : "asc"})`, () => {
      const rand = rng(descending ? 7 : 11);
      const index = new RankIndex(descending, 4);
      const truth = new Map<string, RankEntry>();
      for (let step = 0; step < 4000; step++) {
        const id = `p${Math.floor(rand() * 600)}`;
        if (rand() < 0.15) {
          expect(index.remove(id)).toBe(truth.delete(id));
        } else {
          // Few distinct scores and times, so ties (and the tiebreaks) are common.
          const e = { playerId: id, score: Math.floor(rand() * 20) - 5, reachedAt: Math.floor(rand() * 5) };
          index.upsert(id, e.score, e.reachedAt);
          truth.set(id, e);
        }
        if (step % 250 === 0 || step === 3999) {
          const sorted = naive(truth, descending);
          expect(index.count).toBe(sorted.length);
          expect(index.all().map(({ rank: _r, ...e }) => e)).toEqual(sorted);
          sorted.forEach((e, i) => expect(index.rank(e.playerId)).toBe(i + 1));
          const from = 1 + Math.floor(rand() * Math.max(1, sorted.length));
          expect(index.range(from, 7).map((e) => e.playerId)).toEqual(sorted.slice(from - 1, from + 6).map((e) => e.playerId));
          expect(index.atRank(from)?.playerId).toBe(sorted[from - 1]?.playerId);
        }
      }
    });
  }

  it("breaks ties by earlier reachedAt, then by player id, the same way every time", () => {
    const index = new RankIndex();
    index.upsert("b", 10, 5);
    index.upsert("a", 10, 5);
    index.upsert("c", 10, 1);
    index.upsert("d", 11, 9);
    expect(index.all().map((e) => e.playerId)).toEqual(["d", "c", "a", "b"]);
    expect(index.rank("a")).toBe(3);
    expect(index.rank("missing")).toBe(0);
    expect(index.range(5, 3)).toEqual([]);
    expect(index.range(0, 3)).toEqual([]);
  });

  it("pages with a cursor that survives rank changes above it", () => {
    const index = new RankIndex();
    for (let i = 0; i < 10; i++) index.upsert(`p${i}`, 100 - i, 0);
    const page = index.range(1, 3);
    const cursor = index.cursorKey(page[2]);
    index.upsert("p9", 1000, 1); // jumps to the top: the next page must still start after p2
    const start = index.countBefore(cursor) + 2;
    expect(index.range(start, 3).map((e) => e.playerId)).toEqual(["p3", "p4", "p5"]);
  });

  it("builds 1,000,000 sorted entries in one pass and stays exact and shallow", () => {
    const n = 1_000_000;
    const entries: RankEntry[] = new Array(n);
    // Descending scores with runs of ties broken by time: the order SQLite's index hands back on wake.
    for (let i = 0; i < n; i++) entries[i] = { playerId: `p${i}`, score: n - Math.floor(i / 3), reachedAt: i % 3 };
    const index = new RankIndex(true, 16);
    index.buildSorted(entries);
    expect(index.count).toBe(n);
    expect(index.depth()).toBeLessThan(64);
    for (const r of [1, 2, 3, 4, 500_000, 999_999, 1_000_000]) {
      expect(index.atRank(r)?.playerId).toBe(`p${r - 1}`);
      expect(index.rank(`p${r - 1}`)).toBe(r);
    }
    // Moves after the build are exact too.
    index.upsert("p999999", n + 1, 0);
    expect(index.rank("p999999")).toBe(1);
    expect(index.rank("p0")).toBe(2);
    index.remove("p0");
    expect(index.range(1, 3).map((e) => e.playerId)).toEqual(["p999999", "p1", "p2"]);
    expect(index.count).toBe(n - 1);
  });
});

describe("building from columns", () => {
  it("ranks rows given in SQLite's byte order by the index's own order, where the two disagree", () => {
    // UTF-8 puts U+FF01 before U+1F600; UTF-16 (JS) puts the surrogate pair of U+1F600 first.
    const ids = ["a", "\uFF01", "\u{1F600}", "z"];
    const index = new RankIndex(true, 8);
    index.buildColumns(4, ids, Float64Array.from([9, 5, 5, 1]), Float64Array.from([1, 1, 1, 1]));
    const order = index.all().map((e) => e.playerId);
    expect(order).toEqual(["a", "\u{1F600}", "\uFF01", "z"]);
    for (const [i, id] of order.entries()) expect(index.rank(id)).toBe(i + 1);
    index.upsert("\uFF01", 5, 1);
    expect(index.all().map((e) => e.playerId)).toEqual(order);
  });

  it("takes rows already in order as they are", () => {
    const index = new RankIndex(false, 8);
    index.buildColumns(3, ["x", "y", "w"], Float64Array.from([1, 2, 3]), Float64Array.from([0, 0, 0]));
    expect(index.all().map((e) => [e.rank, e.playerId])).toEqual([[1, "x"], [2, "y"], [3, "w"]]);
  });
});
