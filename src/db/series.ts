// Writes the series and series_occurrences tables (behind the SeriesActor's outbox) and reads them for lists and the
// calendar. Every upsert is revision-guarded: a late, retried batch never rolls a row back.
import type { OccurrenceRecord, SeriesStatus } from "../actors/contracts";
import type { SeriesRule } from "../domain/series";
import { ruleAt, type PublicSeriesLink, type RuleSegment } from "../domain/series-public";

export type SeriesRow = {
  seriesId: string;
  templateId: string;
  rule: SeriesRule;
  /** Every rule with where it starts (absent in rows an outbox queued before the column). */
  segments?: RuleSegment[];
  onConflict: string;
  status: SeriesStatus;
  sequence: number;
  createdAt: number;
  updatedAt: number;
  revision: number;
};
export type OccurrenceRow = OccurrenceRecord & { seriesId: string; revision: number; originalStart: number; seqBase: number };

export function seriesStatements(d1: D1Database, rows: SeriesRow[]): D1PreparedStatement[] {
  return rows.map((r) =>
    d1
      .prepare(
        `INSERT INTO series (series_id, template_id, rule, segments, on_conflict, status, sequence, created_at, updated_at, revision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id) DO UPDATE SET template_id = excluded.template_id, rule = excluded.rule, segments = excluded.segments, on_conflict = excluded.on_conflict,
           status = excluded.status, sequence = excluded.sequence, updated_at = excluded.updated_at, revision = excluded.revision
         WHERE excluded.revision >= series.revision`,
      )
      .bind(r.seriesId, r.templateId, JSON.stringify(r.rule), r.segments ? JSON.stringify(r.segments) : null, r.onConflict, r.status, r.sequence, r.createdAt, r.updatedAt, r.revision),
  );
}

export function occurrenceStatements(d1: D1Database, rows: OccurrenceRow[]): D1PreparedStatement[] {
  return rows.map((r) =>
    d1
      .prepare(
        `INSERT INTO series_occurrences (series_id, occurrence_key, event_id, status, start_time, end_time, shifted_from, reason, updated_at, revision, original_start, seq_base)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id, occurrence_key) DO UPDATE SET event_id = excluded.event_id, status = excluded.status,
           start_time = excluded.start_time, end_time = excluded.end_time, shifted_from = excluded.shifted_from, reason = excluded.reason,
           updated_at = excluded.updated_at, revision = excluded.revision, original_start = excluded.original_start, seq_base = excluded.seq_base
         WHERE excluded.revision >= series_occurrences.revision`,
      )
      .bind(r.seriesId, r.key, r.eventId, r.status, r.start, r.end, r.shiftedFrom, r.reason, r.updatedAt, r.revision, r.originalStart, r.seqBase),
  );
}

/** What the calendar needs to tie an event to its series: event id → series id, occurrence key, series SEQUENCE. */
export type SeriesLink = { eventId: string; seriesId: string; occurrenceKey: string; originalStart: number | null; seqBase: number; timeZone: string; sequence: number; updatedAt: number };

