import { describe, expect, it } from "vitest";
import { COMPLETION_THRESHOLD, MAX_AMOUNT, UNKNOWN_OBJECTIVE, applyUpdates, completion, flagCounts, histogram, legacyReasonCode, milestonesReached, newProgress, snapshot, type Mechanics, type ProgressState } from "./progress";
import { MECH, T0, apply, deepFreeze, fail, ms, obj, ok, u } from "./progress.fixtures";

describe("newProgress", () => {
  it("starts empty at the given time", () => {
    expect(newProgress(T0)).toEqual({ objectives: {}, unlockedMilestones: [], lastSeq: 0, recent: {}, joinedAt: T0, lastUpdated: T0 });
  });
});

describe("applyUpdates: exactly once", () => {
  it("replaying the same batch yields only duplicates and leaves values unchanged", () => {
    const batch = [u("quests", 2, 1), u("bosses", 1, 2), u("snowflakes", 10, 3)];
    const first = apply(newProgress(T0), batch, T0 + 1000);
    expect(first.applied).toEqual([1, 2, 3]);
    expect(first.duplicates).toEqual([]);
    expect(first.state.objectives).toEqual({ quests: 2, bosses: 1, snowflakes: 10 });
    expect(first.state.lastSeq).toBe(3);
    expect(first.state.lastUpdated).toBe(T0 + 1000);

    const second = apply(first.state, batch, T0 + 5000);
    expect(second.applied).toEqual([]);
    expect(second.duplicates).toEqual([1, 2, 3]);
    expect(second.newMilestones).toEqual([]);
    expect(second.state).toBe(first.state);
    expect(second.state.lastUpdated).toBe(T0 + 1000);
  });

  it("treats a repeated seq within one batch as a duplicate", () => {
    const r = apply(newProgress(T0), [u("quests", 1, 5), u("quests", 1, 5), u("quests", 1, 6)]);
    expect(r.applied).toEqual([5, 6]);
    expect(r.duplicates).toEqual([5]);
    expect(r.state.objectives.quests).toBe(2);
    expect(r.state.lastSeq).toBe(6);
  });

  it("treats an out-of-order lower seq as a duplicate, in the same batch or a later one", () => {
    const r = apply(newProgress(T0), [u("quests", 1, 10), u("quests", 4, 7), u("quests", 1, 11)]);
    expect(r.applied).toEqual([10, 11]);
    expect(r.duplicates).toEqual([7]);
    expect(r.state.objectives.quests).toBe(2);

    const later = apply(r.state, [u("quests", 3, 9), u("quests", 3, 11), u("quests", 3, 12)], T0 + 1);
    expect(later.duplicates).toEqual([9, 11]);
    expect(later.applied).toEqual([12]);
    expect(later.state.objectives.quests).toBe(5);
    expect(later.state.lastSeq).toBe(12);
  });

  it("does not check duplicates for plausibility", () => {
    const first = apply(newProgress(T0), [u("quests", 1, 3)]);
    const r = apply(first.state, [u("quests", NaN, 2), u("nope", -1, 3), u("snowflakes", 1e12, 1)]);
    expect(r.duplicates).toEqual([2, 3, 1]);
    expect(r.state).toBe(first.state);
  });

  it("accepts an empty batch without changing anything", () => {
    const s = newProgress(T0);
    const r = apply(s, [], T0 + 99);
    expect(r.state).toBe(s);
    expect(r).toMatchObject({ applied: [], duplicates: [], newMilestones: [] });
  });

  it.each([0, -1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1])("rejects seq %s rather than swallowing it as a duplicate", (seq) => {
    const r = fail(applyUpdates(newProgress(T0), [{ objectiveId: "quests", amount: 1, seq }], MECH, T0));
    expect(r.code).toBe("implausible_progress");
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0].reason).toMatch(/seq must be a positive safe integer/);
  });

  it("rejects a non-numeric seq", () => {
    const r = fail(applyUpdates(newProgress(T0), [{ objectiveId: "quests", amount: 1, seq: "3" as any }], MECH, T0));
    expect(r.rejections[0].reason).toMatch(/seq/);
  });
});

