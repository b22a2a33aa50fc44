// Read side for event instances. EventActors are the writers; these queries only read their projection.
import { and, asc, eq, gt, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { MAJOR_GAP_ENDED_STATES, SCHEDULE_COUNTING_STATES } from "../domain/scheduling";
import { drizzle } from "drizzle-orm/d1";
import type { EventInstance, EventState, EventTier, EventType } from "../domain/model";
import { eventTransitions, instances } from "./schema";

export type EventFilter = {
  state?: EventState;
  states?: readonly EventState[];
  type?: EventType;
  tier?: EventTier;
  /** Window intersection: events running at any instant of [from, to). */
  from?: number;
  to?: number;
};

export type Cursor = { startTime: number; eventId: string };

export const encodeCursor = (c: Cursor) => btoa(`${c.startTime}:${c.eventId}`);
export function decodeCursor(s: string): Cursor | null {
  try {
    const [t, id] = atob(s).split(":");
    const startTime = Number(t);
    return Number.isSafeInteger(startTime) && id ? { startTime, eventId: id } : null;
  } catch {
    return null;
  }
}

/** The document plus the counts the progress shards keep current in their own columns. */
const docColumns = { document: instances.document, participantCount: instances.participantCount, completionCount: instances.completionCount };
const withCounts = (r: { document: unknown; participantCount: number; completionCount: number }): EventInstance => ({
  ...(r.document as EventInstance),
  participantCount: r.participantCount,
  completionCount: r.completionCount,
});

/** Participation as D1 last heard it from the shards' drains (at most about a second behind). */
export async function participation(d1: D1Database, eventId: string) {
  const rows = await drizzle(d1)
    .select({ participantCount: instances.participantCount, completionCount: instances.completionCount })
    .from(instances)
    .where(eq(instances.eventId, eventId))
    .limit(1);
  return rows[0] ?? { participantCount: 0, completionCount: 0 };
}

function conditions(f: EventFilter): SQL[] {
  const where: SQL[] = [];
  if (f.state) where.push(eq(instances.state, f.state));
  if (f.states) where.push(inArray(instances.state, [...f.states]));
  if (f.type) where.push(eq(instances.eventType, f.type));
  if (f.tier) where.push(eq(instances.tier, f.tier));
  if (f.from !== undefined) where.push(gt(instances.endTime, f.from));
  if (f.to !== undefined) where.push(lt(instances.startTime, f.to));
  return where;
}

export async function listEvents(d1: D1Database, f: EventFilter, page: { limit: number; after?: Cursor }) {
  const where = conditions(f);
  if (page.after) {
    const { startTime, eventId } = page.after;
    where.push(or(gt(instances.startTime, startTime), and(eq(instances.startTime, startTime), gt(instances.eventId, eventId)))!);
  }
  const rows = await drizzle(d1)
    .select({ ...docColumns, startTime: instances.startTime, eventId: instances.eventId })
    .from(instances)
    .where(and(...where))
    .orderBy(asc(instances.startTime), asc(instances.eventId))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const last = pageRows[pageRows.length - 1];
  return {
    events: pageRows.map((r) => withCounts(r)),
    nextCursor: more && last ? encodeCursor({ startTime: last.startTime, eventId: last.eventId }) : null,
  };
}

export async function activeEvents(d1: D1Database): Promise<EventInstance[]> {
  const rows = await drizzle(d1)
    .select(docColumns)
    .from(instances)
    .where(eq(instances.state, "active"))
    .orderBy(asc(instances.endTime))
    .limit(200);
  return rows.map((r) => withCounts(r));
}

export async function upcomingEvents(d1: D1Database, now: number, withinMs: number): Promise<EventInstance[]> {
  const rows = await drizzle(d1)
    .select(docColumns)
    .from(instances)
    .where(and(eq(instances.state, "scheduled"), lte(instances.startTime, now + withinMs)))
    .orderBy(asc(instances.startTime))
    .limit(200);
  return rows.map((r) => withCounts(r));
}

/** An event as the scheduling rules and the calendar see it: its window, state and revision, from columns only. */
const windowColumns = {
  eventId: instances.eventId,
  name: instances.customName,
  type: instances.eventType,
  tier: instances.tier,
  start: instances.startTime,
  end: instances.endTime,
  state: instances.state,
  revision: instances.revision,
};
const asWindow = <R extends { type: string; tier: string; state: string }>(r: R) => ({ ...r, type: r.type as EventType, tier: r.tier as EventTier, state: r.state as EventState });

/** What the scheduler rebuilds from: windows that count now, and majors that already ran (the 48 h gap counts them). */
export async function schedulingWindows(d1: D1Database) {
  const rows = await drizzle(d1)
    .select(windowColumns)
    .from(instances)
    .where(or(inArray(instances.state, [...SCHEDULE_COUNTING_STATES]), and(eq(instances.tier, "major"), inArray(instances.state, [...MAJOR_GAP_ENDED_STATES]))));
  return rows.map(asWindow);
}

/** Walks every page of a filter, up to `max` events: for calendar views, which need the whole range at once. */
export async function listAllEvents(d1: D1Database, f: EventFilter, max = 2000): Promise<EventInstance[]> {
  const out: EventInstance[] = [];
  let after: Cursor | undefined;
  do {
    const page = await listEvents(d1, f, { limit: 200, after });
    out.push(...page.events);
    after = page.nextCursor ? (decodeCursor(page.nextCursor) ?? undefined) : undefined;
  } while (after && out.length < max);
  return out.slice(0, max);
}

/**
 * The calendar's view of every event in a filter, up to `max`: just the window, the state, and the revision and
 * update time the iCalendar feed stamps each event with. Columns only, so no document is read or parsed.
 */
export async function calendarEntries(d1: D1Database, f: EventFilter, max = 2000) {
  const rows = await drizzle(d1)
    .select({
      ...windowColumns,
      updatedAt: instances.updatedAt,
      // A schedule that set the rules aside (a forced create, reschedule or resume) is marked on the ops calendar; the
      // transition's primary key (event_id, seq) makes this a lookup per event, not a scan.
      forced: sql<number>`exists (select 1 from ${eventTransitions} t where t.event_id = "instances"."event_id" and json_extract(t.details, '$.forced') = 1)`,
    })
    .from(instances)
    .where(and(...conditions(f)))
    .orderBy(asc(instances.startTime), asc(instances.eventId))
    .limit(max);
  return rows.map((r) => ({ ...asWindow(r), forced: r.forced === 1 }));
}
