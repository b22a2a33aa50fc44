// Turning a series' plan into events over its rolling horizon: each occurrence is created as an ordinary event through
// the scheduler (the same path POST /v1/admin/events takes: template → instanceFromTemplate → scheduler.createEvent,
// which checks the rules and reserves the window), with a deterministic event id, so a create repeated after a crash
// answers the event it already made instead of making a second one.
import { readConfig } from "../../config";
import { getTemplate } from "../../db/templates";
import { instanceFromTemplate } from "../../domain/instance";
import type { EventTemplate } from "../../domain/model";
import { MAX_MOVE_MS, decideConflict, expandPlan, type ConflictPolicy, type Occurrence, type SeriesPlan } from "../../domain/series";
import { DAY_MS, HOUR_MS, SECOND_MS, iso } from "../../domain/time";
import type { Audit, EventView, OccurrenceStatus } from "../contracts";
import { eventActor, schedulerActor } from "../stubs";

/** What the materializer reads and writes in the series object. */
export type OccurrenceRow = {
  key: string;
  gen: number;
  eventId: string | null;
  status: OccurrenceStatus;
  wantStart: number;
  wantEnd: number;
  start: number;
  end: number;
  shiftedFrom: number | null;
  reason: string | null;
  /** Where the rule put the occurrence (its RECURRENCE-ID), whatever edits did to its start. */
  original: number;
  /**
   * Added to the ICS SEQUENCE of this occurrence: grows by a replaced event's last revision, so the SEQUENCE never goes
   * down when a new event (whose revisions start again at 1) takes the occurrence over.
   */
  seqBase: number;
};
export type SeriesStore = {
  seriesId: string;
  templateId: string;
  plan: SeriesPlan;
  onConflict: ConflictPolicy;
  active: boolean;
  horizonDays: number;
  rows(): Map<string, OccurrenceRow>;
  save(row: OccurrenceRow): void;
  /** True once the series was edited, paused or ended after this pass read it: the pass stops, the next one reads anew. */
  stale(): boolean;
};

/** `evt_` + the series' hex + the occurrence's local start as digits (+ g<n> when a key needs a fresh event). */
export function occurrenceEventId(seriesId: string, key: string, gen: number): string {
  return `evt_${seriesId.replace(/^ser_/, "")}${key.replace(/\D/g, "")}${gen > 0 ? `g${gen}` : ""}`;
}

/** Creates, moves and cancels asked in one pass; the rest follow a second later. */
export const CREATES_PER_PASS = 50;

/** The reason an occurrence whose event ops cancelled directly is recorded with (outside.ts learns of it). */
export const OPERATOR_CANCELLED = "event cancelled by an operator";
/** Who cancelled the event and why (its last transition into cancelled), or null if it was never cancelled. */
export function cancelledBy(view: EventView): { actor: string; reason: string | null } | null {
  const t = view.transitions.findLast((x) => x.toState === "cancelled");
  return t ? { actor: t.actor, reason: t.reason } : null;
}

/** Ops cancelled this occurrence's event directly: it stays cancelled until an edit moves or resizes it. */
const heldByOps = (r: OccurrenceRow) => r.status === "cancelled" && r.reason === OPERATOR_CANCELLED;

const hasEvent = (r: OccurrenceRow) => r.eventId !== null && (r.status === "scheduled" || r.status === "shifted" || r.status === "pending");

/**
 * One pass over [now, now + horizon): creates what is missing, moves what an edit moved, cancels what the plan no
 * longer has (or everything not yet started, when the series is paused or ended). An occurrence already started is
 * never touched. Returns when the next occurrence enters the horizon.
 */
