// Response-time histograms for the p95 alert: fixed log-spaced buckets, so every isolate's minute is a handful of
// counts that add up exactly across isolates (no reservoir, no per-request row), and a percentile of the sum is the
// percentile of all requests, to within one bucket. Pure: the middleware and D1 keep them, this decides the maths.

/** Buckets per doubling: neighbouring bounds are 2^(1/8) ≈ 9 % apart. */
export const BUCKETS_PER_DOUBLING = 8;
/** 2^17 ms ≈ 131 s: anything slower counts in the last bucket. */
export const LAST_BUCKET = 17 * BUCKETS_PER_DOUBLING;

/** Bucket b holds durations in (2^((b-1)/8), 2^(b/8)] ms; bucket 0 holds ≤ 1 ms. */
export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  // The epsilon keeps exact powers (2048 ms) in their own bucket despite log2's rounding.
  return Math.min(LAST_BUCKET, Math.ceil(BUCKETS_PER_DOUBLING * Math.log2(ms) - 1e-9));
}

/** A bucket's upper bound in ms (what a percentile in it reports: the p95 is at most this). */
export const bucketUpperMs = (b: number): number => Math.round(2 ** (b / BUCKETS_PER_DOUBLING));

/** bucket → count. */
export type Histogram = Map<number, number>;

export function record(h: Histogram, ms: number) {
  const b = bucketOf(ms);
  h.set(b, (h.get(b) ?? 0) + 1);
}

export const total = (h: Histogram): number => [...h.values()].reduce((a, b) => a + b, 0);

/** A bucket's exact lower bound in ms (exclusive: every duration in bucket b is above it); 0 for bucket 0. */
export const bucketLowerExact = (b: number): number => (b <= 0 ? 0 : 2 ** ((b - 1) / BUCKETS_PER_DOUBLING));

/** The bucket holding the nearest-rank percentile (p in 0–100); null with fewer than `minSamples`. */
export function percentileBucket(h: Histogram, p: number, minSamples: number): number | null {
  const n = total(h);
  if (n === 0 || n < minSamples) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let seen = 0;
  for (const b of [...h.keys()].sort((x, y) => x - y)) {
    seen += h.get(b)!;
    if (seen >= rank) return b;
  }
  return null;
}

/** Nearest-rank percentile (p in 0–100) as its bucket's upper bound; null with fewer than `minSamples`. */
export function histogramPercentile(h: Histogram, p: number, minSamples: number): number | null {
  const b = percentileBucket(h, p, minSamples);
  return b === null ? null : bucketUpperMs(b);
}

/**
 * Is the nearest-rank percentile certainly above `thresholdMs`? Only responses in buckets whose lower bound is at or
 * above the threshold are certainly slower than it; the bucket straddling the threshold may hold durations on either
 * side, so it never counts (a percentile that may be at or below the threshold is not "above" it). True when those
 * certainly-slower responses reach down to the percentile's rank; null with fewer than `minSamples`.
 */
export function percentileAbove(h: Histogram, p: number, thresholdMs: number, minSamples: number): boolean | null {
  const n = total(h);
  if (n === 0 || n < minSamples) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let slower = 0;
  for (const [b, count] of h) if (bucketLowerExact(b) >= thresholdMs) slower += count;
  return slower >= n - rank + 1;
}