describe("applyUpdates: accumulate vs reach", () => {
  it("accumulating types add up, past the target", () => {
    const r = apply(newProgress(T0), [u("quests", 7), u("quests", 6), u("bosses", 1), u("bonus", 2), u("bonus", 2)]);
    expect(r.state.objectives).toEqual({ quests: 13, bosses: 1, bonus: 4 });
  });

  it("reach keeps the maximum; a lower value is a no-op with delta 0 but still consumes its seq", () => {
    const a = apply(newProgress(T0), [u("level", 3, 1), u("level", 5, 2)]);
    expect(a.state.objectives.level).toBe(5);

    const b = apply(a.state, [u("level", 2, 3)], T0 + 1);
    expect(b.applied).toEqual([3]);
    expect(b.state.objectives.level).toBe(5);
    expect(b.state.lastSeq).toBe(3);
    expect(b.state.lastUpdated).toBe(T0 + 1);

    const c = apply(b.state, [u("level", 9, 4), u("level", 7, 5), u("level", 10, 6)], T0 + 2);
    expect(c.state.objectives.level).toBe(10);
  });

  it("does not mistake prototype members for stored values", () => {
    const mech: Mechanics = { objectives: [obj("constructor", "collect", 10, { maxPerMinute: 50 }), obj("tostring", "reach", 5)], milestones: ms(1) };
    const r = apply(newProgress(T0), [u("constructor", 4), u("constructor", 1)], T0, mech);
    expect(r.state.objectives).toEqual({ constructor: 5 });
    expect(r.state.recent).toEqual({ constructor: [[T0, 5]] });
    expect(completion(r.state.objectives, mech)).toBe(0.25);
    expect(completion({}, mech)).toBe(0);
    expect(snapshot(newProgress(T0), mech).objectives["constructor"].currentValue).toBe(0);
  });
});

describe("completion", () => {
  it("averages required objectives, capping each at 1 and ignoring optional ones", () => {
    expect(completion({}, MECH)).toBe(0);
    expect(completion({ quests: 10 }, MECH)).toBe(0.25);
    expect(completion({ quests: 1000 }, MECH)).toBe(0.25);
    expect(completion({ quests: 5, bosses: 2 }, MECH)).toBe(0.25);
    expect(completion({ bonus: 3 }, MECH)).toBe(0);
    expect(completion({ snowflakes: 100, quests: 10, bosses: 4, level: 20, bonus: 0 }, MECH)).toBe(1);
    expect(completion({ snowflakes: 500, quests: 99, bosses: 40, level: 200 }, MECH)).toBe(1);
  });

  it("is exactly 1 when every required objective is complete, despite float noise", () => {
    const three: Mechanics = { objectives: [obj("a", "collect", 3), obj("b", "collect", 7), obj("c", "collect", 0.1)], milestones: ms(1) };
    expect(completion({ a: 3, b: 7, c: 0.30000000000000004 }, three)).toBe(1);
    expect(completion({ a: 3, b: 7, c: 0.1 + 0.2 }, three)).toBe(1);
    // 0.7 - 0.4 is 0.29999999999999993: a float-noise shortfall, not a real one.
    const tenths: Mechanics = { objectives: [obj("a", "collect", 1), obj("c", "collect", 0.3)], milestones: ms(1) };
    expect(completion({ a: 1, c: 0.7 - 0.4 }, tenths)).toBe(1);
    expect(completion({ a: 1, c: 0.2999 }, tenths)).toBeLessThan(1);
  });

  it("is 0 with no required objectives", () => {
    expect(completion({ x: 5 }, { objectives: [obj("x", "collect", 1, { isOptional: true })], milestones: ms(1) })).toBe(0);
    expect(completion({}, { objectives: [], milestones: [] })).toBe(0);
  });

  it("stays in [0, 1]", () => {
    for (const v of [0, 0.5, 1, 7, 1e9]) {
      const c = completion({ snowflakes: v, quests: v, bosses: v, level: v }, MECH);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
    }
  });

  it("exports the seed's completed threshold", () => {
    expect(COMPLETION_THRESHOLD).toBe(0.75);
  });
});

