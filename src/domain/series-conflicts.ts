// A series' conflict policy: what happens to an occurrence the scheduling rules refuse (skip it, or shift it to the
// next legal slot). Pure; series.ts re-exports it, so callers import the series API from one place.
import { detectConflicts, type ScheduleConflict, type ScheduleLimits, type ScheduleWindow } from "./scheduling";
import { HOUR_MS } from "./time";

export const CONFLICT_POLICIES = ["skip", "shift"] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
/** A shifted occurrence may start at most this much later than planned; past it, it is skipped (and reported). */
export const MAX_SHIFT_MS = 24 * HOUR_MS;

/**
 * The earliest start at or after `candidate.start` (and at most `maxShiftMs` later) where the window, same length,
 * breaks no scheduling rule; null when there is none. A window stops conflicting only when some other window ends
 * (or, for the major gap, when that end plus the gap has passed), so those instants are the only ones worth trying.
 */
export function nextLegalStart(candidate: ScheduleWindow, existing: ScheduleWindow[], limits: ScheduleLimits, maxShiftMs = MAX_SHIFT_MS): number | null {
  const length = candidate.end - candidate.start;
  const fits = (start: number) => detectConflicts({ ...candidate, start, end: start + length }, existing, limits).length === 0;
  if (fits(candidate.start)) return candidate.start;
  const tries = new Set<number>();
  for (const e of existing) {
    for (const t of [e.end, e.end + limits.majorGapMs]) if (t > candidate.start && t <= candidate.start + maxShiftMs) tries.add(t);
  }
  for (const t of [...tries].sort((a, b) => a - b)) if (fits(t)) return t;
  return null;
}

export type OccurrenceDecision =
  | { status: "scheduled"; start: number; end: number }
  | { status: "shifted"; start: number; end: number; from: number }
  | { status: "skipped"; reason: string; conflicts: ScheduleConflict[] };

/** What the policy does with an occurrence the rules refuse. */
export function decideConflict(
  candidate: ScheduleWindow,
  conflicts: ScheduleConflict[],
  existing: ScheduleWindow[],
  limits: ScheduleLimits,
  policy: ConflictPolicy,
): OccurrenceDecision {
  if (conflicts.length === 0) return { status: "scheduled", start: candidate.start, end: candidate.end };
  const why = conflicts.map((c) => c.message).join(" ");
  if (policy === "skip") return { status: "skipped", reason: `conflict: ${why}`, conflicts };
  const start = nextLegalStart(candidate, existing, limits);
  if (start === null) return { status: "skipped", reason: `no legal slot within ${MAX_SHIFT_MS / HOUR_MS} h: ${why}`, conflicts };
  return { status: "shifted", start, end: start + (candidate.end - candidate.start), from: candidate.start };
}
