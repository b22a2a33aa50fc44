// The alert rules on hand-built figures: each threshold at its boundary (fires just past it, not at it), when a rule
// applies, and the open/keep/resolve/silence decisions.
import { describe, expect, it } from "vitest";
import { record, type Histogram } from "./histogram";
import {
  ALERT_KINDS,
  DEFAULT_THRESHOLDS,
  MIN_RESPONSE_SAMPLES,
  PARTICIPATION_WINDOW_MS,
  RULES,
  applies,
  breached,
  decide,
  p95Evaluation,
  pct,
  ruleOf,
  syncEvaluation,
  syncFailureRate,
  thresholdOf,
  type AlertKind,
  type Evaluation,
} from "./alerts";
import { HOUR_MS } from "./time";

const t = DEFAULT_THRESHOLDS;
const at = (kind: AlertKind, value: number | null) => breached(ruleOf(kind), value, thresholdOf(ruleOf(kind), t));

describe("the rules table", () => {
  it("has one rule per kind, the seed's severities and defaults", () => {
    expect(RULES.map((r) => r.kind).sort()).toEqual([...ALERT_KINDS].sort());
    expect(RULES.filter((r) => r.severity === "critical").map((r) => r.kind).sort()).toEqual(["activation_failed", "p95_response_time", "progress_sync_failure_rate", "reward_distribution_errors"]);
    expect(t).toEqual({ syncFailureRatePct: 5, rewardErrorsMax: 0, p95ResponseMs: 2000, participationPct: 30, completionPct: 10, notificationDeliveryPct: 90 });
  });
});

describe("each threshold's boundary", () => {
  it("activation failed: 1 fires, 0 does not", () => {
    expect(at("activation_failed", 1)).toBe(true);
    expect(at("activation_failed", 0)).toBe(false);
  });
  it("progress-sync failure rate: above 5 % fires, exactly 5 % does not", () => {
    expect(syncFailureRate(95, 5)).toBe(5);
    expect(at("progress_sync_failure_rate", syncFailureRate(95, 5))).toBe(false);
    expect(at("progress_sync_failure_rate", syncFailureRate(94, 6))).toBe(true);
    expect(at("progress_sync_failure_rate", syncFailureRate(0, 0))).toBe(false);
  });
  it("progress-sync: fewer than 5 attempts with a failure hold (an open alert stays, none opens); from 5 they are judged", () => {
    expect(syncEvaluation(0, 4)).toEqual({ value: 100, hold: true });
    expect(syncEvaluation(0, 5)).toEqual({ value: 100, hold: false });
    expect(syncEvaluation(3, 0)).toEqual({ value: 0, hold: false }); // no failure: clear, however few
    expect(syncEvaluation(0, 0)).toEqual({ value: null, hold: false }); // idle shards: nothing to watch
    const e = { kind: "progress_sync_failure_rate" as const, scope: "ev", value: 100, threshold: 5, breached: true, hold: true };
    expect(decide(e, { alertId: "a", kind: e.kind, scope: "ev" }, false)).toBeNull();
    expect(decide(e, undefined, false)).toBeNull();
  });
  it("reward distribution errors: one fires, none does not", () => {
    expect(at("reward_distribution_errors", 1)).toBe(true);
    expect(at("reward_distribution_errors", 0)).toBe(false);
  });
  it("p95 response time: fires only when the p95 is certainly above 2,000 ms, never on the bucket straddling it", () => {
    const samples = (slow: number, ms: number, n = MIN_RESPONSE_SAMPLES): Histogram => {
      const h: Histogram = new Map();
      for (let i = 0; i < n; i++) record(h, i < slow ? ms : 10);
      return h;
    };
    const p95 = (h: Histogram) => p95Evaluation(h, t.p95ResponseMs);
    // 100 responses: nearest-rank p95 is the 95th, so six slow ones make the p95 slow, five do not.
    // (2048, 2233]: every response in it is above 2,000 ms; the value is the bucket's lower bound.
    expect(p95(samples(6, 2100))).toEqual({ value: 2048, breached: true });
    // (1878, 2048] straddles 2,000 ms: a p95 of 2,001 ms and one of 1,880 ms land in the same bucket, so neither fires.
    expect(p95(samples(6, 2001))).toEqual({ value: 1878, breached: false });
    expect(p95(samples(6, 1880))).toEqual({ value: 1878, breached: false });
    expect(p95(samples(6, 1800))).toEqual({ value: 1722, breached: false }); // (1722, 1878]
    expect(p95(samples(5, 9000)).breached).toBe(false);
    // A threshold on a bucket bound: (2048, 2233] is entirely above 2,048 ms, (1878, 2048] entirely at or below.
    expect(p95Evaluation(samples(6, 2049), 2048)).toEqual({ value: 2048, breached: true });
    expect(p95Evaluation(samples(6, 2048), 2048)).toEqual({ value: 1878, breached: false });
    expect(p95Evaluation(samples(6, 1879), 1878)).toEqual({ value: 1878, breached: true });
    expect(p95(samples(MIN_RESPONSE_SAMPLES - 1, 9000, MIN_RESPONSE_SAMPLES - 1))).toEqual({ value: null, breached: false });
  });
  it("participation: below 30 % fires, exactly 30 % does not, no active players says nothing", () => {
    expect(at("participation_first_6h", pct(3, 10))).toBe(false);
    expect(at("participation_first_6h", pct(29, 100))).toBe(true);
    expect(at("participation_first_6h", pct(0, 0))).toBe(false);
  });
  it("completion: below 10 % fires, exactly 10 % does not", () => {
    expect(at("completion_at_midpoint", pct(1, 10))).toBe(false);
    expect(at("completion_at_midpoint", pct(9, 100))).toBe(true);
  });
  it("notification delivery: below 90 % fires, exactly 90 % does not", () => {
    expect(at("notification_delivery", pct(9, 10))).toBe(false);
    expect(at("notification_delivery", pct(89, 100))).toBe(true);
  });
  it("a changed threshold moves the boundary", () => {
    const rule = ruleOf("completion_at_midpoint");
    expect(breached(rule, 15, thresholdOf(rule, { ...t, completionPct: 20 }))).toBe(true);
  });
});

