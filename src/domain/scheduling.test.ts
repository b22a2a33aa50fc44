import { describe, it, expect } from "vitest";
import { readConfig } from "../config";
import { detectConflicts, overlaps, countsTowardConcurrency, type ScheduleLimits, type ScheduleWindow } from "./scheduling";
import { HOUR_MS as H } from "./time";

// The rules as deployed without any [vars]: the config's own defaults, in the scheduler's units.
const defaults = readConfig({});
const DEFAULT_LIMITS: ScheduleLimits = {
  maxConcurrent: defaults.maxConcurrent,
  maxConcurrentSameType: defaults.maxConcurrentSameType,
  majorGapMs: defaults.majorGapHours * H,
};
const T0 = Date.UTC(2026, 11, 1); // 2026-12-01 00:00 UTC
const at = (hours: number) => T0 + hours * H;

let seq = 0;
function win(partial: Partial<ScheduleWindow> & { start: number; end: number }): ScheduleWindow {
  seq += 1;
  return { eventId: `ev-${seq}`, type: "seasonal", tier: "standard", ...partial };
}

// Spreads types so the same-type rule stays out of the way of tests aimed at the global cap.
const TYPES = ["seasonal", "competitive", "cooperative", "crossover", "gacha"] as const;
function distinctTypes(n: number, start: number, end: number): ScheduleWindow[] {
  return Array.from({ length: n }, (_, i) => win({ eventId: `e${i + 1}`, type: TYPES[i], start, end }));
}

const rules = (cs: { rule: string }[]) => cs.map((c) => c.rule);

