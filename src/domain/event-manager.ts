// The seed's Event Manager, as decisions: given an event as it is stored and what was asked (an ops command, a
// reschedule, a due timer, an activation attempt), what happens — the target state, what else changes, and the cause
// the transition log records — or the refusal ops see. The EventActor only loads, persists and emits.
import { fail, invalid, ok, type Result } from "../lib/result";
import { rescheduleProblems, type WindowChange } from "./instance";
import { CAUSES, operatorActions, transition, type OperatorAction, type TimerKind } from "./lifecycle";
import { EventInstance, type EventState } from "./model";

export type Decision = { to: EventState; cause: string; patch: Partial<EventInstance> };

/** An ops command. `endTime` comes with a resume that also moves the end. */
export function decideCommand(instance: EventInstance, cmd: OperatorAction, now: number, opts: { endTime?: number; maxWindowDays: number }): Result<Decision> {
  const step = transition(instance.state, cmd);
  if (!step.ok) return fail(409, "illegal_transition", step.message, { state: step.from, allowed: operatorActions(step.from) });
  if (opts.endTime !== undefined) {
    const problems = rescheduleProblems(instance, { endTime: opts.endTime }, now, opts.maxWindowDays);
    if (problems.length) return invalid(problems);
  }
  const patch: Partial<EventInstance> = {};
  if (cmd === "end_now") patch.endTime = now;
  if (cmd === "resume" && opts.endTime !== undefined) patch.endTime = opts.endTime;
  // A past startTime makes the activate timer due at once, which is what a retry wants.
  if (cmd === "retry_activation") Object.assign(patch, { activationAttempts: 0, lastError: null });
  return ok({ to: step.to, cause: CAUSES[cmd], patch });
}

/** Moving the window without changing state; audited like a transition (from = to). */
export function decideReschedule(instance: EventInstance, change: WindowChange, now: number, maxWindowDays: number): Result<Decision> {
  const problems = rescheduleProblems(instance, change, now, maxWindowDays);
  // A problem with no field is about the state itself (e.g. an expired event): that is a 409, not a bad field.
  if (problems.length) {
    return problems[0].path.length === 0
      ? fail(409, "illegal_transition", problems[0].message, { state: instance.state, allowed: operatorActions(instance.state) })
      : invalid(problems);
  }
  const patch: Partial<EventInstance> = {};
  if (change.startTime !== undefined) patch.startTime = change.startTime;
  if (change.endTime !== undefined) patch.endTime = change.endTime;
  // The scheduled end is what the event was planned with; only a change before it starts re-plans it.
  if (change.endTime !== undefined && instance.state === "scheduled") patch.scheduledEndTime = change.endTime;
  return ok({ to: instance.state, cause: "ops_reschedule", patch });
}

/** A due expire/archive timer: its transition, or null when the state already moved on (the row is stale). */
export function decideTimer(instance: EventInstance, kind: Exclude<TimerKind, "activate">): Decision | null {
  const step = transition(instance.state, kind);
  return step.ok ? { to: step.to, cause: CAUSES[kind], patch: {} } : null;
}

/**
 * Everything that must hold before players may see the event. The seed's "event data corruption" case lands here:
 * a stored instance that no longer parses is refused.
 */
export function activationProblem(instance: EventInstance): string | null {
  const parsed = EventInstance.safeParse(instance);
  return parsed.success ? null : `instance data is invalid: ${parsed.error.issues[0]?.message ?? "unknown"}`;
}

export type ActivationDecision = (Decision & { retry: false }) | { retry: true; attempt: number; error: string; patch: Partial<EventInstance> };

/**
 * The activate timer came due. The first attempt plus `maxRetries` retries (the schedule backs off between them);
 * after the last one the event is parked as failed_activation for ops to retry or cancel.
 */
export function decideActivation(instance: EventInstance, maxRetries: number): ActivationDecision | null {
  const step = transition(instance.state, "activate");
  if (!step.ok) return null;
  const attempt = instance.activationAttempts + 1;
  const error = activationProblem(instance);
  if (!error) return { retry: false, to: step.to, cause: CAUSES.activate, patch: { activationAttempts: attempt, lastError: null } };
  const patch = { activationAttempts: attempt, lastError: error };
  if (attempt > maxRetries) return { retry: false, to: "failed_activation", cause: CAUSES.fail_activation, patch };
  return { retry: true, attempt, error, patch };
}
