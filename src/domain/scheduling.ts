// The seed's Event Scheduler: concurrency caps and the gap between major events.
// Conflicts are returned as data (never thrown) so the API can show ops every reason at once and let them force it.
import type { EventInstance, EventState, EventTier, EventType } from "./model";
import { HOUR_MS, MINUTE_MS, SECOND_MS, compareStrings, iso } from "./time";

/** `state` says which rules a stored window counts for; a candidate (or a window without one) counts for all. */
export type ScheduleWindow = { eventId: string; name?: string; type: EventType; tier: EventTier; start: number; end: number; state?: EventState };
export type ScheduleLimits = { maxConcurrent: number; maxConcurrentSameType: number; majorGapMs: number };

export type ConflictRule = "max_concurrent" | "max_concurrent_same_type" | "major_gap";
export type ScheduleConflict = {
  rule: ConflictRule;
  limit: number;
  conflictingEventIds: string[];
  window: { from: string; to: string };
  message: string;
};

type Span = { start: number; end: number };

/**
 * Half-open [start, end): an event ending at the instant another starts never runs alongside it.
 * Written as "the intersection is non-empty" so a zero-length window overlaps nothing.
 */
export function overlaps(a: Span, b: Span): boolean {
  return Math.max(a.start, b.start) < Math.min(a.end, b.end);
}

/**
 * Mini and daily events are small and frequent by design; counting them would let a daily login bonus
 * block a season launch, so they neither count nor are limited.
 */
export function countsTowardConcurrency(tier: EventTier): boolean {
  return tier !== "mini" && tier !== "daily";
}

export function detectConflicts(candidate: ScheduleWindow, existing: ScheduleWindow[], limits: ScheduleLimits): ScheduleConflict[] {
  if (!(candidate.end > candidate.start)) return [];
  // The candidate's own stored window is what a reschedule replaces, so it must not compete with itself.
  const others = existing.filter((e) => e.eventId !== candidate.eventId);
  const running = others.filter(countsNow);
  const labels = new Map(others.map((e) => [e.eventId, e.name ?? e.eventId]));
  const conflicts: ScheduleConflict[] = [];

  if (countsTowardConcurrency(candidate.tier)) {
    const counted = running.filter((e) => countsTowardConcurrency(e.tier));
    const all = concurrencyConflict(candidate, counted, limits.maxConcurrent, labels, null);
    if (all) conflicts.push(all);
    const sameType = counted.filter((e) => e.type === candidate.type);
    const typed = concurrencyConflict(candidate, sameType, limits.maxConcurrentSameType, labels, candidate.type);
    if (typed) conflicts.push(typed);
  }

  if (candidate.tier === "major") conflicts.push(...majorGapConflicts(candidate, others.filter(countsForMajorGap), limits.majorGapMs));
  return conflicts;
}

type Violation = { from: number; to: number; ids: string[]; peak: number; contiguous: boolean };

/**
 * Sweeps the candidate's window in the sub-intervals between every start/end inside it; membership is constant
 * within each, so counting per sub-interval is exact. Pairwise overlap is not enough: four events that never
 * all run together must not count as four at once.
 */
function findViolation(candidate: Span, counted: ScheduleWindow[], limit: number): Violation | null {
  const inside = counted.filter((e) => overlaps(e, candidate));
  const points = new Set([candidate.start, candidate.end]);
  for (const e of inside) {
    if (e.start > candidate.start) points.add(e.start);
    if (e.end < candidate.end) points.add(e.end);
  }
  const sorted = [...points].sort((a, b) => a - b);

  let violation: Violation | null = null;
  const ids = new Set<string>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const segment = { start: sorted[i], end: sorted[i + 1] };
    const running = inside.filter((e) => overlaps(e, segment));
    const total = running.length + 1;
    if (total <= limit) continue;
    running.forEach((e) => ids.add(e.eventId));
    if (!violation) violation = { from: segment.start, to: segment.end, ids: [], peak: total, contiguous: true };
    else {
      if (violation.to !== segment.start) violation.contiguous = false;
      violation.to = segment.end;
      violation.peak = Math.max(violation.peak, total);
    }
  }
  if (violation) violation.ids = [...ids].sort();
  return violation;
}

function concurrencyConflict(
  candidate: Span,
  counted: ScheduleWindow[],
  limit: number,
  labels: Map<string, string>,
  sameType: EventType | null,
): ScheduleConflict | null {
  const v = findViolation(candidate, counted, limit);
  if (!v) return null;
  const kind = sameType ? `concurrent ${sameType} event` : "concurrent event";
  const limitText = sameType ? `limit ${limit} per type` : `limit ${limit}`;
  // "At times" keeps the sentence honest when the violation comes and goes inside the reported range.
  const lead = v.contiguous ? "Between" : "At times between";
  const alongside = v.ids.length > 0 ? `, alongside ${nameList(v.ids.map((id) => labels.get(id) ?? id))}` : "";
  return {
    rule: sameType ? "max_concurrent_same_type" : "max_concurrent",
    limit,
    conflictingEventIds: v.ids,
    window: { from: iso(v.from), to: iso(v.to) },
    message: `${lead} ${formatUtc(v.from)} and ${formatUtc(v.to)} this event would be the ${ordinal(v.peak)} ${kind} (${limitText})${alongside}.`,
  };
}

