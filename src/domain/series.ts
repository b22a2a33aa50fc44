// Recurring series: an RFC 5545 RRULE read in a time zone, expanded into UTC windows over a horizon, with edits and
// a conflict policy (series-conflicts.ts). Pure: the SeriesActor materializes what these functions decide.
//
// How a rule is expanded: rrule-temporal walks the rule over wall-clock readings (a "floating" DTSTART, carried as UTC
// so no reading is ever skipped or doubled by the library), and zoned.ts turns each reading into an instant in the
// series' zone by RFC 5545's rule (a nonexistent time moves forward by the gap, an ambiguous one is the first). So a
// daily 02:30 in New York is 02:30 every day, 03:30 on the spring-forward day, and once (EDT) on the fall-back day.
import { RRuleTemporal } from "rrule-temporal";
import { Temporal } from "temporal-polyfill";
import { checkRrule } from "./series-rrule";
export { MAX_SLOTS_PER_DAY, SERIES_FREQS, checkRrule } from "./series-rrule";
export { CONFLICT_POLICIES, MAX_SHIFT_MS, decideConflict, nextLegalStart, type ConflictPolicy, type OccurrenceDecision } from "./series-conflicts";
import { DAY_MS } from "./time";
import { addDuration, canonicalZone, compareLocal, durationDays, parseDuration, parseLocal, toInstant, toLocal, type LocalDuration } from "./zoned";

export const EDIT_SCOPES = ["this", "following", "all"] as const;
export type EditScope = (typeof EDIT_SCOPES)[number];

/** Default rolling horizon: occurrences starting within this many days from now exist as events. */
export const DEFAULT_HORIZON_DAYS = 30;
/** One expansion yields at most this many occurrences (a year of a daily series is 365). */
export const MAX_OCCURRENCES = 2000;
/** Exception dates per series. */
export const MAX_EXDATES = 500;
/** An occurrence lasts at most this many (nominal) days unless the caller passes its configured event window. */
export const DEFAULT_MAX_DURATION_DAYS = 90;
/** A single occurrence may be moved at most this far from its original start (materialization looks back this far). */
export const MAX_MOVE_MS = 7 * DAY_MS;
/** Rules one series may have: each "following" edit starts one (an "all" edit with a new dtstart makes it one again). */
export const MAX_SEGMENTS = 50;
/** How long a plan keeps a rule or a single edit whose occurrences have all started (the object keeps occurrences as long). */
export const PLAN_RETENTION_DAYS = 90;

/** One rule of a series, as ops wrote it; all local readings are normalized by parseLocal. */
export type SeriesRule = { rrule: string; dtstart: string; duration: string; timeZone: string; exdates: string[]; until: string | null };
/**
 * A series is a run of rules: "this and following" edits start a new one at the edited occurrence's instant (or the new
 * rule's first start, if earlier). `splitKey` is that occurrence's local start, kept so the split can be read again
 * when an "all" edit moves the rules to another zone.
 */
export type Segment = SeriesRule & { fromMs: number | null; splitKey?: string };
/** A single-occurrence edit ("this"): moved, lengthened, or cancelled; keyed by the occurrence's original local start. */
export type OccurrenceOverride = { start?: string; duration?: string; cancelled?: boolean };
export type SeriesPlan = { segments: Segment[]; overrides: Record<string, OccurrenceOverride> };

/**
 * One occurrence: `key` is its original local start in the series' zone, `original` that start as an instant (where
 * the rule put it before any single edit; iCalendar's RECURRENCE-ID, which must not move when a later rule changes zone).
 */
export type Occurrence = { key: string; start: number; end: number; cancelled: boolean; timeZone: string; original: number };

export type Problem = { path: string; message: string };

// ---- validation ----------------------------------------------------------------------------------------------------

export type SeriesInput = { rrule: string; dtstart: string; duration: string; timeZone: string; exdates?: string[]; until?: string | null };

