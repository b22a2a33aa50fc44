import { describe, expect, it } from "vitest";
import type { Objective } from "./model";
import {
  BoardDefinition,
  aggregate,
  applyScore,
  assignCohort,
  boardIssues,
  finalStandings,
  flagsBoard,
  nextTier,
  resolveBoard,
  rewardTierFor,
  standingsDigestInput,
  submission,
  topPercent,
} from "./leaderboard";

const coins = [{ rewardId: "c", type: "currency" as const, itemId: "coins", quantity: 10, rarity: "common" as const, isExclusive: false }];
const OBJECTIVES: Objective[] = [
  { objectiveId: "wins", description: "w", type: "collect", targetValue: 10, trackingKey: "arena.wins", isOptional: false },
  { objectiveId: "rating", description: "r", type: "reach", targetValue: 2000, trackingKey: "arena.rating", isOptional: false },
];
const def = (over: Record<string, unknown> = {}) => BoardDefinition.parse({ source: { kind: "trackingKey", trackingKey: "arena.wins" }, ...over });

describe("board definition", () => {
  it("fills defaults and names every field it refuses", () => {
    expect(def()).toMatchObject({ boardKey: "main", operator: "incr", sortOrder: "desc", cohortSize: 0, matching: "join_order", rewardTiers: [] });
    const bad = def({
      source: { kind: "objective", objectiveId: "nope" },
      matching: "tier",
      rewardTiers: [{ fromRank: 1, toRank: 3, rewards: coins }, { fromRank: 3, toRank: 2, rewards: coins }, { fromRank: 2, toRank: 5, rewards: coins }, { rewards: coins }, { fromRank: 1, toRank: 1, topPercent: 5, rewards: coins }],
    });
    const paths = boardIssues(bad, OBJECTIVES).map((i) => i.path.join("."));
    expect(paths).toEqual([
      "leaderboard.source.objectiveId",
      "leaderboard.tiers",
      "leaderboard.cohortSize",
      "leaderboard.rewardTiers.1.toRank",
      "leaderboard.rewardTiers.2.fromRank",
      "leaderboard.rewardTiers.3",
      "leaderboard.rewardTiers.4.topPercent",
    ]);
    expect(boardIssues(def({ source: { kind: "completion" } }), OBJECTIVES)[0]).toMatchObject({ path: ["leaderboard", "operator"] });
    expect(boardIssues(def({ source: { kind: "trackingKey", trackingKey: "x" } }), OBJECTIVES)[0].message).toContain('no objective tracks "x"');
    expect(BoardDefinition.safeParse({ source: { kind: "magic" } }).success).toBe(false);
  });

  it("lets an event override replace fields of the template's board", () => {
    expect(resolveBoard(null, undefined)).toBeNull();
    expect(resolveBoard(def({ cohortSize: 50 }), { cohortSize: 10, operator: "best" })).toMatchObject({ cohortSize: 10, operator: "best", boardKey: "main" });
    expect(resolveBoard(null, { source: { kind: "completion" }, operator: "best" })).toMatchObject({ operator: "best", cohortSize: 0 });
  });
});

describe("scores", () => {
  it("submits the increase for incr, the best or last amount for best and set", () => {
    const applied = [{ objectiveId: "rating", amount: 1500 }, { objectiveId: "rating", amount: 1400 }, { objectiveId: "wins", amount: 2 }];
    const before = { rating: 1450, wins: 1 };
    const after = { rating: 1500, wins: 3 };
    const rating = { trackingKey: "arena.rating", kind: "trackingKey" as const };
    expect(submission({ source: rating, operator: "incr" }, OBJECTIVES, applied, before, after, 0.5)).toBe(50);
    expect(submission({ source: rating, operator: "best" }, OBJECTIVES, applied, before, after, 0.5)).toBe(1500);
    expect(submission({ source: rating, operator: "set" }, OBJECTIVES, applied, before, after, 0.5)).toBe(1400);
    expect(submission({ source: { kind: "objective", objectiveId: "wins" }, operator: "incr" }, OBJECTIVES, applied, before, after, 0.5)).toBe(2);
    expect(submission({ source: { kind: "completion" }, operator: "best" }, OBJECTIVES, applied, before, after, 0.5)).toBe(0.5);
    expect(submission({ source: { kind: "objective", objectiveId: "wins" }, operator: "incr" }, OBJECTIVES, [applied[0]], before, after, 0.5)).toBeNull();
  });

  it("aggregates and applies by operator and order; the time moves only when the score does", () => {
    expect(aggregate(null, 5, { operator: "incr", sortOrder: "desc" })).toBe(5);
    expect(aggregate(5, 3, { operator: "incr", sortOrder: "desc" })).toBe(8);
    expect(aggregate(5, 3, { operator: "best", sortOrder: "desc" })).toBe(5);
    expect(aggregate(5, 3, { operator: "best", sortOrder: "asc" })).toBe(3);
    expect(aggregate(5, 3, { operator: "set", sortOrder: "desc" })).toBe(3);
    const held = { score: 10, reachedAt: 100 };
    expect(applyScore(null, 4, 50, { operator: "incr", sortOrder: "desc" })).toEqual({ score: 4, reachedAt: 50, changed: true });
    expect(applyScore(held, 4, 200, { operator: "incr", sortOrder: "desc" })).toEqual({ score: 14, reachedAt: 200, changed: true });
    expect(applyScore(held, 4, 200, { operator: "best", sortOrder: "desc" })).toEqual({ ...held, changed: false });
    expect(applyScore(held, 4, 200, { operator: "best", sortOrder: "asc" })).toEqual({ score: 4, reachedAt: 200, changed: true });
    expect(applyScore(held, 10, 200, { operator: "set", sortOrder: "desc" })).toEqual({ ...held, changed: false });
  });
});