function majorGapConflicts(candidate: ScheduleWindow, others: ScheduleWindow[], gapMs: number): ScheduleConflict[] {
  return others
    .filter((e) => e.tier === "major")
    .sort((a, b) => a.start - b.start || compareStrings(a.eventId, b.eventId))
    .map((e) => majorGapConflict(candidate, e, gapMs))
    .filter((c): c is ScheduleConflict => c !== null);
}

function majorGapConflict(candidate: ScheduleWindow, other: ScheduleWindow, gapMs: number): ScheduleConflict | null {
  const label = other.name ?? other.eventId;
  const need = `major events need at least ${formatDuration(gapMs)} between them`;
  const base = { rule: "major_gap" as const, limit: gapMs, conflictingEventIds: [other.eventId] };

  if (overlaps(candidate, other)) {
    const from = Math.max(candidate.start, other.start);
    const to = Math.min(candidate.end, other.end);
    return {
      ...base,
      window: { from: iso(from), to: iso(to) },
      message: `This major event would run at the same time as major event ${label} between ${formatUtc(from)} and ${formatUtc(to)}; ${need}.`,
    };
  }

  const candidateFirst = candidate.end <= other.start;
  const from = candidateFirst ? candidate.end : other.end;
  const to = candidateFirst ? other.start : candidate.start;
  const gap = to - from;
  if (gap >= gapMs) return null;
  const anchor = candidateFirst ? `starts ${formatUtc(other.start)}` : `ends ${formatUtc(other.end)}`;
  const separation = gap === 0 ? "No time would separate" : `Only ${formatDuration(gap)} would separate`;
  return {
    ...base,
    window: { from: iso(from), to: iso(to) },
    message: `${separation} this major event from major event ${label} (${anchor}); ${need}.`,
  };
}

// ---- wording helpers: messages are read by ops, so they favour plain units over raw milliseconds ----

const MAX_NAMES = 10;

function nameList(names: string[]): string {
  // A long list would bury the sentence; the full set is in conflictingEventIds anyway.
  const shown = names.length > MAX_NAMES ? [...names.slice(0, MAX_NAMES), `${names.length - MAX_NAMES} more`] : names;
  if (shown.length === 1) return shown[0];
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const suffix = ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** "2026-12-01 00:00 UTC"; seconds only appear when they are not zero, so ordinary schedules read cleanly. */
function formatUtc(ms: number): string {
  const s = iso(ms);
  const seconds = s.slice(17, 23) === "00.000" ? "" : `:${s.slice(17, 19)}${s.slice(20, 23) === "000" ? "" : `.${s.slice(20, 23)}`}`;
  return `${s.slice(0, 10)} ${s.slice(11, 16)}${seconds} UTC`;
}

/** "30 h", "47 h 59 min", "47 h 59 min 59.999 s": exact, because a refusal at 47 h 59 min 59.999 s must not read "48 h". */
function formatDuration(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  const minutes = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  const restMs = ms % MINUTE_MS;
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours} h`);
  if (minutes > 0) parts.push(`${minutes} min`);
  if (restMs > 0) parts.push(`${Number((restMs / SECOND_MS).toFixed(3))} s`);
  return parts.length > 0 ? parts.join(" ") : "0 h";
}

/**
 * The states whose windows count against the rules. The seed counts scheduled, active and paused events;
 * failed_activation counts too, because ops may retry it and it must still fit when they do.
 */
export const SCHEDULE_COUNTING_STATES: readonly EventState[] = ["scheduled", "active", "paused", "failed_activation"];

const countsNow = (w: ScheduleWindow) => w.state === undefined || SCHEDULE_COUNTING_STATES.includes(w.state);

/**
 * The gap is between major events, so a major that has already run keeps its place: an expired or archived one counts
 * with its actual end (end-now moved endTime to the moment it stopped). A cancelled one never ran and does not.
 */
export const MAJOR_GAP_ENDED_STATES: readonly EventState[] = ["expired", "archived"];
const countsForMajorGap = (w: ScheduleWindow) => countsNow(w) || (w.state !== undefined && MAJOR_GAP_ENDED_STATES.includes(w.state));

/** An instance as the scheduling rules see it. */
export function windowOf(i: Pick<EventInstance, "eventId" | "name" | "type" | "tier" | "startTime" | "endTime">): ScheduleWindow {
  return { eventId: i.eventId, name: i.name, type: i.type, tier: i.tier, start: i.startTime, end: i.endTime };
}