/** Checks every field and names every problem at once; returns the rule normalized. */
export function checkRule(input: SeriesInput, maxDurationDays = DEFAULT_MAX_DURATION_DAYS): { ok: true; rule: SeriesRule } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const rr = checkRrule(input.rrule);
  if (!rr.ok) problems.push({ path: "rrule", message: rr.message });
  const dtstart = parseLocal(input.dtstart);
  if (!dtstart) problems.push({ path: "dtstart", message: "must be a local date-time such as 2026-03-07T10:00 (no offset, no Z: the zone is timeZone)" });
  const durationProblem = checkDuration(input.duration, maxDurationDays);
  if (durationProblem) problems.push({ path: "duration", message: durationProblem });
  const timeZone = canonicalZone(input.timeZone);
  if (!timeZone) problems.push({ path: "timeZone", message: `"${input.timeZone.slice(0, 64)}" is not an IANA time zone this runtime knows` });
  const exdates: string[] = [];
  (input.exdates ?? []).forEach((e, i) => {
    const local = parseLocal(e);
    if (local) exdates.push(local);
    else problems.push({ path: `exdates.${i}`, message: "must be a local date-time (an occurrence's start in timeZone)" });
  });
  if (exdates.length > MAX_EXDATES) problems.push({ path: "exdates", message: `at most ${MAX_EXDATES}` });
  let until: string | null = null;
  if (input.until != null) {
    until = parseLocal(input.until);
    if (!until) problems.push({ path: "until", message: "must be a local date-time in timeZone" });
    else if (dtstart && compareLocal(until, dtstart) < 0) problems.push({ path: "until", message: "must not be before dtstart" });
  }
  if (problems.length || !rr.ok || !dtstart || !timeZone) return { ok: false, problems };
  const rule: SeriesRule = { rrule: rr.rrule, dtstart, duration: input.duration, timeZone, exdates: [...new Set(exdates)].sort(), until };
  // A rule that parses can still never happen (BYMONTHDAY=31;BYMONTH=2) or only in years: refused rather than kept idle.
  const first = toInstant(dtstart, timeZone);
  if (expandRule({ ...rule, exdates: [], until: null }, first, first + 366 * DAY_MS).length === 0) {
    return { ok: false, problems: [{ path: "rrule", message: "gives no occurrence in the year from dtstart" }] };
  }
  return { ok: true, rule };
}

/**
 * A duration an occurrence may have. Capped at the event window: past it the scheduler refuses every occurrence
 * anyway, and a huge one (P99999999W) would overflow the date arithmetic on every pass.
 */
function checkDuration(text: string, maxDays: number): string | null {
  const d = parseDuration(text);
  if (!d) return "must be a positive ISO 8601 duration in weeks, days, hours, minutes or seconds, such as PT12H or P1D";
  if (durationDays(d) > maxDays) return `must be at most ${maxDays} days (the longest window an event may have)`;
  return null;
}

// ---- expansion -----------------------------------------------------------------------------------------------------

/**
 * rrule-temporal walks a rule that has a COUNT period by period from its dtstart, and by default throws past 10,000
 * periods: COUNT=20000 daily from 1999 threw on every expansion from 2026 on (every pass retried, every edit was a
 * 500). The walk stops at the COUNT (at most 100,000) or at the range asked for, and one without COUNT skips ahead,
 * so this bound is reached only by a rule that matches once in years for millennia; that one yields nothing there.
 */
const MAX_ITERATIONS = 1_000_000;
const floating = (rule: SeriesRule) => new RRuleTemporal({ rruleString: rule.rrule, dtstart: Temporal.ZonedDateTime.from(`${rule.dtstart}[UTC]`), maxIterations: MAX_ITERATIONS });

/** Wall-clock readings of the rule, as UTC-labelled floating times, around [fromMs, toMs) (widened by any offset). */
function readings(rule: SeriesRule, fromMs: number, toMs: number): string[] {
  // A wall clock is at most 14 h from UTC, and a gap moves a reading forward by a few hours at most.
  const pad = DAY_MS;
  let found: Temporal.ZonedDateTime[];
  try {
    found = floating(rule).between(new Date(fromMs - pad), new Date(toMs + pad), true);
  } catch {
    return []; // past MAX_ITERATIONS: nothing here, rather than a pass that throws (and retries) forever
  }
  return found.slice(0, MAX_OCCURRENCES + 64).map((d) => d.toPlainDateTime().toString({ smallestUnit: "second" }));
}

