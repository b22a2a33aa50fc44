// Bench-only measurements inside a board object (`npm run bench`, through GET /v1/_bench/leaderboard, which answers
// only with ENABLE_BENCH_ROUTES=true). The Workers runtime advances its clock only across I/O, so single reads cannot
// be timed in the object: reads are timed in batches with a zero-length timer between them, and each batch's mean is
// one sample. The percentiles are over those batch means.
import { RankIndex } from "../../domain/ranking";

export const BENCH_BATCH = 50;

/** A realistic player id: 40 characters, as a UUID-like or platform id is, so memory per entry counts a real id. */
export const benchId = (i: number) => `bench-player-${i.toString(36).padStart(8, "0")}-000000000000000000`.slice(0, 40);

/** n synthetic entries in rank order (scores with ties, as a real board has), built as a rebuild builds: by columns. */
export function benchIndex(n: number): RankIndex {
  const ids = new Array<string>(n);
  const scores = new Float64Array(n);
  const at = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = benchId(i);
    scores[i] = n - Math.floor(i / 4);
    at[i] = i % 4;
  }
  const index = new RankIndex(true, n + 16);
  index.buildColumns(n, ids, scores, at);
  return index;
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

/** Top-100 pages, around-me (rank + 10 each side) for random players, and score moves, on `index`. */
export async function benchProbe(index: RankIndex, batches: number) {
  const n = index.count;
  let x = 0x2545f491;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const top = await timed(batches, () => index.range(1, 100));
  const around = await timed(batches, () => {
    const id = benchId(rand());
    const rank = index.rank(id);
    index.range(Math.max(1, rank - 10), 21);
  });
  const moves = await timed(batches, () => {
    const id = benchId(rand());
    const e = index.get(id);
    if (e) index.upsert(id, e.score + 1, e.reachedAt + 1);
  });
  const exact = index.atRank(1) !== null && index.rank(index.atRank(n)!.playerId) === n;
  return {
    entries: n,
    depth: index.depth(),
    exact,
    topP50: pct(top, 50),
    topP99: pct(top, 99),
    aroundP50: pct(around, 50),
    aroundP99: pct(around, 99),
    updateP50: pct(moves, 50),
    updateP99: pct(moves, 99),
    batch: BENCH_BATCH,
  };
}