describe("milestones", () => {
  it("milestonesReached unlocks at the exact threshold, not just below", () => {
    expect(milestonesReached(0.25, MECH)).toEqual([0]);
    expect(milestonesReached(0.2499, MECH)).toEqual([]);
    expect(milestonesReached(0.25 - 1e-12, MECH)).toEqual([0]);
    expect(milestonesReached(0.75, MECH)).toEqual([0, 1, 2]);
    expect(milestonesReached(0.7499, MECH)).toEqual([0, 1]);
    expect(milestonesReached(1, MECH)).toEqual([0, 1, 2, 3]);
    expect(milestonesReached(0, MECH)).toEqual([]);
  });

  it("a threshold of 1/3 is reached by one of three objectives despite float noise", () => {
    const mech: Mechanics = { objectives: [obj("a", "collect", 1), obj("b", "collect", 1), obj("c", "collect", 1)], milestones: ms(1 / 3, 2 / 3, 1) };
    const r = apply(newProgress(T0), [u("a", 1)], T0, mech);
    expect(r.newMilestones).toEqual([0]);
    const r2 = apply(r.state, [u("b", 1), u("c", 1)], T0, mech);
    expect(r2.newMilestones).toEqual([1, 2]);
    expect(completion(r2.state.objectives, mech)).toBe(1);
  });

  it("unlocks at completion == threshold through applyUpdates, and not just below", () => {
    const below = apply(newProgress(T0), [u("quests", 9.999)]);
    expect(below.newMilestones).toEqual([]);
    expect(below.state.unlockedMilestones).toEqual([]);
    const exact = apply(below.state, [u("quests", 0.001)]);
    expect(exact.newMilestones).toEqual([0]);
    expect(exact.state.unlockedMilestones).toEqual([0]);
  });

  it("reports only newly unlocked milestones and unlocks several in one call", () => {
    const a = apply(newProgress(T0), [u("quests", 10)]);
    expect(a.newMilestones).toEqual([0]);
    const b = apply(a.state, [u("bosses", 4), u("level", 5), u("level", 10)]);
    expect(b.state.objectives.level).toBe(10);
    expect(b.newMilestones).toEqual([1]);
    const c = apply(b.state, [u("level", 15), u("level", 20), u("snowflakes", 50), u("snowflakes", 50)]);
    expect(c.newMilestones).toEqual([2, 3]);
    expect(c.state.unlockedMilestones).toEqual([0, 1, 2, 3]);
    const d = apply(c.state, [u("quests", 1)]);
    expect(d.newMilestones).toEqual([]);
    expect(d.state.unlockedMilestones).toEqual([0, 1, 2, 3]);
  });

  it("never re-locks, even if the mechanics later demand more", () => {
    const a = apply(newProgress(T0), [u("quests", 10), u("bosses", 4)]);
    expect(a.state.unlockedMilestones).toEqual([0, 1]);
    const harder: Mechanics = { ...MECH, objectives: MECH.objectives.map((o) => ({ ...o, targetValue: o.targetValue * 100 })) };
    const b = apply(a.state, [u("quests", 1)], T0, harder);
    expect(completion(b.state.objectives, harder)).toBeLessThan(0.25);
    expect(b.state.unlockedMilestones).toEqual([0, 1]);
    expect(b.newMilestones).toEqual([]);
  });

  it("keeps unlockedMilestones sorted and unique when a gap fills in", () => {
    const s: ProgressState = { ...newProgress(T0), unlockedMilestones: [0, 2] };
    const r = apply(s, [u("quests", 10), u("bosses", 4)]);
    expect(r.newMilestones).toEqual([1]);
    expect(r.state.unlockedMilestones).toEqual([0, 1, 2]);
  });

  it("optional objectives do not move completion or unlock milestones", () => {
    const r = apply(newProgress(T0), [u("bonus", 3), u("bonus", 100)]);
    expect(r.state.objectives.bonus).toBe(103);
    expect(r.newMilestones).toEqual([]);
    expect(completion(r.state.objectives, MECH)).toBe(0);
  });

  it("overshooting one objective cannot stand in for another", () => {
    const r = apply(newProgress(T0), [u("quests", 1000), u("bosses", 1000)]);
    expect(completion(r.state.objectives, MECH)).toBe(0.5);
    expect(r.state.unlockedMilestones).toEqual([0, 1]);
  });
});