describe("overlaps", () => {
  it("treats windows as half-open: touching windows do not overlap", () => {
    expect(overlaps({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(false);
    expect(overlaps({ start: 10, end: 20 }, { start: 0, end: 10 })).toBe(false);
  });
  it("detects a 1 ms overlap, containment and identity", () => {
    expect(overlaps({ start: 0, end: 11 }, { start: 10, end: 20 })).toBe(true);
    expect(overlaps({ start: 0, end: 100 }, { start: 10, end: 20 })).toBe(true);
    expect(overlaps({ start: 5, end: 6 }, { start: 5, end: 6 })).toBe(true);
  });
  it("never overlaps an empty window", () => {
    expect(overlaps({ start: 5, end: 5 }, { start: 0, end: 10 })).toBe(false);
  });
});

describe("default limits", () => {
  it("matches the seed: 4 concurrent, 2 per type, 48 h between majors", () => {
    expect(DEFAULT_LIMITS).toEqual({ maxConcurrent: 4, maxConcurrentSameType: 2, majorGapMs: 48 * H });
  });
  it("exempts only mini and daily tiers", () => {
    expect(["major", "standard", "mini", "daily"].map((t) => countsTowardConcurrency(t as never))).toEqual([true, true, false, false]);
  });
});

describe("max_concurrent", () => {
  const candidate = win({ eventId: "cand", type: "gacha", start: at(0), end: at(48) });

  it("allows the 4th concurrent event", () => {
    const existing = distinctTypes(3, at(-24), at(72));
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
  });

  it("refuses the 5th concurrent event and names all four others", () => {
    const conflicts = detectConflicts(candidate, distinctTypes(4, at(-24), at(72)), DEFAULT_LIMITS);
    expect(rules(conflicts)).toEqual(["max_concurrent"]);
    const c = conflicts[0];
    expect(c.limit).toBe(4);
    expect(c.conflictingEventIds).toEqual(["e1", "e2", "e3", "e4"]);
    expect(c.window).toEqual({ from: "2026-12-01T00:00:00.000Z", to: "2026-12-03T00:00:00.000Z" });
  });

  it("reports the window only where the limit is exceeded, and the ids only of events in it", () => {
    const existing = [
      win({ eventId: "long1", type: "seasonal", start: at(-10), end: at(100) }),
      win({ eventId: "long2", type: "competitive", start: at(-10), end: at(100) }),
      win({ eventId: "long3", type: "cooperative", start: at(-10), end: at(100) }),
      win({ eventId: "short", type: "crossover", start: at(10), end: at(20) }),
      win({ eventId: "later", type: "crossover", start: at(30), end: at(40) }),
    ];
    const c = detectConflicts(candidate, existing, { ...DEFAULT_LIMITS, maxConcurrent: 4 })[0];
    expect(c.rule).toBe("max_concurrent");
    expect(c.window).toEqual({ from: new Date(at(10)).toISOString(), to: new Date(at(40)).toISOString() });
    expect(c.conflictingEventIds).toEqual(["later", "long1", "long2", "long3", "short"]);
    expect(c.message).toMatch(/^At times between 2026-12-01 10:00 UTC and 2026-12-02 16:00 UTC /);
  });

  it("does not count four events that never all run at the same time", () => {
    // Pairwise each overlaps the candidate, but at most two run at any instant.
    const existing = [
      win({ eventId: "a", type: "seasonal", start: at(0), end: at(12) }),
      win({ eventId: "b", type: "competitive", start: at(6), end: at(18) }),
      win({ eventId: "c", type: "cooperative", start: at(18), end: at(30) }),
      win({ eventId: "d", type: "crossover", start: at(24), end: at(48) }),
    ];
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
  });

  it("counts an event that ends exactly when the candidate starts as not concurrent", () => {
    const existing = [...distinctTypes(3, at(-24), at(72)), win({ eventId: "touch", type: "crossover", start: at(-24), end: at(0) })];
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
    const after = [...distinctTypes(3, at(-24), at(72)), win({ eventId: "touch", type: "crossover", start: at(48), end: at(60) })];
    expect(detectConflicts(candidate, after, DEFAULT_LIMITS)).toEqual([]);
  });

  it("reports one conflict for the rule, spanning separate violating stretches, with the peak ordinal", () => {
    const existing = [
      ...distinctTypes(3, at(-24), at(72)),
      win({ eventId: "x1", type: "crossover", start: at(2), end: at(4) }),
      win({ eventId: "x2", type: "gacha", start: at(3), end: at(4) }),
      win({ eventId: "x3", type: "crossover", start: at(40), end: at(41) }),
    ];
    const cs = detectConflicts(candidate, existing, { ...DEFAULT_LIMITS, maxConcurrentSameType: 10 });
    expect(cs).toHaveLength(1);
    expect(cs[0].window).toEqual({ from: new Date(at(2)).toISOString(), to: new Date(at(41)).toISOString() });
    expect(cs[0].conflictingEventIds).toEqual(["e1", "e2", "e3", "x1", "x2", "x3"]);
    expect(cs[0].message).toContain("the 6th concurrent event (limit 4)");
  });

  it("writes a plain-English message with names, limit and UTC range", () => {
    const existing = [
      win({ eventId: "w", name: "Winter Fest", type: "seasonal", start: at(-24), end: at(72) }),
      win({ eventId: "x", name: "Arena Cup", type: "competitive", start: at(-24), end: at(72) }),
      win({ eventId: "y", type: "cooperative", start: at(-24), end: at(72) }),
      win({ eventId: "z", name: "Crossover", type: "crossover", start: at(-24), end: at(72) }),
    ];
    const [c] = detectConflicts(candidate, existing, DEFAULT_LIMITS);
    expect(c.message).toBe(
      "Between 2026-12-01 00:00 UTC and 2026-12-03 00:00 UTC this event would be the 5th concurrent event (limit 4), " +
        "alongside Winter Fest, Arena Cup, y and Crossover.",
    );
  });

  it("honours custom limits, including a limit of zero", () => {
    const existing = distinctTypes(1, at(0), at(1));
    expect(rules(detectConflicts(candidate, existing, { ...DEFAULT_LIMITS, maxConcurrent: 1 }))).toEqual(["max_concurrent"]);
    const [c] = detectConflicts(candidate, [], { ...DEFAULT_LIMITS, maxConcurrent: 0 });
    expect(c.conflictingEventIds).toEqual([]);
    expect(c.message).toBe("Between 2026-12-01 00:00 UTC and 2026-12-03 00:00 UTC this event would be the 1st concurrent event (limit 0).");
  });
});

describe("max_concurrent_same_type", () => {
  const candidate = win({ eventId: "cand", type: "seasonal", start: at(0), end: at(24) });

  it("allows a 2nd event of the same type, refuses a 3rd", () => {
    const one = [win({ eventId: "s1", start: at(0), end: at(24) })];
    expect(detectConflicts(candidate, one, DEFAULT_LIMITS)).toEqual([]);
    const two = [...one, win({ eventId: "s2", start: at(12), end: at(36) })];
    const cs = detectConflicts(candidate, two, DEFAULT_LIMITS);
    expect(rules(cs)).toEqual(["max_concurrent_same_type"]);
    expect(cs[0].limit).toBe(2);
    expect(cs[0].conflictingEventIds).toEqual(["s1", "s2"]);
    expect(cs[0].window).toEqual({ from: new Date(at(12)).toISOString(), to: new Date(at(24)).toISOString() });
    expect(cs[0].message).toContain("3rd concurrent seasonal event (limit 2 per type)");
  });

  it("ignores events of other types", () => {
    const existing = [win({ eventId: "s1", start: at(0), end: at(24) }), win({ eventId: "g1", type: "gacha", start: at(0), end: at(24) })];
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
  });

  it("puts max_concurrent before max_concurrent_same_type", () => {
    const existing = ["a", "b", "c", "d"].map((id) => win({ eventId: id, start: at(0), end: at(24) }));
    const cs = detectConflicts(candidate, existing, DEFAULT_LIMITS);
    expect(rules(cs)).toEqual(["max_concurrent", "max_concurrent_same_type"]);
    expect(cs[1].conflictingEventIds).toEqual(["a", "b", "c", "d"]);
  });
});

describe("mini and daily exemption", () => {
  const full = distinctTypes(4, at(0), at(24)).map((e) => ({ ...e, type: "seasonal" as const }));

  it.each(["mini", "daily"] as const)("a %s candidate gets no concurrency conflicts", (tier) => {
    const candidate = win({ eventId: "cand", tier, start: at(0), end: at(24) });
    expect(detectConflicts(candidate, full, DEFAULT_LIMITS)).toEqual([]);
  });

  it.each(["mini", "daily"] as const)("existing %s events never count toward the limits", (tier) => {
    const existing = Array.from({ length: 10 }, (_, i) => win({ eventId: `m${i}`, tier, start: at(0), end: at(24) }));
    const candidate = win({ eventId: "cand", start: at(0), end: at(24) });
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
  });

  it("mixes exempt and counted events correctly", () => {
    const existing = [...full.slice(0, 1), win({ eventId: "m", tier: "mini", start: at(0), end: at(24) })];
    const candidate = win({ eventId: "cand", start: at(0), end: at(24) });
    expect(detectConflicts(candidate, existing, DEFAULT_LIMITS)).toEqual([]);
  });
});

describe("reschedule", () => {
  it("ignores the candidate's own stored window", () => {
    const self = win({ eventId: "me", start: at(0), end: at(24) });
    const other = win({ eventId: "s1", start: at(0), end: at(24) });
    const moved = { ...self, start: at(6), end: at(30) };
    expect(detectConflicts(moved, [self, other], DEFAULT_LIMITS)).toEqual([]);
  });

  it("ignores the candidate's own stored major window for the gap rule", () => {
    const self = win({ eventId: "me", tier: "major", start: at(0), end: at(24) });
    expect(detectConflicts({ ...self, start: at(12), end: at(36) }, [self], DEFAULT_LIMITS)).toEqual([]);
  });
});

describe("major_gap", () => {
  const existing = win({ eventId: "wf", name: "Winter Fest", tier: "major", type: "crossover", start: at(-72), end: at(0) });
  const major = (start: number, end: number) => win({ eventId: "cand", tier: "major", start, end });

  it("allows exactly 48 h after an existing major", () => {
    expect(detectConflicts(major(at(48), at(72)), [existing], DEFAULT_LIMITS)).toEqual([]);
  });

  it("refuses 48 h - 1 ms after an existing major", () => {
    const cs = detectConflicts(major(at(48) - 1, at(72)), [existing], DEFAULT_LIMITS);
    expect(rules(cs)).toEqual(["major_gap"]);
    expect(cs[0].limit).toBe(48 * H);
    expect(cs[0].conflictingEventIds).toEqual(["wf"]);
    expect(cs[0].window).toEqual({ from: "2026-12-01T00:00:00.000Z", to: "2026-12-02T23:59:59.999Z" });
    expect(cs[0].message).toContain("47 h 59 min 59.999 s");
  });

  it("allows exactly 48 h before an existing major, refuses 48 h - 1 ms", () => {
    const later = { ...existing, start: at(72), end: at(96) };
    expect(detectConflicts(major(at(0), at(24)), [later], DEFAULT_LIMITS)).toEqual([]);
    const cs = detectConflicts(major(at(0), at(24) + 1), [later], DEFAULT_LIMITS);
    expect(rules(cs)).toEqual(["major_gap"]);
    expect(cs[0].window).toEqual({ from: new Date(at(24) + 1).toISOString(), to: new Date(at(72)).toISOString() });
    expect(cs[0].message).toContain("(starts 2026-12-04 00:00 UTC)");
  });

  it("says how short the gap is, which event, and the rule", () => {
    const [c] = detectConflicts(major(at(30), at(60)), [existing], DEFAULT_LIMITS);
    expect(c.message).toBe(
      "Only 30 h would separate this major event from major event Winter Fest (ends 2026-12-01 00:00 UTC); " +
        "major events need at least 48 h between them.",
    );
  });

  it("refuses touching majors and says no time separates them", () => {
    const [c] = detectConflicts(major(at(0), at(10)), [existing], DEFAULT_LIMITS);
    expect(c.window).toEqual({ from: "2026-12-01T00:00:00.000Z", to: "2026-12-01T00:00:00.000Z" });
    expect(c.message).toMatch(/^No time would separate this major event from major event Winter Fest/);
  });

  it("reports the overlap region when majors overlap", () => {
    const [c] = detectConflicts(major(at(-10), at(20)), [existing], DEFAULT_LIMITS).filter((x) => x.rule === "major_gap");
    expect(c.window).toEqual({ from: new Date(at(-10)).toISOString(), to: "2026-12-01T00:00:00.000Z" });
    expect(c.message).toBe(
      "This major event would run at the same time as major event Winter Fest between 2026-11-30 14:00 UTC and " +
        "2026-12-01 00:00 UTC; major events need at least 48 h between them.",
    );
  });

  it("only applies between majors", () => {
    const standard = win({ eventId: "cand", tier: "standard", start: at(1), end: at(2) });
    expect(detectConflicts(standard, [existing], DEFAULT_LIMITS)).toEqual([]);
    const nonMajor = { ...existing, tier: "standard" as const };
    expect(detectConflicts(major(at(1), at(2)), [nonMajor], DEFAULT_LIMITS)).toEqual([]);
  });

  it("reports one conflict per offending major, ordered by the other event's start, after concurrency", () => {
    const early = win({ eventId: "zz-early", tier: "major", type: "gacha", start: at(-30), end: at(-20) });
    const late = win({ eventId: "aa-late", tier: "major", type: "gacha", start: at(40), end: at(50) });
    const far = win({ eventId: "far", tier: "major", type: "gacha", start: at(200), end: at(210) });
    const cs = detectConflicts(major(at(0), at(10)), [far, late, early], { ...DEFAULT_LIMITS, maxConcurrent: 0 });
    expect(rules(cs)).toEqual(["max_concurrent", "major_gap", "major_gap"]);
    expect(cs.slice(1).map((c) => c.conflictingEventIds[0])).toEqual(["zz-early", "aa-late"]);
  });

  it("honours a custom gap", () => {
    expect(detectConflicts(major(at(30), at(60)), [existing], { ...DEFAULT_LIMITS, majorGapMs: 24 * H })).toEqual([]);
  });
});

describe("which stored windows count", () => {
  const major = (id: string, start: number, end: number, state: ScheduleWindow["state"]): ScheduleWindow => ({ eventId: id, type: "seasonal", tier: "major", start: at(start), end: at(end), state });
  const candidate: ScheduleWindow = { eventId: "next", type: "competitive", tier: "major", start: at(10), end: at(20) };

  it("the major gap counts majors that already ran, from their actual end, but never a cancelled one", () => {
    for (const state of ["expired", "archived"] as const) {
      expect(detectConflicts(candidate, [major("ran", 0, 9, state)], DEFAULT_LIMITS).map((c) => [c.rule, c.conflictingEventIds])).toEqual([["major_gap", ["ran"]]]);
    }
    expect(detectConflicts(candidate, [major("dropped", 0, 9, "cancelled")], DEFAULT_LIMITS)).toEqual([]);
  });

  it("concurrency counts only windows that can still run", () => {
    const standard = (id: string, state: ScheduleWindow["state"]): ScheduleWindow => ({ eventId: id, type: "gacha", tier: "standard", start: at(0), end: at(30), state });
    const limits = { ...DEFAULT_LIMITS, maxConcurrent: 1, majorGapMs: 0 };
    for (const state of ["expired", "archived", "cancelled"] as const) expect(detectConflicts(candidate, [standard("x", state)], limits)).toEqual([]);
    for (const state of ["scheduled", "active", "paused", "failed_activation", undefined] as const) {
      expect(rules(detectConflicts(candidate, [standard("x", state)], limits))).toEqual(["max_concurrent"]);
    }
  });
});

describe("degenerate input", () => {
  it("returns no conflicts for an empty or inverted candidate window", () => {
    const existing = distinctTypes(5, at(0), at(24));
    expect(detectConflicts(win({ start: at(5), end: at(5) }), existing, DEFAULT_LIMITS)).toEqual([]);
    expect(detectConflicts(win({ start: at(6), end: at(5) }), existing, DEFAULT_LIMITS)).toEqual([]);
  });

  it("is deterministic regardless of input order", () => {
    const existing = distinctTypes(5, at(0), at(24));
    const candidate = win({ eventId: "cand", start: at(0), end: at(24) });
    expect(detectConflicts(candidate, [...existing].reverse(), DEFAULT_LIMITS)).toEqual(detectConflicts(candidate, existing, DEFAULT_LIMITS));
  });
});
