import { describe, expect, it } from "vitest";
import { backoff } from "./backoff";
import { activationProblem, decideActivation, decideCommand, decideReschedule, decideTimer } from "./event-manager";
import { instanceFromTemplate } from "./instance";
import { NOW, body, template } from "./instance.fixtures";
import type { EventInstance, EventState } from "./model";
import { DAY_MS, HOUR_MS } from "./time";

const built = instanceFromTemplate(template, body(), { eventId: "evt_decisions1", now: NOW }, { maxWindowDays: 90 });
if (!built.ok) throw new Error("fixture");
const event = (state: EventState, patch: Partial<EventInstance> = {}): EventInstance => ({ ...built.instance, state, ...patch });
const start = built.instance.startTime;
const end = built.instance.endTime;

describe("decideCommand", () => {
  it("gives the target state, the patch and the cause of each ops command", () => {
    expect(decideCommand(event("active"), "pause", NOW, { maxWindowDays: 90 })).toEqual({ ok: true, value: { to: "paused", cause: "ops_pause", patch: {} } });
    expect(decideCommand(event("active"), "end_now", start + HOUR_MS, { maxWindowDays: 90 })).toEqual({
      ok: true,
      value: { to: "expired", cause: "ops_end_now", patch: { endTime: start + HOUR_MS } },
    });
    expect(decideCommand(event("failed_activation", { activationAttempts: 4, lastError: "x" }), "retry_activation", NOW, { maxWindowDays: 90 })).toEqual({
      ok: true,
      value: { to: "scheduled", cause: "ops_retry_activation", patch: { activationAttempts: 0, lastError: null } },
    });
  });

  it("moves the end on a resume that brings one, after checking it", () => {
    const later = end + DAY_MS;
    expect(decideCommand(event("paused"), "resume", start + HOUR_MS, { endTime: later, maxWindowDays: 90 })).toEqual({
      ok: true,
      value: { to: "active", cause: "ops_resume", patch: { endTime: later } },
    });
    const past = decideCommand(event("paused"), "resume", start + HOUR_MS, { endTime: start + 1, maxWindowDays: 90 });
    expect(past).toMatchObject({ ok: false, status: 422, code: "validation_failed" });
  });

  it("refuses an illegal command with the state and what is allowed instead", () => {
    expect(decideCommand(event("cancelled"), "pause", NOW, { maxWindowDays: 90 })).toMatchObject({
      ok: false,
      status: 409,
      code: "illegal_transition",
      details: { state: "cancelled", allowed: [] },
    });
    // Only operator actions, as the routes name them: never the clock's own steps (expire, activate, …).
    expect(decideCommand(event("paused"), "pause", NOW, { maxWindowDays: 90 })).toMatchObject({
      details: { state: "paused", allowed: ["resume", "end-now", "reschedule"] },
    });
    expect(decideCommand(event("scheduled"), "end_now", NOW, { maxWindowDays: 90 })).toMatchObject({
      details: { state: "scheduled", allowed: ["cancel", "reschedule"] },
    });
  });
});

describe("decideReschedule", () => {
  it("re-plans the scheduled end only before the event starts", () => {
    const moved = decideReschedule(event("scheduled"), { endTime: end + HOUR_MS }, NOW, 90);
    expect(moved).toEqual({ ok: true, value: { to: "scheduled", cause: "ops_reschedule", patch: { endTime: end + HOUR_MS, scheduledEndTime: end + HOUR_MS } } });
    const running = decideReschedule(event("active"), { endTime: end + HOUR_MS }, start + HOUR_MS, 90);
    expect(running).toEqual({ ok: true, value: { to: "active", cause: "ops_reschedule", patch: { endTime: end + HOUR_MS } } });
  });

  it("is a 409 for a state that cannot move, and a 422 naming the field for a bad window", () => {
    expect(decideReschedule(event("expired"), { endTime: end + HOUR_MS }, NOW, 90)).toMatchObject({
      ok: false,
      status: 409,
      code: "illegal_transition",
      details: { state: "expired", allowed: [] },
    });
    expect(decideReschedule(event("active"), { startTime: start + HOUR_MS }, start + 1, 90)).toMatchObject({
      ok: false,
      status: 422,
      details: { fields: [{ path: "startTime" }] },
    });
  });
});

describe("decideTimer", () => {
  it("expires a running event and archives an expired one; a stale timer does nothing", () => {
    expect(decideTimer(event("paused"), "expire")).toEqual({ to: "expired", cause: "end_time_reached", patch: {} });
    expect(decideTimer(event("expired"), "archive")).toEqual({ to: "archived", cause: "grace_period_elapsed", patch: {} });
    expect(decideTimer(event("cancelled"), "expire")).toBeNull();
  });
});

describe("decideActivation", () => {
  const corrupt = (attempts: number) => event("scheduled", { activationAttempts: attempts, objectives: [] });

  it("activates a valid instance and counts the attempt", () => {
    expect(decideActivation(event("scheduled", { activationAttempts: 1, lastError: "earlier" }), 3)).toEqual({
      retry: false,
      to: "active",
      cause: "start_time_reached",
      patch: { activationAttempts: 2, lastError: null },
    });
  });

  it("retries 3 times (the schedule backs off 1, 2, 4 s), then parks the event as failed_activation", () => {
    expect(activationProblem(corrupt(0))).toContain("invalid");
    for (const previous of [0, 1, 2]) expect(decideActivation(corrupt(previous), 3)).toMatchObject({ retry: true, attempt: previous + 1 });
    expect([1, 2, 3].map((n) => backoff(n, { baseMs: 1000, maxMs: Number.POSITIVE_INFINITY }))).toEqual([1000, 2000, 4000]);
    expect(decideActivation(corrupt(3), 3)).toMatchObject({ retry: false, to: "failed_activation", cause: "activation_failed", patch: { activationAttempts: 4 } });
  });

  it("does nothing once the event is no longer scheduled", () => {
    expect(decideActivation(event("cancelled"), 3)).toBeNull();
  });
});
