// Plausibility at ingest (the seed's anti-cheat) and the purity of applyUpdates.
import { describe, expect, it } from "vitest";
import { MAX_AMOUNT, applyUpdates, newProgress, type Mechanics, type ProgressUpdate } from "./progress";
import { MECH, T0, apply, deepFreeze, fail, ms, obj, ok, u } from "./progress.fixtures";

describe("applyUpdates: rejections", () => {
  const cases: Array<[string, unknown, RegExp, string]> = [
    ["NaN", NaN, /finite number/, "not_a_number"],
    ["Infinity", Infinity, /finite number/, "not_a_number"],
    ["-Infinity", -Infinity, /finite number/, "not_a_number"],
    ["negative", -5, /greater than 0/, "not_positive"],
    ["zero", 0, /greater than 0/, "not_positive"],
    ["above MAX_AMOUNT", MAX_AMOUNT + 1, /exceeds the maximum of 1000000000/, "too_large"],
    ["a string", "5", /finite number, got "5"/, "not_a_number"],
    ["null", null, /finite number/, "not_a_number"],
    ["undefined", undefined, /finite number/, "not_a_number"],
  ];
  it.each(cases)("rejects amount %s as implausible", (_, amount, reason, code) => {
    const r = fail(applyUpdates(newProgress(T0), [{ objectiveId: "quests", amount: amount as any, seq: 1 }], MECH, T0));
    expect(r.code).toBe("implausible_progress");
    expect(r.rejections).toEqual([{ seq: 1, objectiveId: "quests", amount, code, reason: expect.stringMatching(reason) }]);
  });

  it("accepts exactly MAX_AMOUNT", () => {
    const r = apply(newProgress(T0), [u("quests", MAX_AMOUNT)]);
    expect(r.state.objectives.quests).toBe(1e9);
    expect(MAX_AMOUNT).toBe(1e9);
  });

  it("rejects an unknown objective", () => {
    const r = fail(applyUpdates(newProgress(T0), [u("quests", 1, 1), u("nope", 1, 2)], MECH, T0));
    expect(r.code).toBe("unknown_objective");
    expect(r.rejections).toEqual([{ seq: 2, objectiveId: "nope", amount: 1, code: "unknown_objective", reason: "unknown objective nope" }]);
  });

  it("reports unknown_objective over implausible_progress, listing both", () => {
    const r = fail(applyUpdates(newProgress(T0), [u("quests", -1, 1), u("nope", 1, 2), u("quests", 1, 3)], MECH, T0));
    expect(r.code).toBe("unknown_objective");
    expect(r.rejections.map((x) => x.seq)).toEqual([1, 2]);
  });

  it("maxPerUpdate bounds a single accumulating update", () => {
    expect(apply(newProgress(T0), [u("snowflakes", 50)]).state.objectives.snowflakes).toBe(50);
    const r = fail(applyUpdates(newProgress(T0), [u("snowflakes", 51, 1)], MECH, T0));
    expect(r.code).toBe("implausible_progress");
    expect(r.rejections[0].reason).toBe("amount 51 exceeds maxPerUpdate 50 for snowflakes");
  });

  it("maxPerUpdate bounds the increase a reach update causes, not its value", () => {
    const a = apply(newProgress(T0), [u("level", 5, 1), u("level", 10, 2), u("level", 15, 3)]);
    expect(a.state.objectives.level).toBe(15);
    // 14 is far above maxPerUpdate 5 but lowers nothing: delta 0, accepted.
    const b = apply(a.state, [u("level", 14, 4), u("level", 20, 5)]);
    expect(b.state.objectives.level).toBe(20);
    const r = fail(applyUpdates(a.state, [u("level", 21, 4)], MECH, T0));
    expect(r.rejections[0].reason).toBe("increase 6 exceeds maxPerUpdate 5 for level");
    expect(fail(applyUpdates(newProgress(T0), [u("level", 6, 1)], MECH, T0)).rejections[0].reason).toMatch(/maxPerUpdate 5/);
  });

  it("maxPerMinute counts earlier updates of the same batch", () => {
    const r = fail(applyUpdates(newProgress(T0), [u("snowflakes", 40, 1), u("snowflakes", 40, 2), u("snowflakes", 30, 3)], MECH, T0));
    expect(r.code).toBe("implausible_progress");
    expect(r.rejections).toEqual([
      { seq: 3, objectiveId: "snowflakes", amount: 30, code: "max_per_minute", reason: "would make 110 in the last minute for snowflakes; maxPerMinute is 100" },
    ]);
    const exact = apply(newProgress(T0), [u("snowflakes", 40), u("snowflakes", 40), u("snowflakes", 20)]);
    expect(exact.state.objectives.snowflakes).toBe(100);
  });

  it("maxPerMinute counts earlier calls within 60 s, and allows again once they age out", () => {
    const a = apply(newProgress(T0), [u("snowflakes", 50), u("snowflakes", 20)], T0);
    expect(a.state.recent).toEqual({ snowflakes: [[T0, 70]] });
    const b = apply(a.state, [u("snowflakes", 30)], T0 + 30_000);
    expect(b.state.recent.snowflakes).toEqual([[T0, 70], [T0 + 30_000, 30]]);

    const tooSoon = fail(applyUpdates(b.state, [u("snowflakes", 30, 100)], MECH, T0 + 59_999));
    expect(tooSoon.rejections[0].reason).toBe("would make 130 in the last minute for snowflakes; maxPerMinute is 100");

    // At T0 + 60 s the first call is a full minute old: only the 30 remains in the window.
    const later = apply(b.state, [u("snowflakes", 50), u("snowflakes", 20)], T0 + 60_000);
    expect(later.state.objectives.snowflakes).toBe(170);
    expect(later.state.recent.snowflakes).toEqual([[T0 + 30_000, 30], [T0 + 60_000, 70]]);

    const muchLater = apply(later.state, [u("quests", 1)], T0 + 200_000);
    expect(muchLater.state.recent).toEqual({});
  });

  it("only records objectives that have a maxPerMinute, and not reach no-ops", () => {
    const r = apply(newProgress(T0), [u("quests", 3), u("level", 2), u("bonus", 1), u("snowflakes", 5)]);
    expect(Object.keys(r.state.recent)).toEqual(["snowflakes"]);
    const mech: Mechanics = { objectives: [obj("lvl", "reach", 50, { maxPerMinute: 10 })], milestones: ms(1) };
    const a = apply(newProgress(T0), [u("lvl", 8)], T0, mech);
    const b = apply(a.state, [u("lvl", 3)], T0 + 1, mech);
    expect(b.state.recent).toEqual({ lvl: [[T0, 8]] });
    const c = fail(applyUpdates(b.state, [u("lvl", 11, 999)], mech, T0 + 2));
    expect(c.rejections[0].reason).toBe("would make 11 in the last minute for lvl; maxPerMinute is 10");
  });

  it("judges later updates as if the rejected ones were dropped", () => {
    const r = fail(applyUpdates(newProgress(T0), [u("snowflakes", 60, 1), u("snowflakes", 50, 2), u("snowflakes", 50, 3)], MECH, T0));
    expect(r.rejections.map((x) => [x.seq, x.reason])).toEqual([[1, "amount 60 exceeds maxPerUpdate 50 for snowflakes"]]);
  });

  it("is atomic: one bad update in a batch of 20 applies nothing and every rejection is listed", () => {
    const state = deepFreeze(apply(newProgress(T0), [u("quests", 1, 1)]).state);
    const before = JSON.stringify(state);
    const batch: ProgressUpdate[] = Array.from({ length: 20 }, (_, i) => ({ objectiveId: "quests", amount: 1, seq: 10 + i }));
    batch[7] = { objectiveId: "bosses", amount: -3, seq: 17 };
    batch[13] = { objectiveId: "snowflakes", amount: 80, seq: 23 };
    const r = fail(applyUpdates(state, batch, MECH, T0 + 5));
    expect(r.code).toBe("implausible_progress");
    expect(r.rejections.map((x) => x.seq)).toEqual([17, 23]);
    expect(r.rejections[1].reason).toMatch(/maxPerUpdate 50/);
    expect(JSON.stringify(state)).toBe(before);
    // The caller keeps the old state: the same batch minus the bad ones now applies in full.
    const good = apply(state, batch.filter((_, i) => i !== 7 && i !== 13), T0 + 6);
    expect(good.state.objectives.quests).toBe(19);
    expect(good.applied).toHaveLength(18);
  });
});

describe("applyUpdates: purity", () => {
  it("never mutates a deep-frozen input state and shares nothing mutable it changed", () => {
    const s0 = apply(newProgress(T0), [u("snowflakes", 50), u("quests", 10), u("level", 5)], T0).state;
    deepFreeze(s0);
    const snap = structuredClone(s0);
    const r = ok(applyUpdates(s0, [u("snowflakes", 40), u("quests", 2), u("level", 9), u("bosses", 4)], MECH, T0));
    expect(s0).toEqual(snap);
    expect(r.state).not.toBe(s0);
    expect(r.state.objectives).toEqual({ snowflakes: 90, quests: 12, level: 9, bosses: 4 });
    expect(r.state.recent).toEqual({ snowflakes: [[T0, 90]] });
    expect(r.state.lastSeq).toBeGreaterThan(s0.lastSeq);
    expect(r.state.joinedAt).toBe(T0);
  });
});