/** The rule's occurrences whose start is in [fromMs, toMs), in order, none twice. */
export function expandRule(rule: SeriesRule, fromMs: number, toMs: number): Occurrence[] {
  const duration = parseDuration(rule.duration) as LocalDuration;
  const exdates = new Set(rule.exdates);
  const seen = new Set<number>();
  const out: Occurrence[] = [];
  for (const key of readings(rule, fromMs, toMs)) {
    if (exdates.has(key) || (rule.until && compareLocal(key, rule.until) > 0)) continue;
    const start = toInstant(key, rule.timeZone);
    // Two readings can name one instant (02:30 in a one-hour gap is 03:30): the first wins, so nothing runs twice.
    if (start < fromMs || start >= toMs || seen.has(start)) continue;
    seen.add(start);
    out.push({ key, start, end: addDuration(start, duration, rule.timeZone), cancelled: false, timeZone: rule.timeZone, original: start });
    if (out.length >= MAX_OCCURRENCES) break;
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The whole series over [fromMs, toMs): each rule over its own stretch, then the single-occurrence edits. */
export function expandPlan(plan: SeriesPlan, fromMs: number, toMs: number): Occurrence[] {
  const byKey = new Map<string, Occurrence>();
  plan.segments.forEach((seg, i) => {
    const lo = Math.max(fromMs, seg.fromMs ?? -Infinity);
    const next = plan.segments[i + 1]?.fromMs ?? Infinity;
    const hi = Math.min(toMs, next);
    if (lo >= hi) return;
    for (const o of expandRule(seg, lo, hi)) byKey.set(o.key, o);
  });
  // An occurrence a single edit moved into the range from outside it is in it too (by its new start).
  for (const [key, ov] of Object.entries(plan.overrides)) {
    if (!ov.start || ov.cancelled || byKey.has(key)) continue;
    const near = plan.segments.some((seg) => Math.abs(toInstant(ov.start!, seg.timeZone) - (fromMs + toMs) / 2) <= (toMs - fromMs) / 2 + DAY_MS);
    if (!near) continue;
    const raw = findOccurrence({ ...plan, overrides: {} }, key);
    if (raw) byKey.set(key, raw);
  }
  const out: Occurrence[] = [];
  for (const o of byKey.values()) {
    const ov = plan.overrides[o.key];
    if (!ov) out.push(o);
    else if (ov.cancelled) out.push({ ...o, cancelled: true });
    else {
      const seg = segmentAt(plan, o.start);
      const start = ov.start ? toInstant(ov.start, o.timeZone) : o.start;
      const duration = parseDuration(ov.duration ?? seg.duration) as LocalDuration;
      // One moved in from outside counts only if it landed inside; one moved out is kept (its event is still ours).
      const inside = (ms: number) => ms >= fromMs && ms < toMs;
      if (inside(o.start) || inside(start)) out.push({ ...o, start, end: addDuration(start, duration, o.timeZone) });
    }
  }
  return out.sort((a, b) => a.start - b.start || compareLocal(a.key, b.key));
}

function segmentAt(plan: SeriesPlan, ms: number): Segment {
  let seg = plan.segments[0];
  for (const s of plan.segments) if (s.fromMs === null || s.fromMs <= ms) seg = s;
  return seg;
}

// ---- edits ---------------------------------------------------------------------------------------------------------

export type SeriesChanges = Partial<SeriesInput> & { cancel?: boolean };
export type SeriesEdit = { scope: EditScope; occurrence?: string; changes: SeriesChanges };

type Edited = { ok: true; plan: SeriesPlan } | { ok: false; problems: Problem[] };

/**
 * An edit as a pure transform of the plan. "this" overrides one occurrence (start, duration or cancel); "following"
 * ends the current rule before the occurrence and starts a new one there (dtstart defaults to that occurrence);
 * "all" applies the changes to every rule of the series (a new dtstart makes it one rule again, from that start),
 * keeping single-occurrence edits whose occurrence still exists. Each edit first drops what is long past (prune), and
 * a series has at most MAX_SEGMENTS rules: the plan is stored whole and every "all" edit checks each rule.
 */
export function applyEdit(plan: SeriesPlan, edit: SeriesEdit, maxDurationDays = DEFAULT_MAX_DURATION_DAYS, now = -Infinity): Edited {
  try {
    const pruned = prune(plan, now);
    const out = editPlan(pruned, edit, maxDurationDays, now);
    // Only an edit that adds a rule is refused: one from before the cap can still be edited (and made one rule again).
    if (!out.ok || out.plan.segments.length <= Math.max(MAX_SEGMENTS, pruned.segments.length)) return out;
    return bad("scope", `a series has at most ${MAX_SEGMENTS} rules (each "following" edit starts one; those over ${PLAN_RETENTION_DAYS} days past are dropped): make it one rule again with scope "all" and a new dtstart`);
  } catch (err) {
    // Nothing checkRule accepts should throw here; if something does, the edit is refused (422), not answered with a 500.
    return bad("changes", `cannot be applied: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The plan without what no pass or edit can reach: rules whose every occurrence started more than PLAN_RETENTION_DAYS
 * ago, and single edits of occurrences that did (even moved the most a single edit may move them). The object forgets
 * those occurrences then too.
 */
function prune(plan: SeriesPlan, now: number): SeriesPlan {
  const cutoff = now - PLAN_RETENTION_DAYS * DAY_MS;
  const first = prunedRules(plan, now);
  const overrides = Object.fromEntries(Object.entries(plan.overrides).filter(([k]) => ruleInstant(plan, k) >= cutoff - MAX_MOVE_MS));
  return { segments: plan.segments.slice(first), overrides };
}

/** How many of the plan's first rules an edit at `now` drops (prune): the actor keeps them for players' views. */
export function prunedRules(plan: SeriesPlan, now: number): number {
  const cutoff = now - PLAN_RETENTION_DAYS * DAY_MS;
  let first = 0;
  while (first + 1 < plan.segments.length && plan.segments[first + 1].fromMs! < cutoff) first++;
  return first;
}

function editPlan(plan: SeriesPlan, edit: SeriesEdit, maxDurationDays: number, now: number): Edited {
  const { scope, changes } = edit;
  if (scope === "all") {
    if (changes.cancel) return bad("changes.cancel", 'only with scope "this" (to stop the whole series, end it)');
    // A new dtstart redefines the series from its start: one rule again. Any other change applies to every rule.
    if (changes.dtstart !== undefined) {
      const checked = checkRule({ ...plan.segments[0], ...defined(changes) }, maxDurationDays);
      if (!checked.ok) return checked;
      return { ok: true, plan: { segments: [{ ...checked.rule, fromMs: null }], overrides: plan.overrides } };
    }
    const segments: Segment[] = [];
    for (const [i, seg] of plan.segments.entries()) {
      const checked = checkRule({ ...seg, ...defined(changes) }, maxDurationDays);
      if (!checked.ok) return checked;
      segments.push({ ...checked.rule, fromMs: changes.timeZone === undefined ? seg.fromMs : resplit(plan, i, checked.rule.timeZone), ...(seg.splitKey ? { splitKey: seg.splitKey } : {}) });
    }
    const count = changes.rrule === undefined ? null : COUNT.exec(segments[0].rrule);
    return { ok: true, plan: { segments: count ? shareCount(segments, Number(count[2])) : segments, overrides: plan.overrides } };
  }
  const key = edit.occurrence ? parseLocal(edit.occurrence) : null;
  if (!key) return bad("occurrence", `is required with scope "${scope}": the occurrence's original local start, as GET lists it`);
  const occ = findOccurrence(plan, key);
  if (!occ) return bad("occurrence", `the series has no occurrence starting ${key}`);

  if (scope === "this") {
    const extra = (["rrule", "timeZone", "exdates", "until"] as const).filter((f) => changes[f] !== undefined);
    if (extra.length) return bad(`changes.${extra[0]}`, 'applies to a rule, not one occurrence: use scope "following" or "all"');
    const ov: OccurrenceOverride = { ...plan.overrides[key] };
    if (changes.cancel) ov.cancelled = true;
    if (changes.dtstart !== undefined) {
      const start = parseLocal(changes.dtstart);
      if (!start) return bad("changes.dtstart", "must be a local date-time");
      if (Math.abs(toInstant(start, occ.timeZone) - toInstant(key, occ.timeZone)) > MAX_MOVE_MS) {
        return bad("changes.dtstart", `must be within ${MAX_MOVE_MS / DAY_MS} days of the occurrence's original start`);
      }
      // An event cannot start in the past: the scheduler would refuse it, and the occurrence would be lost.
      if (toInstant(start, occ.timeZone) < now) return bad("changes.dtstart", "must not be in the past");
      ov.start = start;
    }
    if (changes.duration !== undefined) {
      const problem = checkDuration(changes.duration, maxDurationDays);
      if (problem) return bad("changes.duration", problem);
      ov.duration = changes.duration;
    }
    return { ok: true, plan: { segments: plan.segments, overrides: { ...plan.overrides, [key]: ov } } };
  }

  if (changes.cancel) return bad("changes.cancel", 'only with scope "this" (to stop the series from here, send until)');
  // The split is at the rule's own instant for the occurrence, not where a "this" edit moved it (else the edit
  // survives under the new rule), and never after the new rule's first start (else that start falls in the old rule's
  // stretch and is lost, e.g. moved two hours earlier, or into a zone ahead of the old one).
  const ruleStart = findOccurrence({ ...plan, overrides: {} }, key)!.start;
  const base = segmentAt(plan, ruleStart);
  const checked = checkRule({ ...base, dtstart: key, ...defined(changes) }, maxDurationDays);
  if (!checked.ok) return checked;
  const rule = changes.rrule === undefined ? remainingCount(base, checked.rule, key) : checked.rule;
  if (!rule) return bad("occurrence", "is past the rule's COUNT");
  const splitMs = Math.min(ruleStart, toInstant(rule.dtstart, rule.timeZone));
  // Occurrences are named by their local start: one the series keeps before the split, at or after the new dtstart
  // (a zone further west, a date earlier), could share its name with one of the new rule's, and one would replace the
  // other. Such a kept one starts at most a zone (26 h) and a gap before the split.
  const clash = expandPlan({ ...plan, overrides: {} }, splitMs - 2 * DAY_MS, splitMs).find((o) => compareLocal(o.key, rule.dtstart) >= 0);
  if (clash) return bad("changes.dtstart", `must be after ${clash.key}, an occurrence the series keeps before this edit's first start`);
  const kept = plan.segments.filter((s) => s.fromMs === null || s.fromMs < splitMs);
  return { ok: true, plan: { segments: [...kept, { ...rule, fromMs: splitMs, splitKey: key }], overrides: carryOverrides(plan, rule, splitMs, key) } };
}

/**
 * Where segment i starts once every rule is in `zone`. Its split is the earlier of two local readings, the edited
 * occurrence (in the rule before) and its own dtstart: the instant worked out in the old zones is another one in the
 * new, and kept as it was it would run an old occurrence again and lose a new one. (A plan from before `splitKey` was
 * kept reads the split back in the zone it was worked out in.)
 */
function resplit(plan: SeriesPlan, i: number, zone: string): number | null {
  const seg = plan.segments[i];
  const prevZone = plan.segments[i - 1]?.timeZone ?? seg.timeZone;
  if (seg.fromMs === null || (seg.timeZone === zone && prevZone === zone)) return seg.fromMs;
  const splitKey = seg.splitKey ?? toLocal(seg.fromMs, prevZone);
  return Math.min(toInstant(splitKey, zone), toInstant(seg.dtstart, zone));
}

/**
 * Single edits outlive a "following" edit (RFC 5545 keeps a THISANDFUTURE's exceptions): those before the split as
 * they were, later ones wherever the new rule still has their occurrence (a cancelled one stays cancelled, a moved one
 * stays at its instant), else they would come back as new events. The edited occurrence's own goes: the edit redefines it.
 */
function carryOverrides(plan: SeriesPlan, rule: SeriesRule, splitMs: number, key: string): Record<string, OccurrenceOverride> {
  const out: Record<string, OccurrenceOverride> = {};
  for (const [k, ov] of Object.entries(plan.overrides)) {
    const was = ruleInstant(plan, k);
    if (was < splitMs) out[k] = ov;
    if (was < splitMs || k === key) continue;
    const at = toInstant(k, rule.timeZone);
    if (at < splitMs || !expandRule(rule, at, at + 1).some((o) => o.key === k)) continue;
    const zone = segmentAt(plan, was).timeZone;
    out[k] = ov.start && zone !== rule.timeZone ? { ...ov, start: toLocal(toInstant(ov.start, zone), rule.timeZone) } : ov;
  }
  return out;
}

const COUNT = /(^|;)COUNT=(\d+)/;
const withCount = (rule: string, n: number) => rule.replace(/(^|;)COUNT=\d+/, `$1COUNT=${n}`);
const floatingDate = (local: string) => new Date(Temporal.PlainDateTime.from(local).toZonedDateTime("UTC").epochMilliseconds);
const reading = (d: Temporal.ZonedDateTime) => d.toPlainDateTime().toString({ smallestUnit: "second" });

/**
 * An "all" edit's COUNT counts the whole series, not each rule again (RFC 5545 counts the rule's readings): the first
 * rule gets it, each later one what is left where it takes over, and a rule that would start past the last goes.
 */
function shareCount(segments: Segment[], count: number): Segment[] {
  const out: Segment[] = [];
  let left = count;
  for (const [i, seg] of segments.entries()) {
    const rule = { ...seg, rrule: withCount(seg.rrule, left) };
    out.push(rule);
    const next = segments[i + 1]?.fromMs;
    if (next == null) break;
    // Its readings before the next rule takes over (a wall clock is at most a day from the instant it names).
    left -= floating(rule).between(floatingDate(rule.dtstart), new Date(next + DAY_MS), true).filter((d) => toInstant(reading(d), rule.timeZone) < next).length;
    if (left <= 0) break;
  }
  return out;
}

/**
 * A rule carried on from `key` with the old COUNT would start counting again: the new rule gets what is left of it
 * (RFC 5545 counts the rule's readings, before exdates). Null when nothing is left.
 */
function remainingCount(base: SeriesRule, next: SeriesRule, key: string): SeriesRule | null {
  const m = COUNT.exec(next.rrule);
  const baseCount = COUNT.exec(base.rrule);
  if (!m || !baseCount || m[2] !== baseCount[2]) return next;
  const used = floating(base).between(floatingDate(base.dtstart), floatingDate(key), true).filter((d) => compareLocal(reading(d), key) < 0).length;
  const left = Number(m[2]) - used;
  return left > 0 ? { ...next, rrule: withCount(next.rrule, left) } : null;
}

/** Where the rules (not single edits) put the occurrence `key`: read in the zone of the segment that holds it. */
function ruleInstant(plan: SeriesPlan, key: string): number {
  let at = toInstant(key, plan.segments[0].timeZone);
  for (const s of plan.segments) {
    const t = toInstant(key, s.timeZone);
    if (s.fromMs === null || s.fromMs <= t) at = t;
  }
  return at;
}

/** The occurrence with this key, wherever it falls (searched a day around its reading in every rule's zone). */
function findOccurrence(plan: SeriesPlan, key: string): Occurrence | null {
  for (const seg of plan.segments) {
    const at = toInstant(key, seg.timeZone);
    const hit = expandPlan(plan, at - DAY_MS, at + DAY_MS).find((o) => o.key === key);
    if (hit) return hit;
  }
  return null;
}

const bad = (path: string, message: string) => ({ ok: false as const, problems: [{ path, message }] });
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
