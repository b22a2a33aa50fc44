// The seed's event state machine, plus the two states production needs around it:
// `failed_activation` (activation kept throwing; ops retry or cancel) and `end-now` (ops stop an event early).
import type { EventInstance, EventState } from "./model";
import { DAY_MS, HOUR_MS } from "./time";

export const GRACE_PERIOD_MS = DAY_MS;

export type LifecycleAction =
  | "activate"
  | "pause"
  | "resume"
  | "cancel"
  | "end_now"
  | "expire"
  | "archive"
  | "fail_activation"
  | "retry_activation";

const RULES: Record<LifecycleAction, { from: readonly EventState[]; to: EventState }> = {
  activate: { from: ["scheduled"], to: "active" },
  pause: { from: ["active"], to: "paused" },
  resume: { from: ["paused"], to: "active" },
  cancel: { from: ["scheduled", "failed_activation"], to: "cancelled" },
  end_now: { from: ["active", "paused"], to: "expired" },
  // A paused event still ends at its endTime: otherwise a forgotten pause would keep it open forever.
  expire: { from: ["active", "paused"], to: "expired" },
  archive: { from: ["expired"], to: "archived" },
  fail_activation: { from: ["scheduled"], to: "failed_activation" },
  retry_activation: { from: ["failed_activation"], to: "scheduled" },
};

/** One row of an event's transition log: the audit trail ops read and D1 keeps. */
export type TransitionRecord = {
  seq: number;
  fromState: string | null;
  toState: string;
  at: number;
  cause: string;
  actor: string;
  reason: string | null;
  details: Record<string, unknown> | null;
};

/** The actions ops may take (routes spell end_now as end-now); the rest are the system's own. */
export type OperatorAction = Extract<LifecycleAction, "pause" | "resume" | "cancel" | "end_now" | "retry_activation">;

/** Why a transition happened, as the transition log records it. */
export const CAUSES: Record<LifecycleAction, string> = {
  activate: "start_time_reached",
  expire: "end_time_reached",
  archive: "grace_period_elapsed",
  pause: "ops_pause",
  resume: "ops_resume",
  cancel: "ops_cancel",
  end_now: "ops_end_now",
  fail_activation: "activation_failed",
  retry_activation: "ops_retry_activation",
};

export type TransitionResult =
  | { ok: true; from: EventState; to: EventState }
  | { ok: false; from: EventState; message: string };

export function transition(state: EventState, action: LifecycleAction): TransitionResult {
  const rule = RULES[action];
  if (!rule.from.includes(state)) {
    return { ok: false, from: state, message: `cannot ${action.replace("_", " ")} an event that is ${state}` };
  }
  return { ok: true, from: state, to: rule.to };
}

/** Which actions are legal from a state: shown to ops next to a 409 so they know what they can do instead. */
export function allowedActions(state: EventState): LifecycleAction[] {
  return (Object.keys(RULES) as LifecycleAction[]).filter((a) => RULES[a].from.includes(state));
}

/** What ops can do to an event, as the admin routes name it: the operator commands plus reschedule (PATCH). */
export type OperatorRouteAction = "pause" | "resume" | "cancel" | "end-now" | "retry-activation" | "reschedule";

const ROUTE_NAMES: Record<OperatorAction, OperatorRouteAction> = {
  pause: "pause",
  resume: "resume",
  cancel: "cancel",
  end_now: "end-now",
  retry_activation: "retry-activation",
};

/** A window may move while the event has not ended: both ends while scheduled, the end while it runs. */
export const RESCHEDULABLE_STATES: readonly EventState[] = ["scheduled", "active", "paused"];

/**
 * What ops may do from a state, spelled as the routes spell it: shown next to a 409 so ops know what to do instead.
 * The clock's own steps (activate, expire, archive, fail_activation) are not theirs to take, so they are not listed.
 */
export function operatorActions(state: EventState): OperatorRouteAction[] {
  const commands = (Object.keys(ROUTE_NAMES) as OperatorAction[]).filter((a) => RULES[a].from.includes(state)).map((a) => ROUTE_NAMES[a]);
  return RESCHEDULABLE_STATES.includes(state) ? [...commands, "reschedule"] : commands;
}

/** Lifecycle steps the clock performs; each is also the action it takes. */
export type TimerKind = Extract<LifecycleAction, "activate" | "expire" | "archive">;
/** The rewards issue's warning: one hour before the auto-claim at endTime + 24 h. */
export const AUTO_CLAIM_WARNING_AT_MS = GRACE_PERIOD_MS - HOUR_MS;

/**
 * The lifecycle timers an instance needs in its current state. The actor keeps exactly these in its schedule
 * table, so after any transition the pending lifecycle timers are recomputed, never patched.
 */
export function lifecycleTimers(instance: Pick<EventInstance, "state" | "startTime" | "endTime">): Partial<Record<TimerKind, number>> {
  switch (instance.state) {
    case "scheduled":
      return { activate: instance.startTime };
    case "active":
    case "paused":
      return { expire: instance.endTime };
    case "expired":
      return { archive: instance.endTime + GRACE_PERIOD_MS };
    default:
      return {};
  }
}

/** Server-computed countdowns in whole seconds, so clients with skewed clocks agree. */
export function countdown(instance: Pick<EventInstance, "state" | "startTime" | "endTime">, now: number) {
  const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
  const live = instance.state === "active" || instance.state === "paused";
  return {
    timeUntilStart: instance.state === "scheduled" ? secs(instance.startTime - now) : 0,
    timeRemaining: instance.state === "scheduled" || live ? secs(instance.endTime - now) : 0,
  };
}
