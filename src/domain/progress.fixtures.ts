// Shared fixtures for the progress unit tests (not a test file itself).
import type { Milestone, Objective } from "./model";
import { applyUpdates, type ApplyResult, type Mechanics, type ProgressState, type ProgressUpdate } from "./progress";

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function obj(objectiveId: string, type: Objective["type"], targetValue: number, extra: Partial<Objective> = {}): Objective {
  return { objectiveId, description: objectiveId, type, targetValue, trackingKey: objectiveId, isOptional: false, ...extra };
}
export function ms(...thresholds: number[]): Milestone[] {
  return thresholds.map((progressThreshold, index) => ({ index, progressThreshold, rewards: [], unlockMessage: "" }));
}

// Four required objectives (each worth 25% of completion) and one optional.
export const MECH: Mechanics = {
  objectives: [
    obj("snowflakes", "collect", 100, { maxPerUpdate: 50, maxPerMinute: 100 }),
    obj("quests", "complete", 10),
    obj("bosses", "defeat", 4),
    obj("level", "reach", 20, { maxPerUpdate: 5 }),
    obj("bonus", "participate", 3, { isOptional: true }),
  ],
  milestones: ms(0.25, 0.5, 0.75, 1),
};

let seqCounter = 0;
export const u = (objectiveId: string, amount: number, seq = ++seqCounter): ProgressUpdate => ({ objectiveId, amount, seq });

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export type Ok = Extract<ApplyResult, { ok: true }>;
export type Fail = Extract<ApplyResult, { ok: false }>;
export function ok(r: ApplyResult): Ok {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${JSON.stringify(r.rejections)}`);
  return r;
}
export function fail(r: ApplyResult): Fail {
  if (r.ok) throw new Error(`expected failure, got ok: ${JSON.stringify(r.state)}`);
  return r;
}
export function apply(state: ProgressState, updates: ProgressUpdate[], now = T0, mechanics = MECH): Ok {
  return ok(applyUpdates(deepFreeze(state), updates, mechanics, now));
}

