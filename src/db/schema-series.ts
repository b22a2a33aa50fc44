// Recurring series (issue 17): the queryable copy of each SeriesActor's series and its occurrences, written behind
// the actor (revision-guarded upserts). The actor's own SQLite is the truth; these tables answer lists and reports.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const series = sqliteTable(
  "series",
  {
    seriesId: text("series_id").primaryKey(),
    templateId: text("template_id").notNull(),
    /** The rule in force now (the last segment's): rrule, dtstart, duration, timeZone, exdates, until. */
    rule: text("rule", { mode: "json" }).notNull(),
    /**
     * Every rule of the series with where it starts (`fromMs`, null for the first), without exdates: a player's view
     * of an occurrence names the rule that made it, not the latest one. Null on rows written before the column.
     */
    segments: text("segments", { mode: "json" }),
    onConflict: text("on_conflict").notNull(),
    /** active | paused | ended */
    status: text("status").notNull(),
    /** iCalendar SEQUENCE: bumped on every change of the series. */
    sequence: integer("sequence").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    revision: integer("revision").notNull(),
    /**
     * How many of its series_occurrences rows have each status: kept by triggers on that table (migration 0026), so
     * the ops list reads four columns instead of grouping the series' whole history.
     */
    // WARNING: drizzle does not know these triggers (its snapshots hold no triggers). A generated migration that
    // rebuilds series or series_occurrences (drizzle-kit's __new_ table + DROP + RENAME, for a type, NOT NULL or FK
    // change) drops them silently and the counts stop moving: recreate them in that migration (copy 0026's).
    // test/series-reads.test.ts checks they exist after every migration.
    countScheduled: integer("count_scheduled").notNull().default(0),
    countShifted: integer("count_shifted").notNull().default(0),
    countSkipped: integer("count_skipped").notNull().default(0),
    countCancelled: integer("count_cancelled").notNull().default(0),
  },
  // GET /v1/admin/series lists newest first, whole or by status or template: each order is an index walk, no sort.
  (t) => [
    index("idx_series_created").on(t.createdAt, t.seriesId),
    index("idx_series_status_created").on(t.status, t.createdAt, t.seriesId),
    index("idx_series_template_created").on(t.templateId, t.createdAt, t.seriesId),
  ],
);

export const seriesOccurrences = sqliteTable(
  "series_occurrences",
  {
    seriesId: text("series_id").notNull(),
    /** The occurrence's original local start in the series' zone (its RECURRENCE-ID). */
    occurrenceKey: text("occurrence_key").notNull(),
    eventId: text("event_id"),
    /** scheduled | shifted | skipped | cancelled */
    status: text("status").notNull(),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time").notNull(),
    shiftedFrom: integer("shifted_from"),
    reason: text("reason"),
    updatedAt: integer("updated_at").notNull(),
    revision: integer("revision").notNull(),
    /** Where the rule put the occurrence (epoch ms): its RECURRENCE-ID, fixed even if a later rule changes zone. */
    originalStart: integer("original_start"),
    /** Added to the occurrence's ICS SEQUENCE: grows by each replaced event's last revision, so it never goes down. */
    seqBase: integer("seq_base").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.seriesId, t.occurrenceKey] }),
    index("idx_series_occurrences_event").on(t.eventId),
    // A player's event names its series' next occurrence: a seek by series and start, not a walk of its history.
    index("idx_series_occurrences_start").on(t.seriesId, t.startTime),
    // The next live start (the ops list, a player's event) over live rows only: a paused or ended series keeps its
    // future cancelled rows up to the horizon, and a MIN over idx_series_occurrences_start walked every one of them.
    // The queries repeat this exact predicate (db/series.ts LIVE), or SQLite cannot use the index.
    index("idx_series_occurrences_next_live").on(t.seriesId, t.startTime).where(sql`status IN ('scheduled', 'shifted')`),
  ],
);
