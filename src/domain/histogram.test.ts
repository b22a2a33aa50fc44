import { describe, expect, it } from "vitest";
import { LAST_BUCKET, bucketLowerExact, bucketOf, bucketUpperMs, histogramPercentile, percentileAbove, record, total, type Histogram } from "./histogram";

describe("response-time histogram", () => {
  it("buckets are log-spaced, 2^(1/8) apart, and a duration is never above its bucket's upper bound", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(2048)).toBe(88);
    expect(bucketUpperMs(88)).toBe(2048);
    expect(bucketOf(2049)).toBe(89);
    expect(bucketOf(10_000_000)).toBe(LAST_BUCKET);
    for (const ms of [2, 3, 17, 99, 250, 1999, 2000, 2001, 59_999]) {
      const b = bucketOf(ms);
      expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(ms);
      expect(2 ** ((b - 1) / 8)).toBeLessThan(ms); // the exact lower bound (the reported one is rounded to whole ms)
      if (ms > 16) expect(bucketUpperMs(b) / ms).toBeLessThan(1.1); // within one bucket: ≤ 9.05 % over
    }
  });

  it("p95 of summed histograms is the p95 of all the requests (to its bucket), and needs the minimum sample", () => {
    const a: Histogram = new Map();
    const b: Histogram = new Map();
    for (let i = 0; i < 90; i++) record(a, 40);
    for (let i = 0; i < 4; i++) record(b, 40);
    for (let i = 0; i < 6; i++) record(b, 3000);
    const sum: Histogram = new Map(a);
    for (const [k, v] of b) sum.set(k, (sum.get(k) ?? 0) + v);
    expect(total(sum)).toBe(100);
    // 94 fast of 100: the 95th request is a slow one
    expect(histogramPercentile(sum, 95, 100)).toBe(bucketUpperMs(bucketOf(3000)));
    expect(histogramPercentile(sum, 50, 100)).toBe(bucketUpperMs(bucketOf(40)));
    expect(histogramPercentile(a, 95, 100)).toBeNull();
    expect(histogramPercentile(new Map(), 95, 0)).toBeNull();
  });

  it("a percentile is above a threshold only when the buckets entirely above it hold its rank", () => {
    const h = (counts: Record<number, number>): Histogram => new Map(Object.entries(counts).map(([b, n]) => [Number(b), n]));
    expect(bucketLowerExact(89)).toBe(2048);
    expect(bucketLowerExact(88)).toBeCloseTo(1878.02, 2);
    expect(bucketLowerExact(0)).toBe(0);
    // 100 responses; the 95th is in bucket 88 = (1878, 2048]: it may be 1,900 ms, so not above 2,000 ms.
    expect(percentileAbove(h({ 43: 94, 88: 6 }), 95, 2000, 100)).toBe(false);
    // ... but certainly above 1,878 ms.
    expect(percentileAbove(h({ 43: 94, 88: 6 }), 95, 1878, 100)).toBe(true);
    // Bucket 89 = (2048, 2233]: above 2,000 ms, and above 2,048 ms (the lower bound is exclusive).
    expect(percentileAbove(h({ 43: 94, 89: 6 }), 95, 2000, 100)).toBe(true);
    expect(percentileAbove(h({ 43: 94, 89: 6 }), 95, 2048, 100)).toBe(true);
    expect(percentileAbove(h({ 43: 94, 89: 6 }), 95, 2049, 100)).toBe(false);
    // The rank counts: five certainly-slow responses of 100 leave the 95th fast; slow ones in the straddling bucket do not help.
    expect(percentileAbove(h({ 43: 95, 100: 5 }), 95, 2000, 100)).toBe(false);
    expect(percentileAbove(h({ 43: 90, 88: 5, 100: 5 }), 95, 2000, 100)).toBe(false);
    expect(percentileAbove(h({ 43: 90, 88: 4, 100: 6 }), 95, 2000, 100)).toBe(true);
    expect(percentileAbove(h({ 100: 99 }), 95, 2000, 100)).toBeNull();
  });
});
