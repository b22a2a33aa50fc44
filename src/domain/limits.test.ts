import { describe, expect, it } from "vitest";
import { isRested, nestedDeeperThan, progressPolicy, retryAfterSeconds, socketsToSupersede, spendProgress, textExceeds, type ProgressBudget } from "./limits";

const T0 = 1_000_000;
const policy = progressPolicy(10, 200);

/** Spends `n` requests of `updates` each at `at`, threading the budget; returns how many were let through. */
function spendMany(n: number, updates: number, at: number, start?: ProgressBudget) {
  let budget = start;
  let ok = 0;
  let last: ReturnType<typeof spendProgress> | null = null;
  for (let i = 0; i < n; i++) {
    last = spendProgress(budget, updates, policy, at);
    budget = last.budget;
    if (last.ok) ok++;
  }
  return { ok, budget: budget!, last: last! };
}

describe("spendProgress", () => {
  it("starts full: two seconds of burst, then refuses with how long to wait", () => {
    expect(policy).toEqual({ requests: { perSecond: 10, burst: 20 }, updates: { perSecond: 200, burst: 400 } });
    const { ok, last } = spendMany(25, 1, T0);
    expect(ok).toBe(20);
    expect(last).toMatchObject({ ok: false, retryAfterMs: 100 });
  });

  it("counts updates as well as requests: four full batches spend the update budget", () => {
    const { ok, last } = spendMany(6, 100, T0);
    expect(ok).toBe(4);
    expect(last).toMatchObject({ ok: false, retryAfterMs: 500 });
  });

  it("refills at the steady rate, never past the burst", () => {
    const { budget } = spendMany(4, 100, T0);
    expect(spendProgress(budget, 100, policy, T0 + 499).ok).toBe(false);
    expect(spendProgress(budget, 100, policy, T0 + 500).ok).toBe(true);
    const later = spendMany(10, 100, T0 + 3_600_000, budget);
    expect(later.ok).toBe(4);
  });

  it("a refused request spends nothing, so waiting retryAfterMs is enough", () => {
    const { budget, last } = spendMany(21, 1, T0);
    expect(last.ok).toBe(false);
    const waited = T0 + (last.ok ? 0 : last.retryAfterMs);
    expect(spendProgress(budget, 1, policy, waited).ok).toBe(true);
  });

  it("a batch larger than the burst is charged the burst, so it can always get through eventually", () => {
    const tight = progressPolicy(1, 10);
    expect(tight.updates.burst).toBe(100);
    expect(spendProgress(undefined, 100, tight, T0).ok).toBe(true);
  });

  it("isRested once both buckets are full again", () => {
    const { budget } = spendMany(1, 100, T0);
    expect(isRested(budget, policy, T0 + 100)).toBe(false);
    expect(isRested(budget, policy, T0 + 500)).toBe(true);
  });
});

describe("retryAfterSeconds", () => {
  it("rounds up, and is never 0", () => {
    expect([0, 1, 999, 1000, 1001].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2]);
  });
});

describe("socketsToSupersede", () => {
  const s = (connectedAt: number) => ({ connectedAt });
  it("makes room for one more under the cap by closing the oldest", () => {
    expect(socketsToSupersede([s(3), s(1), s(2)], 3)).toEqual([s(1)]);
    expect(socketsToSupersede([s(3), s(1), s(2), s(5), s(4)], 3)).toEqual([s(1), s(2), s(3)]);
    expect(socketsToSupersede([s(1), s(2)], 3)).toEqual([]);
    expect(socketsToSupersede([s(1)], 1)).toEqual([s(1)]);
  });
});

describe("textExceeds", () => {
  it("measures UTF-8 bytes, deciding from the length where it can", () => {
    expect(textExceeds("a".repeat(10), 10)).toBe(false);
    expect(textExceeds("a".repeat(11), 10)).toBe(true);
    expect(textExceeds("é".repeat(5), 10)).toBe(false);
    expect(textExceeds("é".repeat(6), 10)).toBe(true);
    expect(textExceeds("€".repeat(4), 10)).toBe(true);
  });
});

describe("nestedDeeperThan", () => {
  it("counts levels of arrays and objects; scalars are depth 0", () => {
    expect(nestedDeeperThan(5, 0)).toBe(false);
    expect(nestedDeeperThan("x", 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan([1], 0)).toBe(true);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: [2] }] }, 3)).toBe(true);
  });

  it("measures a value nested far past the stack without overflowing it", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestedDeeperThan(deep, 4)).toBe(true);
  });
});