export async function materialize(env: Env, store: SeriesStore, now: number, audit: Audit): Promise<number> {
  const horizon = now + store.horizonDays * DAY_MS;
  // Looking back as far as an occurrence can be moved: one planned before now may have been moved or shifted past it.
  const desired = store.active ? expandPlan(store.plan, now - MAX_MOVE_MS, horizon) : [];
  const rows = store.rows();
  const wanted = new Set(desired.map((o) => o.key));
  let template: EventTemplate | null | undefined;
  const loadTemplate = async () => (template === undefined ? (template = await getTemplate(env.DB, store.templateId)) : template);

  // The scheduler and the event objects are shared: a pass asks at most CREATES_PER_PASS of them (cancels count too,
  // so pausing a long series is a bounded batch at a time), and the rest follow a second later.
  let asked = 0;
  // What the plan no longer has goes first: a replacement (an edit that moved the times) would otherwise conflict with
  // the very event it replaces (a major event's gap) and be skipped before that event is cancelled.
  for (const row of rows.values()) {
    if (wanted.has(row.key) || row.start <= now || row.status === "cancelled") continue;
    if (store.stale()) return now;
    if (asked >= CREATES_PER_PASS) return now + SECOND_MS;
    if (row.eventId && hasEvent(row)) asked++;
    const why = store.active ? "no longer in the series (edited)" : "the series was paused or ended";
    await cancel(env, store, row, now, audit, why);
  }
  for (const o of desired) {
    // Every await below lets an edit in: what this pass still has to do may be for a plan that no longer exists.
    if (store.stale()) return now;
    if (asked >= CREATES_PER_PASS) return now + SECOND_MS;
    const row = rows.get(o.key);
    if (row && row.start <= now && hasEvent(row) && row.status !== "pending") continue; // running or over: left alone
    // In the past and never made (or skipped, or cancelled): too late to make now.
    if (o.start <= now && (!row || (row.status !== "pending" && !hasEvent(row)))) continue;
    if (o.cancelled) {
      if (row?.status === "cancelled") continue;
      if (row?.eventId && hasEvent(row)) asked++;
      await cancel(env, store, row ?? blank(o), now, audit, "cancelled in the series (this occurrence)");
      continue;
    }
    if (row && row.status !== "pending" && row.wantStart === o.start && row.wantEnd === o.end && (row.status !== "cancelled" || heldByOps(row))) continue;
    asked++;
    if (row && hasEvent(row) && row.status !== "pending") await move(env, store, row, o, audit);
    else await create(env, store, row, o, audit, now, loadTemplate);
  }
  return nextEntry(store, horizon, now);
}

const blank = (o: Occurrence): OccurrenceRow => ({
  key: o.key,
  gen: 0,
  eventId: null,
  status: "pending",
  wantStart: o.start,
  wantEnd: o.end,
  start: o.start,
  end: o.end,
  shiftedFrom: null,
  reason: null,
  original: o.original,
  seqBase: 0,
});

async function create(env: Env, store: SeriesStore, prior: OccurrenceRow | undefined, o: Occurrence, audit: Audit, now: number, loadTemplate: () => Promise<EventTemplate | null>) {
  // A pending row replays its own id (that is the crash case); any other row that had an event needs a new id, or the
  // scheduler would answer that old event (cancelled, or ended) as if it were the new one.
  const gen = prior ? prior.gen + (prior.eventId && prior.status !== "pending" ? 1 : 0) : 0;
  const eventId = prior?.status === "pending" && prior.eventId ? prior.eventId : occurrenceEventId(store.seriesId, o.key, gen);
  const row: OccurrenceRow = { ...blank(o), gen, eventId, status: "pending", seqBase: prior?.seqBase ?? 0 };
  if (prior?.status === "pending" && prior.eventId) {
    // The crash case: the event may exist already (even if its start has passed since); then it is only recorded.
    const made = await eventActor(env, eventId).get();
    if (made) return store.save(recorded(row, made, o));
  }
  store.save(row);
  const template = await loadTemplate();
  if (!template) return store.save({ ...row, eventId: null, status: "skipped", reason: `template "${store.templateId}" no longer exists` });

  const scheduler = schedulerActor(env);
  const settings = await scheduler.settings();
  const attempt = (start: number, end: number) => {
    const body = { templateId: store.templateId, startTime: iso(start), endTime: iso(end), name: `${template!.name} (${o.key.slice(0, 16).replace("T", " ")})` };
    const built = instanceFromTemplate(template!, body, { eventId, now }, settings);
    if (!built.ok) return Promise.resolve({ ok: false as const, status: 422, code: "invalid", message: built.problems.map((p) => `${p.path.join(".")} ${p.message}`).join("; ") });
    return scheduler.createEvent(built.instance, audit, {});
  };
  let result = await attempt(o.start, o.end);
  if (!result.ok && result.code === "schedule_conflict") {
    const conflicts = (result as { details?: { conflicts?: [] } }).details?.conflicts ?? [];
    const windows = await scheduler.windows();
    const limits = { maxConcurrent: settings.maxConcurrent, maxConcurrentSameType: settings.maxConcurrentSameType, majorGapMs: settings.majorGapHours * HOUR_MS };
    const candidate = { eventId, type: template.type, tier: template.tier, start: o.start, end: o.end };
    const decision = decideConflict(candidate, conflicts, windows, limits, store.onConflict);
    if (decision.status === "skipped") return store.save({ ...row, eventId: null, status: "skipped", reason: decision.reason });
    if (decision.status === "shifted") {
      result = await attempt(decision.start, decision.end);
      // The calendar changed between our look and our ask: reported as skipped rather than retried forever.
      if (!result.ok) return store.save({ ...row, eventId: null, status: "skipped", reason: `shift to ${iso(decision.start)} refused: ${result.message}` });
    }
  }
  if (!result.ok) return store.save({ ...row, eventId: null, status: "skipped", reason: result.message });
  store.save(recorded(row, result.value, o));
}