describe("applyUpdates: completion and the rate window", () => {
  it("returns the completion of the state it returns, applied or not", () => {
    const r = apply(newProgress(T0), [u("quests", 10), u("bosses", 2)]);
    expect(r.completion).toBe(0.375);
    expect(r.completion).toBe(completion(r.state.objectives, MECH));
    const replay = apply(r.state, [u("quests", 10, 1)]);
    expect(replay.applied).toEqual([]);
    expect(replay.completion).toBe(0.375);
  });

  it("hands back the same rate window when nothing in it changed, so the shard need not write it", () => {
    const a = apply(newProgress(T0), [u("snowflakes", 10, 1)], T0);
    expect(a.state.recent).toEqual({ snowflakes: [[T0, 10]] });
    const b = apply(a.state, [u("quests", 1, 2)], T0 + 1000);
    expect(b.state.recent).toBe(a.state.recent);
    const c = apply(b.state, [u("quests", 1, 3)], T0 + 61_000);
    expect(c.state.recent).toEqual({});
    const d = apply(c.state, [u("snowflakes", 5, 4)], T0 + 62_000);
    expect(d.state.recent).toEqual({ snowflakes: [[T0 + 62_000, 5]] });
  });
});

describe("snapshot", () => {
  it("renders every objective with its target, completion flags and an ISO timestamp", () => {
    const s = apply(newProgress(T0), [u("quests", 12), u("bosses", 3), u("bonus", 3)], T0 + 1500).state;
    const snap = snapshot(s, MECH);
    expect(snap).toEqual({
      objectives: {
        snowflakes: { currentValue: 0, targetValue: 100, isCompleted: false },
        quests: { currentValue: 12, targetValue: 10, isCompleted: true },
        bosses: { currentValue: 3, targetValue: 4, isCompleted: false },
        level: { currentValue: 0, targetValue: 20, isCompleted: false },
        bonus: { currentValue: 3, targetValue: 3, isCompleted: true },
      },
      completion: 0.25 + 0.75 / 4,
      unlockedMilestones: [0],
      lastUpdated: "2026-01-01T12:00:01.500Z",
      lastSeq: s.lastSeq,
    });
    expect(snap.unlockedMilestones).not.toBe(s.unlockedMilestones);
  });

  it("uses a completion it is given instead of computing it again", () => {
    const s = apply(newProgress(T0), [u("quests", 10)]).state;
    expect(snapshot(s, MECH).completion).toBe(0.25);
    expect(snapshot(s, MECH, 0.25)).toEqual(snapshot(s, MECH));
  });
});

