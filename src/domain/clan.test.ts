import { describe, expect, it } from "vitest";
import { ClanDefinition, CreateTemplateBody, clanIssues, type Objective } from "./model";
import {
  clanDirectoryName,
  clanIdOf,
  clanName,
  clanProgress,
  clanStandings,
  contribution,
  decodeClanCursor,
  encodeClanCursor,
  keepsClanBoard,
  meetsThreshold,
  memberShares,
  neededMore,
  parseClanName,
  reportEveryMs,
} from "./clan";
import { completion } from "./progress";

const OBJECTIVES: Objective[] = [
  { objectiveId: "boss-damage", description: "d", type: "collect", targetValue: 1000, trackingKey: "raid.damage", isOptional: false },
  { objectiveId: "own-wins", description: "w", type: "collect", targetValue: 5, trackingKey: "arena.wins", isOptional: false },
];
const DEF = ClanDefinition.parse({
  objectiveIds: ["boss-damage"],
  milestones: [
    { index: 0, progressThreshold: 0.5, rewards: [] },
    { index: 1, progressThreshold: 1, rewards: [] },
  ],
});

describe("clan definition", () => {
  it("defaults the threshold to 5 %", () => expect(DEF.thresholdPercent).toBe(5));

  it("names the field of an unknown or repeated objective and of out-of-order milestones", () => {
    const bad = ClanDefinition.parse({
      objectiveIds: ["boss-damage", "nope", "boss-damage"],
      milestones: [
        { index: 0, progressThreshold: 0.5 },
        { index: 2, progressThreshold: 0.4 },
      ],
    });
    const paths = clanIssues(bad, OBJECTIVES).map((i) => i.path.join("."));
    expect(paths).toEqual(["clan.objectiveIds.1", "clan.objectiveIds.2", "clan.milestones.1.index", "clan.milestones.1.progressThreshold"]);
  });

  it("leaves at least one required objective to the players themselves", () => {
    const all = ClanDefinition.parse({ objectiveIds: ["boss-damage", "own-wins"], milestones: [{ index: 0, progressThreshold: 1 }] });
    expect(clanIssues(all, OBJECTIVES).map((i) => i.path.join("."))).toEqual(["clan.objectiveIds"]);
  });

  it("keeps clan objectives out of a player's own completion", () => {
    const mechanics = { objectives: OBJECTIVES, milestones: [], clan: DEF };
    expect(completion({ "boss-damage": 1000, "own-wins": 1 }, mechanics)).toBeCloseTo(0.2);
    expect(completion({ "boss-damage": 1000, "own-wins": 1 }, { objectives: OBJECTIVES, milestones: [] })).toBeCloseTo(0.6);
  });

  it("is checked as part of a template, with field paths", () => {
    const body = {
      templateId: "raid",
      type: "cooperative",
      tier: "standard",
      name: "Raid",
      objectives: OBJECTIVES,
      milestones: [{ index: 0, progressThreshold: 1 }],
      clan: { objectiveIds: ["missing"], milestones: [{ index: 0, progressThreshold: 1 }], thresholdPercent: 101 },
    };
    const r = CreateTemplateBody.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toContain("clan.thresholdPercent");
    const fixed = CreateTemplateBody.safeParse({ ...body, clan: { ...body.clan, thresholdPercent: 10 } });
    expect(fixed.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([["clan.objectiveIds.0", 'names objective "missing", which does not exist']]);
  });
});

describe("clan maths", () => {
  it("counts only the increase of clan-scoped objectives", () => {
    expect(contribution(DEF, { "boss-damage": 10, "own-wins": 1 }, { "boss-damage": 35, "own-wins": 3 })).toEqual({ "boss-damage": 25 });
    expect(contribution(DEF, { "own-wins": 1 }, { "own-wins": 3 })).toEqual({});
  });

  it("unlocks clan milestones on the clan total against the clan target", () => {
    expect(clanProgress(DEF, OBJECTIVES, { "boss-damage": 499 })).toEqual({ completion: 0.499, reached: [] });
    expect(clanProgress(DEF, OBJECTIVES, { "boss-damage": 500 }).reached).toEqual([0]);
    expect(clanProgress(DEF, OBJECTIVES, { "boss-damage": 5000 })).toEqual({ completion: 1, reached: [0, 1] });
  });

  it("qualifies exactly 5 % and not a hair under", () => {
    expect(meetsThreshold(5, 100, 5)).toBe(true);
    expect(meetsThreshold(4.999, 100, 5)).toBe(false);
    expect(meetsThreshold(50, 1000, 5)).toBe(true);
    expect(meetsThreshold(49, 1000, 5)).toBe(false);
    expect(meetsThreshold(0.05, 1, 5)).toBe(true);
    expect(meetsThreshold(0, 0, 5)).toBe(false);
    expect(meetsThreshold(1, 100, 1)).toBe(true);
  });

  it("compares exactly at the boundary with large totals: one unit under never qualifies", () => {
    // 5 % of 2,469,135,780,246,900: the products (1.2e16) are past 2^53, where a slack of 1e-9 × total is 10^7 units.
    const total = 20 * 123_456_789_012_345;
    expect(meetsThreshold(123_456_789_012_345, total, 5)).toBe(true);
    expect(meetsThreshold(123_456_789_012_344, total, 5)).toBe(false);
    expect(neededMore(123_456_789_012_344, total, 5)).toBe(2); // 1 more raises the total too: (c+1)/(T+1) < 5 %
    expect(neededMore(123_456_789_012_345, total, 5)).toBe(0);
    // a total of 10^12: one unit short of 5 % (49,999,999,999) does not qualify, exactly 5 % does
    expect(meetsThreshold(49_999_999_999, 1e12, 5)).toBe(false);
    expect(meetsThreshold(50_000_000_000, 1e12, 5)).toBe(true);
    // non-integer amounts: a true equality that rounding moves by an ulp still qualifies, a real shortfall does not
    expect(meetsThreshold(0.1 + 0.2, 6, 5)).toBe(true);
    expect(meetsThreshold(0.3, 6.000000001, 5)).toBe(false);
    expect(meetsThreshold(1e11 * 0.05, 1e11, 5)).toBe(true);
    expect(meetsThreshold(1e11 * 0.05 - 0.001, 1e11, 5)).toBe(false);
    expect(meetsThreshold(2.5, 100, 2.5)).toBe(true);
    expect(meetsThreshold(2.4999999, 100, 2.5)).toBe(false);
  });

  it("says how much more was needed, counting that it raises the total too", () => {
    // 4 of 100: 5 more would be 9 of 105 (8.6 %); the least is 2 (6 of 102 = 5.9 %; 1 gives 5 of 101 = 4.95 %).
    expect(neededMore(4, 100, 5)).toBe(2);
    expect(meetsThreshold(4 + 2, 100 + 2, 5)).toBe(true);
    expect(meetsThreshold(4 + 1, 100 + 1, 5)).toBe(false);
    expect(neededMore(5, 100, 5)).toBe(0);
    expect(neededMore(0, 1900, 5)).toBe(100);
    expect(neededMore(1, 10, 100)).toBeNull();
  });

  it("ranks members and marks who shares in the rewards", () => {
    const shares = memberShares(
      [
        { playerId: "b", contribution: 5, at: 2, flagged: false },
        { playerId: "a", contribution: 95, at: 1, flagged: false },
        { playerId: "c", contribution: 5, at: 1, flagged: true },
        { playerId: "d", contribution: 0.5, at: 1, flagged: false },
      ],
      105.5,
      5,
    );
    expect(shares.map((s) => [s.playerId, s.rank, s.eligible])).toEqual([
      ["a", 1, true],
      ["c", 2, false],
      ["b", 3, false],
      ["d", 4, false],
    ]);
    expect(shares[0].sharePercent).toBe(90.05);
    expect(shares[3].neededMore).toBeGreaterThan(0);
  });
});

describe("clan ids", () => {
  it("takes the token's clan of 1–64 characters, and names objects so any clan id round-trips", () => {
    expect(clanIdOf({ clan: "red" })).toBe("red");
    expect(clanIdOf({ clan: null })).toBeNull();
    expect(clanIdOf({ clan: "x".repeat(65) })).toBeNull();
    expect(parseClanName(clanName("evt_abc", "a|b:c"))).toEqual({ eventId: "evt_abc", clanId: "a|b:c" });
    // a clan that calls itself like the directory is still a clan, not the directory
    expect(clanName("evt_abc", "~clans")).not.toBe(clanDirectoryName("evt_abc"));
    expect(parseClanName(clanName("evt_abc", "~clans"))).toEqual({ eventId: "evt_abc", clanId: "~clans" });
    expect(parseClanName(clanDirectoryName("evt_abc"))).toEqual({ eventId: "evt_abc", clanId: "~clans" });
    expect(parseClanName("evt_abc|other")).toBeNull();
  });
});

describe("clan ranking", () => {
  it("spreads the clans' standing reports so the directory takes about 500 a second, never more often than 1/s each", () => {
    expect(reportEveryMs(1)).toBe(1000);
    expect(reportEveryMs(500)).toBe(1000);
    expect(reportEveryMs(501)).toBe(1002);
    expect(reportEveryMs(10_000)).toBe(20_000);
    expect(reportEveryMs(3, 1)).toBe(3000);
    expect(reportEveryMs(1, 0.5)).toBe(2000);
  });

  it("ranks in the order given, with each rank's reward tier; cursors round-trip and refuse what they did not make", () => {
    const ordered = [
      { clanId: "a", total: 9, reachedAt: 5 },
      { clanId: "b", total: 9, reachedAt: 7 },
      { clanId: "c", total: 1, reachedAt: 1 },
    ];
    const tiers = [{ fromRank: 1, toRank: 1, rewards: [] }, { topPercent: 66, rewards: [] }];
    expect(clanStandings(ordered, tiers).map((s) => [s.rank, s.clanId, s.rewardTier])).toEqual([[1, "a", 0], [2, "b", 1], [3, "c", -1]]);
    const key = { total: 9.5, reachedAt: 1_700_000_000_000, clanId: "wolves/ü" };
    expect(decodeClanCursor(encodeClanCursor(key))).toEqual(key);
    for (const bad of ["", "!!", btoa("[1,2]"), btoa('[1,2.5,"x"]'), btoa(`[1,2,"${"x".repeat(65)}"]`), btoa('{"total":1}')]) expect(decodeClanCursor(bad)).toBeNull();
  });

  it("keeps a clan leaderboard when the event asks for a leaderboard or the clan has rank reward tiers", () => {
    const clan = ClanDefinition.parse({ objectiveIds: ["x"], milestones: [{ index: 0, progressThreshold: 1, rewards: [] }] });
    expect(keepsClanBoard({ requiresLeaderboard: false, clan })).toBe(false);
    expect(keepsClanBoard({ requiresLeaderboard: true, clan })).toBe(true);
    expect(keepsClanBoard({ requiresLeaderboard: false, clan: { ...clan, rankRewardTiers: [{ topPercent: 10, rewards: [] }] } })).toBe(true);
    expect(keepsClanBoard({ requiresLeaderboard: true, clan: null })).toBe(false);
  });
});