function recorded(row: OccurrenceRow, view: EventView, o: Occurrence): OccurrenceRow {
  const { startTime: start, endTime: end } = view.instance;
  const shifted = start !== o.start;
  return { ...row, status: shifted ? "shifted" : "scheduled", start, end, shiftedFrom: shifted ? o.start : null, reason: shifted ? "moved to the next legal slot" : null };
}

/** An edit moved an occurrence that already has an event: the event is rescheduled (or, refused, handled by policy). */
async function move(env: Env, store: SeriesStore, row: OccurrenceRow, o: Occurrence, audit: Audit) {
  const result = await schedulerActor(env).reschedule(row.eventId!, { startTime: o.start, endTime: o.end }, audit, {});
  if (result.ok) return store.save(recorded({ ...row, wantStart: o.start, wantEnd: o.end, original: o.original }, result.value, o));
  // Refused (a conflict at the new time, or the event moved on): the old event goes, and the occurrence is decided anew;
  // unless the old event could not go (it started or ended outside the series): then it stays, and that is reported.
  const gone = await cancel(env, store, row, Date.now(), audit, `rescheduling refused: ${result.message}`);
  const again = store.rows().get(row.key)!;
  if (!gone) return store.save({ ...again, wantStart: o.start, wantEnd: o.end, reason: `rescheduling refused: ${result.message}; event ${row.eventId} could not be cancelled, so it stays` });
  await create(env, store, again, o, audit, Date.now(), async () => getTemplate(env.DB, store.templateId));
}

/** Cancels the row's event (if not yet started) and records the row cancelled; false when the event could not go. */
async function cancel(env: Env, store: SeriesStore, row: OccurrenceRow, now: number, audit: Audit, reason: string): Promise<boolean> {
  let seqBase = row.seqBase;
  if (row.eventId && hasEvent(row) && row.start > now) {
    const r = await eventActor(env, row.eventId).command("cancel", { ...audit, reason });
    if (r.ok) seqBase += r.value.revision;
    else if (r.code !== "event_not_found") {
      // Cancelled outside the series already: the row only catches up. Anything else (began meanwhile, or ended)
      // is running or over: it stays, and so does its record.
      const view = await eventActor(env, row.eventId).get();
      if (view?.instance.state !== "cancelled") return false;
      seqBase += view.revision;
      // Our own cancel whose record a crash lost keeps the reason it was sent with (a resume remakes it); anyone
      // else's is an operator's, held out like one the series learns of (heldByOps).
      const by = cancelledBy(view);
      reason = by?.actor === audit.actor ? (by.reason ?? reason) : OPERATOR_CANCELLED;
    }
  }
  store.save({ ...row, status: "cancelled", reason, seqBase });
  return true;
}

/**
 * When the next occurrence beyond the horizon enters it, or in a day, whichever is first (so only the day past the
 * horizon is expanded); Infinity once the series is paused or ended (the actor may still book a learn-only pass:
 * outside.ts learnsStill). What ops did to events outside the series is learnt before the pass (outside.ts), and by
 * cancel and move when they find an event already gone.
 */
function nextEntry(store: SeriesStore, horizon: number, now: number): number {
  if (!store.active) return Infinity;
  const next = expandPlan(store.plan, horizon, horizon + DAY_MS)[0];
  return Math.min(next ? next.start - store.horizonDays * DAY_MS : Infinity, now + DAY_MS);
}

export const seriesHorizonDefault = (env: Env) => readConfig(env).seriesHorizonDays;
