import { describe, expect, it } from "vitest";
import { DEFAULT_ADAPTIVE, adjustment, currentAdjustment, inControl, personalMechanics, reevaluate, scaledTarget, struggle, type PlayerMoment } from "./adaptive";
import type { Mechanics } from "./progress";
import { HOUR_MS, MINUTE_MS } from "./time";

const S = DEFAULT_ADAPTIVE; // 10 min minimum, 30 min stall, 5 min playing
const milestones = [
  { index: 0, progressThreshold: 0.25 },
  { index: 1, progressThreshold: 0.5 },
  { index: 2, progressThreshold: 1 },
];
const T0 = Date.UTC(2026, 0, 1);
const at = (p: Partial<PlayerMoment>): PlayerMoment => ({ completion: 0, unlocked: [], joinedAt: T0, lastUpdated: T0, lastMilestoneAt: null, ...p });

describe("struggle", () => {
  it("judges nobody before the minimum time in the event, to the millisecond", () => {
    const end = T0 + HOUR_MS;
    expect(struggle(at({ completion: 0 }), milestones, end, T0 + 10 * MINUTE_MS - 1, S).struggling).toBe(false);
    expect(struggle(at({ completion: 0 }), milestones, end, T0 + 10 * MINUTE_MS, S)).toMatchObject({ struggling: true, reason: "pace" });
  });

  it("pace: projected completion at endTime against the next milestone's threshold, at the boundary", () => {
    // 20 min in, 40 min to go: projected = c + c/20 × 40 = 3c; the next threshold is 0.25.
    const now = T0 + 20 * MINUTE_MS;
    const end = now + 40 * MINUTE_MS;
    const exact = struggle(at({ completion: 0.25 / 3 + 1e-6, lastUpdated: now }), milestones, end, now, S);
    expect(exact.struggling).toBe(false);
    const short = struggle(at({ completion: 0.08, lastUpdated: now }), milestones, end, now, S);
    expect(short).toMatchObject({ struggling: true, reason: "pace", nextThreshold: 0.25 });
    // Past milestone 0, the next is 0.5: 0.2 × 3 = 0.6 reaches it.
    expect(struggle(at({ completion: 0.2, unlocked: [0], lastUpdated: now, lastMilestoneAt: now }), milestones, end, now, S).struggling).toBe(false);
  });

  it("stalled: playing with no milestone for the stall time, measured from the last milestone or from joining", () => {
    const end = T0 + 100 * HOUR_MS; // a long event: pace alone never triggers here
    const now = T0 + 60 * MINUTE_MS;
    const base = { completion: 0.4, unlocked: [0], lastUpdated: now - MINUTE_MS };
    expect(struggle(at({ ...base, lastMilestoneAt: now - 30 * MINUTE_MS }), milestones, end, now, S)).toMatchObject({ struggling: true, reason: "stalled" });
    expect(struggle(at({ ...base, lastMilestoneAt: now - 30 * MINUTE_MS + 1 }), milestones, end, now, S).struggling).toBe(false);
    // Not playing (last update 5 min + 1 ms ago): not judged stalled.
    expect(struggle(at({ ...base, lastUpdated: now - 5 * MINUTE_MS - 1, lastMilestoneAt: now - HOUR_MS }), milestones, end, now, S).struggling).toBe(false);
    // No milestone yet: the clock runs from joining.
    expect(struggle(at({ completion: 0.2, lastUpdated: now }), milestones, end, now, S)).toMatchObject({ struggling: true, reason: "stalled" });
  });

  it("never after the end, nor with every milestone reached", () => {
    expect(struggle(at({ completion: 0 }), milestones, T0 + HOUR_MS, T0 + HOUR_MS, S).struggling).toBe(false);
    expect(struggle(at({ completion: 1, unlocked: [0, 1, 2] }), milestones, T0 + 2 * HOUR_MS, T0 + HOUR_MS, S).struggling).toBe(false);
  });
});

