import { describe, expect, it } from "vitest";
import { rescheduleProblems } from "./instance";
import { GRACE_PERIOD_MS, allowedActions, countdown, lifecycleTimers, operatorActions, transition, type LifecycleAction } from "./lifecycle";
import { EVENT_STATES, type EventState } from "./model";

// The complete legal table. Every (state, action) pair not listed here must be refused.
const LEGAL: Record<string, EventState> = {
  "scheduled/activate": "active",
  "scheduled/cancel": "cancelled",
  "scheduled/fail_activation": "failed_activation",
  "active/pause": "paused",
  "active/expire": "expired",
  "active/end_now": "expired",
  "paused/resume": "active",
  "paused/expire": "expired",
  "paused/end_now": "expired",
  "expired/archive": "archived",
  "failed_activation/retry_activation": "scheduled",
  "failed_activation/cancel": "cancelled",
};
const ACTIONS: LifecycleAction[] = ["activate", "pause", "resume", "cancel", "end_now", "expire", "archive", "fail_activation", "retry_activation"];

describe("transition", () => {
  for (const state of EVENT_STATES) {
    for (const action of ACTIONS) {
      const to = LEGAL[`${state}/${action}`];
      it(`${state} --${action}--> ${to ?? "refused"}`, () => {
        const r = transition(state, action);
        if (to) expect(r).toEqual({ ok: true, from: state, to });
        else {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.message).toContain(state);
        }
      });
    }
  }

  it("terminal states allow nothing", () => {
    expect(allowedActions("archived")).toEqual([]);
    expect(allowedActions("cancelled")).toEqual([]);
    expect(allowedActions("paused").sort()).toEqual(["end_now", "expire", "resume"]);
  });
});

describe("operatorActions", () => {
  it("lists only what ops may do, spelled as the routes spell it", () => {
    expect(operatorActions("scheduled")).toEqual(["cancel", "reschedule"]);
    expect(operatorActions("active")).toEqual(["pause", "end-now", "reschedule"]);
    expect(operatorActions("paused")).toEqual(["resume", "end-now", "reschedule"]);
    expect(operatorActions("failed_activation")).toEqual(["cancel", "retry-activation"]);
    for (const state of ["expired", "archived", "cancelled"] as const) expect(operatorActions(state)).toEqual([]);
  });

  it("offers reschedule exactly where a reschedule is not refused for the state itself", () => {
    for (const state of EVENT_STATES) {
      const refusedForState = rescheduleProblems({ state, startTime: 10_000, endTime: 20_000 }, { endTime: 30_000 }, 0, 90).some((p) => p.path.length === 0);
      expect(operatorActions(state).includes("reschedule"), state).toBe(!refusedForState);
    }
  });
});

describe("lifecycleTimers", () => {
  const w = { startTime: 1_000, endTime: 5_000 };
  it("arms exactly the next step of each state", () => {
    expect(lifecycleTimers({ ...w, state: "scheduled" })).toEqual({ activate: 1_000 });
    expect(lifecycleTimers({ ...w, state: "active" })).toEqual({ expire: 5_000 });
    expect(lifecycleTimers({ ...w, state: "paused" })).toEqual({ expire: 5_000 });
    expect(lifecycleTimers({ ...w, state: "expired" })).toEqual({ archive: 5_000 + GRACE_PERIOD_MS });
    for (const s of ["archived", "cancelled", "failed_activation"] as const) expect(lifecycleTimers({ ...w, state: s })).toEqual({});
  });
});

describe("countdown", () => {
  const w = { startTime: 10_000, endTime: 70_000 };
  it("counts to start and to end in whole seconds, never negative", () => {
    expect(countdown({ ...w, state: "scheduled" }, 8_500)).toEqual({ timeUntilStart: 2, timeRemaining: 62 });
    expect(countdown({ ...w, state: "active" }, 40_000)).toEqual({ timeUntilStart: 0, timeRemaining: 30 });
    expect(countdown({ ...w, state: "active" }, 90_000)).toEqual({ timeUntilStart: 0, timeRemaining: 0 });
    expect(countdown({ ...w, state: "expired" }, 40_000)).toEqual({ timeUntilStart: 0, timeRemaining: 0 });
  });
});
