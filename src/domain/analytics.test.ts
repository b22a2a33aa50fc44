// The KPI formulas on hand-built inputs whose answers are worked out by hand in each test.
import { describe, expect, it } from "vitest";
import {
  computeKpis,
  engagementScore,
  milestoneFunnel,
  objectivesDoneShare,
  objectivesNeeded,
  participationCurve,
  percentile,
  percentileOffset,
  requiredTargets,
  templatePerformance,
  type KpiInput,
} from "./analytics";
import type { Milestone, Objective } from "./model";

const obj = (objectiveId: string, targetValue: number, extra: Partial<Objective> = {}): Objective =>
  ({ objectiveId, description: "", type: "collect", targetValue, trackingKey: objectiveId, isOptional: false, ...extra }) as Objective;

const base: KpiInput = {
  activeFirstDay: 0,
  activeFirstDayJoined: 0,
  participants: 0,
  completers: 0,
  revenue: 0,
  payers: 0,
  participantPayers: 0,
  retention: null,
  activation: "pending",
  syncLatencyMs: { p50: null, p95: null, p99: null, samples: 0 },
  notifications: { sent: 0, failed: 0 },
  repeaters: 0,
};

describe("objectivesDoneShare", () => {
  const objectives = [obj("a", 10), obj("b", 5), obj("c", 1), obj("d", 2), obj("opt", 3, { isOptional: true })];
  it("counts whole required objectives reached, not partial progress, and ignores optional and clan ones", () => {
    expect(objectivesDoneShare({ a: 10, b: 5, c: 1, d: 1.9 }, objectives)).toBe(0.75);
    expect(objectivesDoneShare({ a: 9.99, b: 4, c: 0, d: 0, opt: 3 }, objectives)).toBe(0);
    expect(objectivesDoneShare({ a: 50, b: 5 }, objectives)).toBe(0.5);
    // With d clan-scoped, three required remain and all are done.
    expect(objectivesDoneShare({ a: 10, b: 5, c: 1 }, objectives, ["d"])).toBe(1);
    // No required objective: completion is unknown (null), not 0.
    expect(objectivesDoneShare({}, [obj("x", 1, { isOptional: true })])).toBeNull();
    expect(objectivesNeeded(0)).toBeNull();
  });

  it("objectivesNeeded (the count D1 compares with) agrees with the share ≥ 75 % for every size", () => {
    for (let n = 1; n <= 40; n++) {
      const objs = Array.from({ length: n }, (_, i) => obj(`o${i}`, 1));
      for (let done = 0; done <= n; done++) {
        const values = Object.fromEntries(objs.slice(0, done).map((o) => [o.objectiveId, 1]));
        expect(done >= objectivesNeeded(n)!).toBe(objectivesDoneShare(values, objs)! >= 0.75);
      }
    }
    expect(requiredTargets(objectives, ["d"])).toEqual({ a: 10, b: 5, c: 1 });
  });
});

describe("percentile (nearest rank)", () => {
  it("picks the sample at ceil(p·n)", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([], 50)).toBeNull();
    // The offsets D1 is asked for: the same ranks, 0-based.
    expect([50, 95, 99].map((p) => percentileOffset(100, p))).toEqual([49, 94, 98]);
    expect([50, 95, 99].map((p) => percentileOffset(3, p))).toEqual([1, 2, 2]);
    expect(percentileOffset(0, 50)).toBeNull();
  });
});

describe("computeKpis", () => {
  it("computes every rate from its counts", () => {
    const k = computeKpis({
      activeFirstDay: 10,
      activeFirstDayJoined: 4, // 4 of 10 active players joined
      participants: 5,
      completers: 2, // 2 of 5
      revenue: 30, // by 3 payers → 10 each
      payers: 3,
      participantPayers: 1, // 1 of 5 participants paid
      retention: { participants: { cohort: 5, retained: 4 }, nonParticipants: { cohort: 8, retained: 2 } },
      activation: "activated",
      syncLatencyMs: { p50: 200, p95: 400, p99: 400, samples: 4 },
      notifications: { sent: 9, failed: 1 },
      repeaters: 3,
    });
    expect(k).toMatchObject({
      participationRate: 0.4,
      completionRate: 0.4,
      rppu: 10,
      conversionRate: 0.2,
      retention7d: { participants: 0.8, nonParticipants: 0.25 },
      activationSuccessRate: 1,
      progressSyncLatencyMs: { p50: 200, p95: 400, p99: 400, samples: 4 },
      notificationDeliveryRate: 0.9,
      repeatParticipationRate: 0.6,
      engagementScore: 40,
    });
  });

  it("has no completion rate for an event without required objectives, and engagement from participation alone", () => {
    const k = computeKpis({ ...base, activeFirstDay: 4, activeFirstDayJoined: 2, participants: 2, completers: null });
    expect(k).toMatchObject({ completionRate: null, engagementScore: 50, counts: { completers: null } });
  });

  it("says unknown (null), never 0, where there is no denominator", () => {
    const k = computeKpis({ ...base, activation: "failed" });
    expect(k).toMatchObject({
      participationRate: null,
      completionRate: null,
      rppu: null,
      conversionRate: null,
      retention7d: null,
      activationSuccessRate: 0,
      progressSyncLatencyMs: { p50: null, p95: null, p99: null, samples: 0 },
      notificationDeliveryRate: null,
      repeatParticipationRate: null,
      engagementScore: null,
    });
    expect(computeKpis(base).activationSuccessRate).toBeNull();
  });

  it("engagement is the mean of the known participation and completion rates, × 100", () => {
    expect(engagementScore(0.5, 0.25)).toBe(37.5);
    expect(engagementScore(null, 0.3)).toBe(30);
    expect(engagementScore(null, null)).toBeNull();
  });
});

describe("report parts", () => {
  it("the participation curve fills empty hours and runs the participant total", () => {
    const curve = participationCurve(
      [
        { hour: 0, joins: 3, activePlayers: 5, purchases: 1, revenue: 1.5 },
        { hour: 2, joins: 2, activePlayers: 4, purchases: 0, revenue: 0 },
      ],
      4,
    );
    expect(curve.map((p) => [p.hour, p.joins, p.participants, p.activePlayers])).toEqual([
      [0, 3, 3, 5],
      [1, 0, 3, 0],
      [2, 2, 5, 4],
      [3, 0, 5, 0],
    ]);
  });

  it("the milestone funnel counts each participant once per milestone reached", () => {
    const milestones = [0.25, 0.5, 1].map((t, index) => ({ index, progressThreshold: t, rewards: [], unlockMessage: "" })) as Milestone[];
    const funnel = milestoneFunnel(
      [
        { milestone: 0, n: 3 },
        { milestone: 1, n: 2 },
        { milestone: 2, n: 1 },
      ],
      4,
      milestones,
    );
    expect(funnel).toEqual([
      { milestoneIndex: 0, progressThreshold: 0.25, reached: 3, share: 0.75 },
      { milestoneIndex: 1, progressThreshold: 0.5, reached: 2, share: 0.5 },
      { milestoneIndex: 2, progressThreshold: 1, reached: 1, share: 0.25 },
    ]);
  });

  it("template performance averages each figure over the events that have it", () => {
    expect(
      templatePerformance([
        { engagementScore: 40, completionRate: 0.5, rppu: 10 },
        { engagementScore: 60, completionRate: 0.3, rppu: null },
      ]),
    ).toEqual({ engagementScore: 50, completionRate: 0.4, rppu: 10, events: 2 });
    expect(templatePerformance([])).toEqual({ engagementScore: null, completionRate: null, rppu: null, events: 0 });
  });
});