describe("when a rule applies", () => {
  const ev = { state: "active", startTime: 0, endTime: 10 * HOUR_MS };
  it("participation from start + 6 h, completion from the midpoint, both only while active", () => {
    expect(applies(ruleOf("participation_first_6h"), ev, PARTICIPATION_WINDOW_MS - 1)).toBe(false);
    expect(applies(ruleOf("participation_first_6h"), ev, PARTICIPATION_WINDOW_MS)).toBe(true);
    expect(applies(ruleOf("completion_at_midpoint"), ev, 5 * HOUR_MS - 1)).toBe(false);
    expect(applies(ruleOf("completion_at_midpoint"), ev, 5 * HOUR_MS)).toBe(true);
    expect(applies(ruleOf("completion_at_midpoint"), { ...ev, state: "expired" }, 6 * HOUR_MS)).toBe(false);
    expect(applies(ruleOf("notification_delivery"), { ...ev, state: "paused" }, 1)).toBe(false);
    expect(applies(ruleOf("p95_response_time"), null, 1)).toBe(true);
  });
});

describe("decide", () => {
  const e = (b: boolean): Evaluation => ({ kind: "reward_distribution_errors", scope: "evt_x", value: b ? 1 : 0, threshold: 0, breached: b });
  const open = { alertId: "alert_1", kind: "reward_distribution_errors" as const, scope: "evt_x" };
  it("opens once, keeps while breached, resolves when clear", () => {
    expect(decide(e(true), undefined, false)).toMatchObject({ kind: "open" });
    expect(decide(e(true), open, false)).toMatchObject({ kind: "keep", alertId: "alert_1" });
    expect(decide(e(false), open, false)).toMatchObject({ kind: "resolve", alertId: "alert_1" });
    expect(decide(e(false), undefined, false)).toBeNull();
  });
  it("a hand-resolved (silenced) breach stays quiet until it clears", () => {
    expect(decide(e(true), undefined, true)).toBeNull();
    expect(decide(e(false), undefined, true)).toMatchObject({ kind: "unsilence" });
  });
});
