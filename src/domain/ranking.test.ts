import { describe, expect, it } from "vitest";
import { RankIndex, type RankEntry } from "./ranking";

/** The reference: a full sort by the same order. */
function naive(entries: Map<number, RankEntry>, descending: boolean): RankEntry[] {
  return [...entries.values()].sort((a, b) => {
    if (a.score !== b.score) return descending ? b.score - a.score : a.score - b.score;
    if (a.reachedAt !== b.reachedAt) return a.reachedAt - b.reachedAt;
    return a.slot - b.slot;
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
      const truth = new Map<number, RankEntry>();
      for (let step = 0; step < 4000; step++) {
        const slot = 1 + Math.floor(rand() * 600);
        if (rand() < 0.15) {
          expect(index.remove(slot)).toBe(truth.delete(slot));
        } else {
          // Few distinct scores and times, so ties (and the tiebreaks) are common.
          const e = { slot, score: Math.floor(rand() * 20) - 5, reachedAt: Math.floor(rand() * 5) };
          index.upsert(slot, e.score, e.reachedAt);
          truth.set(slot, e);
        }
        if (step % 250 === 0 || step === 3999) {
          const sorted = naive(truth, descending);
          expect(index.count).toBe(sorted.length);
          expect(index.all().map(({ rank: _r, ...e }) => e)).toEqual(sorted);
          sorted.forEach((e, i) => expect(index.rank(e.slot)).toBe(i + 1));
          const from = 1 + Math.floor(rand() * Math.max(1, sorted.length));
          expect(index.range(from, 7).map((e) => e.slot)).toEqual(sorted.slice(from - 1, from + 6).map((e) => e.slot));
          expect(index.atRank(from)?.slot).toBe(sorted[from - 1]?.slot);
        }
      }
    });
  }

  it("breaks ties by earlier reachedAt, then by the earlier slot (first on the board), the same way every time", () => {
    const index = new RankIndex();
    index.upsert(2, 10, 5);
    index.upsert(1, 10, 5);
    index.upsert(3, 10, 1);
    index.upsert(4, 11, 9);
    expect(index.all().map((e) => e.slot)).toEqual([4, 3, 1, 2]);
    expect(index.rank(1)).toBe(3);
    expect(index.rank(99)).toBe(0);
    expect(index.rank(0)).toBe(0);
    expect(index.rank(1.5)).toBe(0);
    expect(index.range(5, 3)).toEqual([]);
    expect(index.range(0, 3)).toEqual([]);
    expect(() => index.upsert(0, 1, 1)).toThrow(RangeError);
    expect(index.count).toBe(4);
  });

  it("treats 0 and -0 as one score", () => {
    const index = new RankIndex();
    index.upsert(1, -0, 1);
    index.upsert(2, 0, 0);
    expect(index.all().map((e) => e.slot)).toEqual([2, 1]);
  });

  it("pages with a cursor that survives rank changes above it", () => {
    const index = new RankIndex();
    for (let i = 1; i <= 10; i++) index.upsert(i, 100 - i, 0);
    const page = index.range(1, 3);
    const cursor = index.cursorKey(page[2]);
    index.upsert(10, 1000, 1); // jumps to the top: the next page must still start after slot 3
    const start = index.countBefore(cursor) + 2;
    expect(index.range(start, 3).map((e) => e.slot)).toEqual([4, 5, 6]);
  });

  it("builds 1,000,000 sorted entries in one pass, 32 bytes each, and stays exact and shallow", () => {
    const n = 1_000_000;
    // Descending scores with runs of ties broken by time: the order SQLite's index hands back on wake. Slots are
    // handed out in a different order from the ranks, as a real board's arrival order is.
    const slotOf = (i: number) => ((i * 7919) % n) + 1;
    const index = new RankIndex(true, 16);
    const built = index.buildSorted(n, (i) => ({ slot: slotOf(i), score: n - Math.floor(i / 3), reachedAt: i % 3 }));
    expect(built).toBe(n);
    expect(index.count).toBe(n);
    expect(index.bytes / n).toBeLessThanOrEqual(2 * RankIndex.BYTES_PER_SLOT + 1);
    expect(index.depth()).toBeLessThan(64);
    for (const r of [1, 2, 3, 4, 500_000, 999_999, 1_000_000]) {
      expect(index.atRank(r)?.slot).toBe(slotOf(r - 1));
      expect(index.rank(slotOf(r - 1))).toBe(r);
    }
    // Moves after the build are exact too, and the tree stays shallow under them.
    const last = slotOf(n - 1);
    index.upsert(last, n + 1, 0);
    expect(index.rank(last)).toBe(1);
    expect(index.rank(slotOf(0))).toBe(2);
    index.remove(slotOf(0));
    expect(index.range(1, 3).map((e) => e.slot)).toEqual([last, slotOf(1), slotOf(2)]);
    expect(index.count).toBe(n - 1);
    for (let i = 0; i < 20_000; i++) index.upsert(slotOf(i * 37 % n), i, i);
    expect(index.depth()).toBeLessThan(80);
  }, 30_000); // a second alone; longer on a machine shared with other test processes
});

describe("building from rows", () => {
  it("sorts rows that arrive out of order instead of trusting them", () => {
    const rows: RankEntry[] = [
      { slot: 4, score: 1, reachedAt: 0 },
      { slot: 2, score: 9, reachedAt: 1 },
      { slot: 3, score: 5, reachedAt: 1 },
      { slot: 1, score: 5, reachedAt: 1 },
    ];
    const index = new RankIndex(true, 2);
    expect(index.buildSorted(rows.length, (i) => rows[i])).toBe(4);
    expect(index.all().map((e) => e.slot)).toEqual([2, 1, 3, 4]);
    index.upsert(3, 5, 1);
    expect(index.all().map((e) => e.slot)).toEqual([2, 1, 3, 4]);
  });

  it("takes rows already in order as they are, and stops where the rows end", () => {
    const rows: RankEntry[] = [
      { slot: 7, score: 1, reachedAt: 0 },
      { slot: 8, score: 2, reachedAt: 0 },
    ];
    const index = new RankIndex(false, 2);
    expect(index.buildSorted(5, (i) => rows[i] ?? null)).toBe(2);
    expect(index.all().map((e) => [e.rank, e.slot])).toEqual([[1, 7], [2, 8]]);
    // A rebuild replaces what was there.
    expect(index.buildSorted(1, () => ({ slot: 3, score: 4, reachedAt: 0 }))).toBe(1);
    expect(index.all().map((e) => e.slot)).toEqual([3]);
    expect(index.has(7)).toBe(false);
  });
});
