import { describe, expect, it } from "vitest";
import {
  DEFAULT_WEIGHTS,
  NEUTRAL,
  PACE_BUCKETS,
  difficultyMatch,
  eventDifficulty,
  meanPace,
  pacePercentile,
  recommend,
  rewardRelevance,
  sessionsPerDay,
  skill,
  spendSegment,
  timeCommitment,
  typeAffinity,
  type Candidate,
  type ScoringProfile,
} from "./personalization";
import { DAY_MS, HOUR_MS } from "./time";

const NOW = Date.UTC(2026, 5, 1);
const ev = (eventId: string, over: Partial<Candidate> = {}): Candidate => ({
  eventId,
  type: "seasonal",
  tier: "standard",
  startTime: NOW + HOUR_MS,
  endTime: NOW + 3 * DAY_MS,
  rewards: [{ type: "currency", itemId: "gold" }],
  difficulty: null,
  ...over,
});

describe("profile figures", () => {
  it("spend segments at their bounds", () => {
    expect([0, 0.01, 19.99, 20, 99.99, 100].map(spendSegment)).toEqual(["non_payer", "minnow", "minnow", "dolphin", "dolphin", "whale"]);
  });
  it("sessions per day count from the first session in the window, at least one day, at most 30", () => {
    expect(sessionsPerDay(0, null, NOW)).toBe(0);
    expect(sessionsPerDay(6, NOW - HOUR_MS, NOW)).toBe(6);
    expect(sessionsPerDay(10, NOW - 5 * DAY_MS, NOW)).toBe(2);
    expect(sessionsPerDay(60, NOW - 90 * DAY_MS, NOW)).toBe(2);
  });
  it("pace percentile is the mid-rank of the player's completion bucket", () => {
    const h = new Array<number>(PACE_BUCKETS).fill(0);
    h[0] = 5; // 5 players got nowhere
    h[10] = 4; // 4 got half way
    h[19] = 1; // 1 finished
    expect(pacePercentile(0, h)).toBe(0.25);
    expect(pacePercentile(0.5, h)).toBe(0.7);
    expect(pacePercentile(1, h)).toBe(0.95);
    expect(pacePercentile(1, new Array<number>(PACE_BUCKETS).fill(0))).toBeNull();
    expect(meanPace([0.2, null, 0.6])).toBe(0.4);
    expect(meanPace([null])).toBeNull();
  });
  it("skill is the mean of the known parts", () => {
    expect(skill(1, null, 50)).toBe(0);
    expect(skill(50, null, 50)).toBe(1);
    expect(skill(500, 0.5, 50)).toBe(0.75);
    expect(skill(null, 0.3, 50)).toBe(0.3);
    expect(skill(null, null, 50)).toBeNull();
  });
});

describe("the score's parts", () => {
  it("type affinity is the smoothed share of joins and completions of that type", () => {
    expect(typeAffinity("seasonal", {})).toBe(0.2);
    const p = { competitive: { joined: 4, completed: 1 }, seasonal: { joined: 1, completed: 0 } };
    expect(typeAffinity("competitive", p)).toBe(0.5455); // (4 + 1 + 1) / (6 + 5)
    expect(typeAffinity("gacha", p)).toBe(0.0909); // (0 + 1) / (6 + 5)
  });
  it("difficulty: a rating first, else one minus the completion rate; the match is 1 − distance", () => {
    expect(eventDifficulty(1, 0.1)).toBe(0);
    expect(eventDifficulty(5, null)).toBe(1);
    expect(eventDifficulty(null, 0.25)).toBe(0.75);
    expect(eventDifficulty(null, null)).toBeNull();
    expect(difficultyMatch(0.75, 0.5)).toBe(0.75);
    expect(difficultyMatch(null, 0.5)).toBe(NEUTRAL);
    expect(difficultyMatch(0.5, null)).toBe(NEUTRAL);
  });
  it("time commitment: minutes the habits give the remaining window over the tier's demand, capped at 1", () => {
    const window = { startTime: NOW - DAY_MS, endTime: NOW + DAY_MS };
    expect(timeCommitment("major", window, { sessionsPerDay: 2, avgSessionMinutes: 30 }, NOW)).toBe(0.1); // 60 / 600
    expect(timeCommitment("daily", window, { sessionsPerDay: 2, avgSessionMinutes: 30 }, NOW)).toBe(1);
    expect(timeCommitment("major", window, { sessionsPerDay: 0, avgSessionMinutes: null }, NOW)).toBe(NEUTRAL);
  });
  it("reward relevance: share of needs met; nothing without needs", () => {
    const rewards = [{ type: "booster" as const, itemId: "xp-boost" }, { type: "currency" as const, itemId: "gold" }];
    expect(rewardRelevance(rewards, null)).toBe(0);
    expect(rewardRelevance(rewards, { rewardTypes: ["booster"], itemIds: ["gold", "gem"] })).toBe(0.6667);
    expect(rewardRelevance(rewards, { rewardTypes: [], itemIds: [] })).toBe(0);
  });
});

