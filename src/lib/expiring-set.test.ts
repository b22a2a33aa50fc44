import { describe, expect, it } from "vitest";
import { ExpiringSet } from "./expiring-set";

describe("ExpiringSet", () => {
  it("holds an id for its time to live, then not", () => {
    const s = new ExpiringSet(10_000, 100);
    s.add("a", 1_000);
    expect(s.has("a", 1_000)).toBe(true);
    expect(s.has("a", 10_999)).toBe(true);
    expect(s.has("a", 11_000)).toBe(false);
    expect(s.size).toBe(0); // an expired entry is dropped when seen
    expect(s.has("b", 1_000)).toBe(false);
  });

  it("forgets an id on delete", () => {
    const s = new ExpiringSet(10_000, 100);
    s.add("a", 0);
    s.delete("a");
    expect(s.has("a", 1)).toBe(false);
  });

  it("never holds more than its bound: expired entries go first, then the oldest", () => {
    const s = new ExpiringSet(10_000, 3);
    s.add("old", 0);
    s.add("b", 5_000);
    s.add("c", 5_000);
    s.add("d", 12_000); // "old" has expired and makes room; b and c stay
    expect([s.size, s.has("b", 12_000), s.has("c", 12_000), s.has("d", 12_000)]).toEqual([3, true, true, true]);
    s.add("e", 12_000); // all live: the oldest (b) goes
    expect([s.size, s.has("b", 12_000), s.has("e", 12_000)]).toEqual([3, false, true]);
    for (let i = 0; i < 50_000; i++) s.add(`flood-${i}`, 12_000);
    expect(s.size).toBe(3);
  });

  it("re-adding an id renews it and makes it the newest", () => {
    const s = new ExpiringSet(10_000, 2);
    s.add("a", 0);
    s.add("b", 0);
    s.add("a", 1_000);
    s.add("c", 1_000); // b is now the oldest
    expect([s.has("a", 1_000), s.has("b", 1_000), s.has("c", 1_000)]).toEqual([true, false, true]);
    expect(s.has("a", 10_500)).toBe(true);
  });
});
