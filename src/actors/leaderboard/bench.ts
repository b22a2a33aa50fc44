// Bench-only measurements inside a board object (`npm run bench`, through GET /v1/_bench/leaderboard, which answers
// only with ENABLE_BENCH_ROUTES=true). The load writes synthetic entries into the object's own SQLite and the index is
// rebuilt from there, as a wake rebuilds it; the probes go through the same code the routes use (index, then the
// player ids from SQLite). The Workers runtime advances its clock only across I/O, so single reads cannot be timed in
// the object: reads are timed in batches with a zero-length timer between them, and each batch's mean is one sample.
// The percentiles are over those batch means.
import { RankIndex } from "../../domain/ranking";

export const BENCH_BATCH = 50;

/** The SQL form of a realistic 40-character player id, as a UUID-like or platform id is, so storage counts a real id. */
const BENCH_ID_SQL = "printf('bench-player-%08d-0000000000000000000', i)";
export const benchId = (i: number) => `bench-player-${String(i).padStart(8, "0")}-0000000000000000000`;

/** n synthetic entries (scores with ties, as a real board has) written in one statement; returns the count. */
export function benchFill(sql: SqlStorage, n: number): number {
  sql.exec("DELETE FROM entries");
  sql.exec(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
     INSERT INTO entries (slot, player_id, score, reached_at, source) SELECT i, ${BENCH_ID_SQL}, ? - ((i - 1) / 4), (i - 1) % 4, 'bench' FROM seq`,
    n,
    n,
  );
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries").one().n;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function timed(batches: number, op: (i: number) => void): Promise<number[]> {
  const out: number[] = [];
  let k = 0;
  for (let b = 0; b < batches; b++) {
    await tick();
    const t0 = performance.now();
    for (let i = 0; i < BENCH_BATCH; i++) op(k++);
    await tick();
    out.push((performance.now() - t0) / BENCH_BATCH);
  }
  return out.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;

export type BenchOps = {
  /** The first page of 100, with player ids, as GET /leaderboard answers it. */
  top: () => void;
  /** A player's rank and ±10 neighbours with ids, as GET /leaderboard/me answers it. */
  around: (playerId: string) => void;
  /** A score move as a push makes it: the row, then the index. */
  move: (playerId: string) => void;
};

/** Top-100 pages, around-me for random players, and score moves. */
export async function benchProbe(index: RankIndex, ops: BenchOps, batches: number) {
  const n = index.count;
  let x = 0x2545f491;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % n);
  };
  const top = await timed(batches, () => ops.top());
  const around = await timed(batches, () => ops.around(benchId(rand())));
  const moves = await timed(batches, () => ops.move(benchId(rand())));
  const last = index.atRank(n);
  const exact = n > 0 && index.atRank(1) !== null && last !== null && index.rank(last.slot) === n;
  return {
    entries: n,
    depth: index.depth(),
    exact,
    indexBytesPerEntry: n ? index.bytes / n : 0,
    topP50: pct(top, 50),
    topP99: pct(top, 99),
    aroundP50: pct(around, 50),
    aroundP99: pct(around, 99),
    updateP50: pct(moves, 50),
    updateP99: pct(moves, 99),
    batch: BENCH_BATCH,
  };
}