describe("recommend", () => {
  const grinder: ScoringProfile = {
    participation: { competitive: { joined: 8, completed: 6 } },
    skill: 0.9,
    sessionsPerDay: 4,
    avgSessionMinutes: 45,
    needs: { rewardTypes: [], itemIds: ["legendary-sword"] },
  };
  const casual: ScoringProfile = {
    participation: { seasonal: { joined: 3, completed: 0 } },
    skill: 0.1,
    sessionsPerDay: 0.5,
    avgSessionMinutes: 10,
    needs: null,
  };
  const events = [
    ev("evt_hardpvp", { type: "competitive", tier: "major", difficulty: 1, rewards: [{ type: "item", itemId: "legendary-sword" }] }),
    ev("evt_cosy", { type: "seasonal", tier: "daily", difficulty: 0, endTime: NOW + DAY_MS }),
    ev("evt_mid", { type: "gacha", tier: "standard", difficulty: 0.5 }),
  ];

  it("orders the same events differently for different profiles, with the breakdown summing to the score", () => {
    const g = recommend(events, grinder, DEFAULT_WEIGHTS, NOW);
    const c = recommend(events, casual, DEFAULT_WEIGHTS, NOW);
    expect(g.map((s) => s.eventId)).toEqual(["evt_hardpvp", "evt_mid", "evt_cosy"]);
    expect(c.map((s) => s.eventId)).toEqual(["evt_cosy", "evt_mid", "evt_hardpvp"]);
    for (const s of [...g, ...c]) {
      const b = s.breakdown;
      expect(s.score).toBeCloseTo(b.typeAffinity + b.difficultyMatch + b.timeCommitment + b.rewardRelevance, 3);
    }
    expect(g[0].breakdown.rewardRelevance).toBe(1);
    expect(c[0].breakdown).toEqual({ typeAffinity: 0.5, difficultyMatch: 0.9, timeCommitment: 0.1597, rewardRelevance: 0 });
    // 0.1597: 0.5 sessions/day × 10 min × 23/24 days left (it starts in an hour) = 4.79 of a daily's 30 minutes.
  });

  it("weights scale their part; a zero weight removes it", () => {
    const only = recommend(events, casual, { ...DEFAULT_WEIGHTS, typeAffinity: 0, difficultyMatch: 0, timeCommitment: 0, rewardRelevance: 2 }, NOW);
    expect(only.every((s) => s.score === 0)).toBe(true);
    const doubled = recommend(events, grinder, { ...DEFAULT_WEIGHTS, rewardRelevance: 2 }, NOW);
    expect(doubled[0].breakdown.rewardRelevance).toBe(2);
  });

  it("is deterministic, ties broken by event id, and keeps the top 5", () => {
    const same = ["evt_e", "evt_b", "evt_g", "evt_a", "evt_f", "evt_c", "evt_d"].map((id) => ev(id));
    const a = recommend(same, casual, DEFAULT_WEIGHTS, NOW);
    expect(a.map((s) => s.eventId)).toEqual(["evt_a", "evt_b", "evt_c", "evt_d", "evt_e"]);
    expect(recommend([...same].reverse(), casual, DEFAULT_WEIGHTS, NOW)).toEqual(a);
  });
});