export async function seriesLinks(d1: D1Database, eventIds: string[]): Promise<Map<string, SeriesLink>> {
  const out = new Map<string, SeriesLink>();
  if (eventIds.length === 0) return out;
  const rows = await d1
    .prepare(
      `SELECT o.event_id AS eventId, o.series_id AS seriesId, o.occurrence_key AS occurrenceKey, o.original_start AS originalStart, o.seq_base AS seqBase, json_extract(s.rule, '$.timeZone') AS timeZone,
         s.sequence AS sequence, MAX(s.updated_at, o.updated_at) AS updatedAt
       FROM series_occurrences o JOIN series s ON s.series_id = o.series_id
       WHERE o.event_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify(eventIds))
    .all<SeriesLink>();
  for (const r of rows.results) out.set(r.eventId, r);
  return out;
}

// ---- the ops list (GET /v1/admin/series) ----------------------------------------------------------------------------

/**
 * An occurrence with an event still to run, as idx_series_occurrences_next_live's WHERE says it (migration 0027): the
 * next-start seeks must repeat that predicate exactly, or SQLite walks idx_series_occurrences_start's cancelled rows.
 */
const live = (alias: string) => `${alias}.status IN ('scheduled', 'shifted')`;

export type SeriesCursor = { createdAt: number; seriesId: string };
export const encodeSeriesCursor = (c: SeriesCursor) => btoa(`${c.createdAt}:${c.seriesId}`);
export function decodeSeriesCursor(s: string): SeriesCursor | null {
  try {
    const [t, id] = atob(s).split(":");
    const createdAt = Number(t);
    return Number.isSafeInteger(createdAt) && id ? { createdAt, seriesId: id } : null;
  } catch {
    return null;
  }
}

export type SeriesListItem = {
  seriesId: string;
  templateId: string;
  rule: SeriesRule;
  status: SeriesStatus;
  createdAt: number;
  updatedAt: number;
  /** The earliest occurrence with an event still to start (scheduled or shifted), or null. */
  nextStart: number | null;
  /** Occurrences D1 holds, by status (all of them: D1 keeps the whole history), from the series row's counters. */
  counts: Record<string, number>;
};

/**
 * Newest first (created_at, series_id descending), by idx_series_created / _status_created / _template_created, in one
 * read: the counts are the row's own columns (kept by triggers on series_occurrences, migration 0026), and the next
 * start a seek on idx_series_occurrences_next_live past `now` (live rows only: not the history, nor the cancelled rows
 * a paused or ended series keeps up to its horizon).
 */
export async function listSeries(
  d1: D1Database,
  f: { status?: SeriesStatus; templateId?: string },
  page: { limit: number; after?: SeriesCursor },
  now: number,
): Promise<{ series: SeriesListItem[]; nextCursor: string | null }> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.status) where.push("status = ?"), args.push(f.status);
  if (f.templateId) where.push("template_id = ?"), args.push(f.templateId);
  if (page.after) where.push("(created_at < ? OR (created_at = ? AND series_id < ?))"), args.push(page.after.createdAt, page.after.createdAt, page.after.seriesId);
  const rows = await d1
    .prepare(
      `SELECT series_id AS seriesId, template_id AS templateId, rule, status, created_at AS createdAt, updated_at AS updatedAt,
         count_scheduled AS scheduled, count_shifted AS shifted, count_skipped AS skipped, count_cancelled AS cancelled,
         (SELECT MIN(o.start_time) FROM series_occurrences o WHERE o.series_id = series.series_id AND o.start_time > ? AND ${live("o")}) AS nextStart
       FROM series ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, series_id DESC LIMIT ?`,
    )
    .bind(now, ...args, page.limit + 1)
    .all<Omit<SeriesListItem, "rule" | "counts"> & { rule: string; scheduled: number; shifted: number; skipped: number; cancelled: number }>();
  const more = rows.results.length > page.limit;
  const list = rows.results.slice(0, page.limit);
  const last = list[list.length - 1];
  return {
    series: list.map(({ scheduled, shifted, skipped, cancelled, ...r }) => ({ ...r, rule: JSON.parse(r.rule) as SeriesRule, counts: { scheduled, shifted, skipped, cancelled } })),
    nextCursor: more && last ? encodeSeriesCursor({ createdAt: last.createdAt, seriesId: last.seriesId }) : null,
  };
}

// ---- what became of the occurrences' events (the instances projection) ---------------------------------------------

/** Each listed event's state and revision in D1's instances (one read by primary key for the lot; an event not projected yet is absent). */
export async function eventStates(d1: D1Database, eventIds: string[]): Promise<Map<string, { state: string; revision: number }>> {
  if (eventIds.length === 0) return new Map();
  const rows = await d1
    .prepare("SELECT event_id AS eventId, state, revision FROM instances WHERE event_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(eventIds))
    .all<{ eventId: string; state: string; revision: number }>();
  return new Map(rows.results.map((r) => [r.eventId, { state: r.state, revision: r.revision }]));
}

// ---- what players see of a series (the calendar and the event views) -----------------------------------------------

/**
 * For each listed event that is a series occurrence: its series, the rule that made it (the segment covering its
 * original start; the latest rule for rows from before segments were kept) and the start of the series' next
 * scheduled occurrence after this one. One read for the lot: the events by idx_series_occurrences_event, and each
 * next start a seek on idx_series_occurrences_next_live.
 */
export async function publicSeriesLinks(d1: D1Database, eventIds: string[]): Promise<Map<string, PublicSeriesLink>> {
  if (eventIds.length === 0) return new Map();
  const rows = await d1
    .prepare(
      `SELECT o.event_id AS eventId, s.series_id AS seriesId, s.rule AS rule, s.segments AS segments, COALESCE(o.original_start, o.start_time) AS original,
         (SELECT MIN(n.start_time) FROM series_occurrences n WHERE n.series_id = o.series_id AND n.start_time > o.start_time AND ${live("n")}) AS next
       FROM series_occurrences o JOIN series s ON s.series_id = o.series_id
       WHERE o.event_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify(eventIds))
    .all<{ eventId: string; seriesId: string; rule: string; segments: string | null; original: number; next: number | null }>();
  // Parsed once per series: a page of one series' occurrences carries the same (up to ~250-rule) list on every row.
  const parsed = new Map<string, RuleSegment[]>();
  const segmentsOf = (r: { seriesId: string; segments: string }) => {
    let list = parsed.get(r.seriesId);
    if (!list) parsed.set(r.seriesId, (list = JSON.parse(r.segments) as RuleSegment[]));
    return list;
  };
  return new Map(
    rows.results.map((r) => {
      const rule = r.segments ? ruleAt(segmentsOf({ seriesId: r.seriesId, segments: r.segments }), r.original) : (JSON.parse(r.rule) as SeriesRule);
      return [r.eventId, { seriesId: r.seriesId, rule, next: r.next }];
    }),
  );
}