describe("the adjustment", () => {
  it("scales a target by 0.8 rounded up, never below progress made, never above the target", () => {
    expect(scaledTarget(100, 0, 0.8)).toBe(80);
    expect(scaledTarget(7, 0, 0.8)).toBe(6); // 5.6 → 6
    expect(scaledTarget(5, 0, 0.8)).toBe(4);
    expect(scaledTarget(100, 90, 0.8)).toBe(90); // never below what was done
    expect(scaledTarget(100, 150, 0.8)).toBe(100); // never above the original
    expect(scaledTarget(0.5, 0, 0.8)).toBe(0.5);
  });

  const mechanics: Mechanics = {
    objectives: [
      { objectiveId: "gems", description: "g", type: "collect", targetValue: 100, trackingKey: "g", isOptional: false },
      { objectiveId: "bosses", description: "b", type: "defeat", targetValue: 5, trackingKey: "b", isOptional: false },
      { objectiveId: "shared", description: "s", type: "collect", targetValue: 1000, trackingKey: "s", isOptional: false },
    ],
    milestones: [
      { index: 0, progressThreshold: 0.5, rewards: [], unlockMessage: "" },
      { index: 1, progressThreshold: 1, rewards: [], unlockMessage: "" },
    ],
    clan: { objectiveIds: ["shared"] },
  };

  it("puts the assist on the first unclaimed milestone, leaves clan objectives alone, and re-evaluates milestones", () => {
    const progress = { gems: 76, bosses: 3 };
    const a = adjustment(mechanics, progress, (i) => i === 0, S);
    expect(a.targets).toEqual({ gems: 80, bosses: 4 });
    expect(a.assist).toMatchObject({ milestoneIndex: 1, reward: { type: "booster", itemId: "booster", quantity: 1 } });
    const own = personalMechanics(mechanics, a);
    expect(own.milestones[1].rewards).toHaveLength(1);
    expect(own.objectives.find((o) => o.objectiveId === "shared")!.targetValue).toBe(1000);
    // Before: (0.76 + 0.6) / 2 = 0.68 → milestone 0 only. After: (0.95 + 0.75) / 2 = 0.85: still 0 only.
    expect(reevaluate(progress, [0], own)).toEqual({ completion: 0.85, newMilestones: [] });
    // A player at 0.45 before (45 gems, 2.25 → 2 bosses: (0.45 + 0.4)/2 = 0.425) reaches 0.5 after: (0.5625 + 0.5)/2.
    expect(reevaluate({ gems: 45, bosses: 2 }, [], personalMechanics(mechanics, adjustment(mechanics, { gems: 45, bosses: 2 }, () => false, S))).newMilestones).toEqual([0]);
    expect(adjustment(mechanics, progress, () => true, S).assist).toBeNull();
  });

  it("follows an edit of the event: factor × the new targets, never below progress when adjusted; the assist kept on a milestone that exists", () => {
    const a = adjustment(mechanics, { gems: 85, bosses: 1 }, () => false, S);
    expect(a.targets).toEqual({ gems: 85, bosses: 4 });
    expect(a.floors).toEqual({ gems: 85, bosses: 1 });
    // Unedited: the same as decided.
    expect(currentAdjustment(mechanics, a)).toEqual({ targets: a.targets, assist: a.assist });
    // Ops double gems, lower bosses to 3, add an objective, and drop milestone 0 (the assist's).
    const edited: Mechanics = {
      ...mechanics,
      objectives: [
        { ...mechanics.objectives[0], targetValue: 200 },
        { ...mechanics.objectives[1], targetValue: 3 },
        mechanics.objectives[2],
        { objectiveId: "keys", description: "k", type: "collect", targetValue: 10, trackingKey: "k", isOptional: false },
      ],
      milestones: [mechanics.milestones[1]],
    };
    const now = currentAdjustment(edited, a);
    // gems 160 (not the stale 85), bosses ⌈2.4⌉ = 3 but not below the floor 1, the new one scaled, the clan's untouched.
    expect(now.targets).toEqual({ gems: 160, bosses: 3, keys: 8 });
    expect(now.assist?.milestoneIndex).toBe(1);
    const own = personalMechanics(edited, now);
    expect(own.objectives.map((o) => o.targetValue)).toEqual([160, 3, 1000, 8]);
    expect(own.milestones[0].rewards.map((r) => r.rewardId)).toEqual(["adaptive-assist"]);
    // No milestones left: no assist. A row from before floors: its stored targets, capped at the event's current ones.
    expect(currentAdjustment({ ...edited, milestones: [] }, a).assist).toBeNull();
    expect(currentAdjustment(edited, { ...a, floors: null }).targets).toEqual({ gems: 85, bosses: 3, keys: 8 });
  });
});

describe("the holdout", () => {
  it("is deterministic and close to its share over many players; 0 % and 100 % are exact", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `player-${i}`);
    const share = ids.filter((id) => inControl(id, 0.1)).length / ids.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(ids.slice(0, 50).map((id) => inControl(id, 0.1))).toEqual(ids.slice(0, 50).map((id) => inControl(id, 0.1)));
    expect(ids.some((id) => inControl(id, 0))).toBe(false);
    expect(ids.every((id) => inControl(id, 1))).toBe(true);
  });
});