describe("cohorts", () => {
  it("fills a group's cohort to its size, then opens the next; 0 is one global board", () => {
    const d = def({ cohortSize: 2 });
    let fill: { cohort: number; members: number } | null = null;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = assignCohort(d, { level: 1, tier: null }, fill);
      fill = { cohort: a.cohort, members: a.members };
      ids.push(a.cohortId);
    }
    expect(ids).toEqual(["all-0", "all-0", "all-1", "all-1", "all-2"]);
    expect(assignCohort(def(), { level: 1, tier: null }, null).cohortId).toBe("global");
    expect(assignCohort(def({ cohortSize: 5, matching: "level_band", levelBandWidth: 10 }), { level: 25, tier: null }, null).cohortId).toBe("lv2-0");
    const tiers = { names: ["bronze", "silver", "gold"], promoteTopPercent: 20, demoteBottomPercent: 20 };
    expect(assignCohort(def({ cohortSize: 5, matching: "tier", tiers }), { level: 1, tier: "gold" }, null).cohortId).toBe("gold-0");
    expect(assignCohort(def({ cohortSize: 5, matching: "tier", tiers }), { level: 1, tier: null }, null).cohortId).toBe("bronze-0");
  });
});

describe("standings", () => {
  const tiers = [{ fromRank: 1, toRank: 1, rewards: coins }, { fromRank: 2, toRank: 3, rewards: coins }, { topPercent: 50, rewards: coins }];
  it("gives each rank the first tier that covers it, percentiles at least one player", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((r) => rewardTierFor(tiers, r, 10))).toEqual([0, 1, 1, 2, 2, -1, -1]);
    expect(rewardTierFor([{ topPercent: 10, rewards: coins }], 1, 3)).toBe(0);
    expect(rewardTierFor([{ topPercent: 10, rewards: coins }], 2, 3)).toBe(-1);
    expect(topPercent(1, 100)).toBe(1);
    expect(topPercent(3, 3)).toBe(100);
  });

  it("holds flagged players' rewards and digests every rank", () => {
    const ordered = [{ playerId: "a", score: 9, reachedAt: 1 }, { playerId: "b", score: 8, reachedAt: 1 }, { playerId: "c", score: 1, reachedAt: 1 }];
    const s = finalStandings(ordered, tiers, new Set(["b", "c"]));
    expect(s.map((x) => [x.rank, x.rewardTier, x.held])).toEqual([[1, 0, false], [2, 1, true], [3, 1, true]]);
    const input = standingsDigestInput("e", "global", s);
    expect(input).toBe("e\nglobal\n1\ta\t9\t1\n2\tb\t8\t1\n3\tc\t1\t1");
  });

  it("promotes the top and demotes the bottom share, within the tier ladder", () => {
    const rules = { names: ["bronze", "silver", "gold"], promoteTopPercent: 20, demoteBottomPercent: 20 };
    expect([1, 2, 3, 8, 9, 10].map((r) => nextTier(rules, "silver", r, 10))).toEqual(["gold", "gold", "silver", "silver", "bronze", "bronze"]);
    expect(nextTier(rules, "gold", 1, 10)).toBe("gold");
    expect(nextTier(rules, null, 10, 10)).toBe("bronze");
    expect(nextTier(rules, null, 1, 10)).toBe("silver");
  });

  it("moves at least one player up and one down whenever the share is above 0", () => {
    const rules = { names: ["bronze", "silver", "gold"], promoteTopPercent: 20, demoteBottomPercent: 20 };
    expect([1, 2, 3].map((r) => nextTier(rules, "silver", r, 3))).toEqual(["gold", "silver", "bronze"]);
    expect(nextTier(rules, "silver", 1, 1)).toBe("gold");
    const none = { ...rules, promoteTopPercent: 0, demoteBottomPercent: 0 };
    expect([1, 2, 3].map((r) => nextTier(none, "silver", r, 3))).toEqual(["silver", "silver", "silver"]);
  });
});

describe("flags", () => {
  it("only implausible amounts flag a player on the board, not client mistakes", () => {
    for (const code of ["not_positive", "too_large", "max_per_update", "max_per_minute"] as const) expect(flagsBoard([{ code }])).toBe(true);
    for (const code of ["invalid_seq", "unknown_objective", "not_a_number"] as const) expect(flagsBoard([{ code }])).toBe(false);
    expect(flagsBoard([{ code: "invalid_seq" }, { code: "max_per_minute" }])).toBe(true);
    expect(flagsBoard([])).toBe(false);
  });
});
