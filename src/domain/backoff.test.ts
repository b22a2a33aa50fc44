import { describe, expect, it } from "vitest";
import { backoff } from "./backoff";

describe("backoff", () => {
  it("doubles from the base after each failure", () => {
    expect([1, 2, 3, 4].map((n) => backoff(n, { baseMs: 1000, maxMs: Number.POSITIVE_INFINITY }))).toEqual([1000, 2000, 4000, 8000]);
  });
  it("is capped, so a long outage is polled rather than forgotten", () => {
    expect(backoff(20, { baseMs: 1000, maxMs: 60_000 })).toBe(60_000);
    expect(backoff(8, { baseMs: 30_000, maxMs: 3_600_000 })).toBe(3_600_000);
  });
  it("treats anything below one failure as the first", () => {
    expect(backoff(0, { baseMs: 500, maxMs: 10_000 })).toBe(500);
    expect(backoff(-3, { baseMs: 500, maxMs: 10_000 })).toBe(500);
  });
});