describe("histogram", () => {
  it("uses 10 buckets over [0, 1] by default, with 0 in the first and 1 in the last", () => {
    const h = histogram([0, 0, 0.05, 0.1, 0.3, 0.55, 0.99, 1, 1, 1]);
    expect(h).toHaveLength(10);
    expect(h[0]).toEqual({ from: 0, to: 0.1, count: 3 });
    expect(h[1]).toEqual({ from: 0.1, to: 0.2, count: 1 });
    expect(h[3]).toEqual({ from: 0.3, to: 0.4, count: 1 });
    expect(h[5].count).toBe(1);
    expect(h[9]).toEqual({ from: 0.9, to: 1, count: 4 });
    expect(h.reduce((n, b) => n + b.count, 0)).toBe(10);
  });

  it("supports other bucket counts and clamps out-of-range values", () => {
    expect(histogram([0, 0.5, 1, -1, 2, NaN], 2)).toEqual([
      { from: 0, to: 0.5, count: 2 },
      { from: 0.5, to: 1, count: 3 },
    ]);
    expect(histogram([0.3, 1], 1)).toEqual([{ from: 0, to: 1, count: 2 }]);
    expect(histogram([], 4).map((b) => b.count)).toEqual([0, 0, 0, 0]);
  });

  it("rejects a non-positive or fractional bucket count", () => {
    expect(() => histogram([0.5], 0)).toThrow(RangeError);
    expect(() => histogram([0.5], 2.5)).toThrow(RangeError);
  });
});

describe("flagCounts", () => {
  const mechanics = { objectives: [{ objectiveId: "gems", description: "G", type: "collect" as const, targetValue: 10, trackingKey: "g", isOptional: false }] };
  it("counts one request's rejections per (objective, reason), the last of each as the sample, unknown ids under *", () => {
    const counts = flagCounts(
      [
        { seq: 1, objectiveId: "gems", amount: 51, code: "max_per_update", reason: "amount 51 exceeds maxPerUpdate 50 for gems" },
        { seq: 2, objectiveId: "gems", amount: 60, code: "max_per_update", reason: "amount 60 exceeds maxPerUpdate 50 for gems" },
        { seq: 3, objectiveId: "nope", amount: 1, code: "unknown_objective", reason: "unknown objective nope" },
        { seq: 4, objectiveId: "zap", amount: 1, code: "unknown_objective", reason: "unknown objective zap" },
        { seq: 5, objectiveId: "gems", amount: "lots" as never, code: "not_a_number", reason: 'amount must be a finite number, got "lots"' },
      ],
      mechanics,
    );
    expect(counts).toEqual([
      { objectiveId: "gems", reason: "max_per_update", count: 2, sampleAmount: "60", sampleDetail: "amount 60 exceeds maxPerUpdate 50 for gems" },
      { objectiveId: UNKNOWN_OBJECTIVE, reason: "unknown_objective", count: 2, sampleAmount: "1", sampleDetail: "unknown objective zap" },
      { objectiveId: "gems", reason: "not_a_number", count: 1, sampleAmount: "lots", sampleDetail: 'amount must be a finite number, got "lots"' },
    ]);
  });

  it("every rejection applyUpdates makes carries one of the codes", () => {
    const r = applyUpdates(newProgress(0), [{ objectiveId: "gems", amount: -1, seq: 1 }, { objectiveId: "x", amount: 1, seq: 2 }, { objectiveId: "gems", amount: 1, seq: 0 }], mechanics as never, 0);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejections.map((x) => x.code)).toEqual(["not_positive", "unknown_objective", "invalid_seq"]);
  });
});

describe("legacyReasonCode", () => {
  it("maps the free-text reasons older code stored to today's codes, and keeps anything else", () => {
    expect(legacyReasonCode("seq must be a positive safe integer, got 0")).toBe("invalid_seq");
    expect(legacyReasonCode("unknown objective nope")).toBe("unknown_objective");
    expect(legacyReasonCode('amount must be a finite number, got "lots"')).toBe("not_a_number");
    expect(legacyReasonCode("amount must be greater than 0, got -5")).toBe("not_positive");
    expect(legacyReasonCode("amount 1000000000000 exceeds the maximum of 1000000000")).toBe("too_large");
    expect(legacyReasonCode("amount 51 exceeds maxPerUpdate 50 for gems")).toBe("max_per_update");
    expect(legacyReasonCode("increase 7 exceeds maxPerUpdate 5 for rank")).toBe("max_per_update");
    expect(legacyReasonCode("would make 210 in the last minute for gems; maxPerMinute is 200")).toBe("max_per_minute");
    expect(legacyReasonCode("legacy")).toBe("legacy");
  });
});
