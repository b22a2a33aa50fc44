// The series API's shapes: request bodies and the answer, as zod schemas (the single source of truth for validation
// and /openapi.json), and the one renderer from the actor's view to the answer.
import { z } from "zod";
import { slug } from "./model-base";
import { EVENT_STATES } from "./model";
import { CONFLICT_POLICIES, EDIT_SCOPES, MAX_EXDATES, type SeriesPlan } from "./series";
import { iso } from "./time";

const local = z.string().max(32).meta({ description: "A local date-time in the series' timeZone, such as 2026-03-07T10:00 (no offset).", example: "2026-03-07T10:00" });

export const CreateSeriesBody = z
  .strictObject({
    templateId: slug,
    rrule: z.string().min(1).max(500).meta({ description: "An RFC 5545 RRULE (FREQ DAILY, WEEKLY, MONTHLY or YEARLY; no UNTIL: use until).", example: "FREQ=WEEKLY;BYDAY=SA" }),
    dtstart: local,
    duration: z.string().min(2).max(32).meta({ description: "ISO 8601: weeks, days (nominal, as RFC 5545), hours, minutes, seconds.", example: "PT12H" }),
    timeZone: z.string().min(1).max(64).meta({ description: "An IANA time zone.", example: "Europe/London" }),
    exdates: z.array(local).max(MAX_EXDATES).optional(),
    until: local.optional(),
    onConflict: z.enum(CONFLICT_POLICIES).default("skip").meta({ description: "skip: report and leave the occurrence out; shift: move it to the next legal slot (at most 24 h later), else skip." }),
    horizonDays: z.number().int().min(1).max(365).optional().meta({ description: "How far ahead occurrences exist as events; default SERIES_HORIZON_DAYS (30)." }),
    reason: z.string().max(500).optional(),
  })
  .meta({ id: "CreateSeriesBody" });
export type CreateSeriesBody = z.infer<typeof CreateSeriesBody>;

export const EditSeriesBody = z
  .strictObject({
    scope: z.enum(EDIT_SCOPES),
    occurrence: local.optional().meta({ description: 'The occurrence\'s original local start (its key in GET); required unless scope is "all".' }),
    changes: z.strictObject({
      rrule: z.string().min(1).max(500).optional(),
      dtstart: local.optional(),
      duration: z.string().min(2).max(32).optional(),
      timeZone: z.string().min(1).max(64).optional(),
      exdates: z.array(local).max(MAX_EXDATES).optional(),
      until: local.optional(),
      cancel: z.literal(true).optional().meta({ description: 'Scope "this" only: cancel this one occurrence.' }),
    }),
    reason: z.string().max(500).optional(),
  })
  .meta({ id: "EditSeriesBody" });

export const SeriesCommandBody = z.strictObject({ reason: z.string().max(500).optional() }).meta({ id: "SeriesCommandBody" });

const Rule = z.object({ rrule: z.string(), dtstart: z.string(), duration: z.string(), timeZone: z.string(), exdates: z.array(z.string()), until: z.string().nullable() });
export const SeriesDetail = z
  .object({
    seriesId: z.string(),
    templateId: z.string(),
    status: z.enum(["active", "paused", "ended"]),
    onConflict: z.enum(CONFLICT_POLICIES),
    horizonDays: z.number().int(),
    sequence: z.number().int().meta({ description: "Bumped on every change (iCalendar SEQUENCE)." }),
    rule: Rule.meta({ description: "The rule in force for the latest occurrences." }),
    segments: z.array(Rule.extend({ from: z.string().nullable() })).meta({ description: '"this and following" edits start a new rule at an occurrence.' }),
    overrides: z.record(z.string(), z.object({ start: z.string().optional(), duration: z.string().optional(), cancelled: z.boolean().optional() })),
    createdAt: z.string(),
    updatedAt: z.string(),
    occurrences: z.array(
      z.object({
        occurrence: z.string().meta({ description: "Original local start: the occurrence's key (RECURRENCE-ID)." }),
        eventId: z.string().nullable(),
        status: z.enum(["pending", "scheduled", "shifted", "skipped", "cancelled"]),
        startTime: z.string(),
        endTime: z.string(),
        shiftedFrom: z.string().nullable(),
        reason: z.string().nullable(),
        eventState: z
          .enum(EVENT_STATES)
          .nullable()
          .optional()
          .meta({
            description:
              "GET only: the event's state now (scheduled, active, paused, expired, cancelled, failed_activation, …) as D1's events projection has it; null when there is no event or it is not projected yet. An event ops ended early keeps its occurrence's status and shows expired here.",
          }),
      }),
    ),
  })
  .meta({ id: "SeriesDetail" });

type ViewIn = {
  seriesId: string;
  templateId: string;
  plan: SeriesPlan;
  onConflict: (typeof CONFLICT_POLICIES)[number];
  status: "active" | "paused" | "ended";
  horizonDays: number;
  sequence: number;
  createdAt: number;
  updatedAt: number;
  occurrences: { key: string; eventId: string | null; status: "pending" | "scheduled" | "shifted" | "skipped" | "cancelled"; start: number; end: number; shiftedFrom: number | null; reason: string | null }[];
};

/** `states` (event id → state) is given by GET, which reads them for its page; other answers leave eventState out. */
export function renderSeries(v: ViewIn, states?: Map<string, string>): z.infer<typeof SeriesDetail> {
  const segments = v.plan.segments.map(({ fromMs, splitKey: _k, ...rule }) => ({ ...rule, from: fromMs === null ? null : iso(fromMs) }));
  const { from: _f, ...rule } = segments[segments.length - 1];
  return {
    seriesId: v.seriesId,
    templateId: v.templateId,
    status: v.status,
    onConflict: v.onConflict,
    horizonDays: v.horizonDays,
    sequence: v.sequence,
    rule,
    segments,
    overrides: v.plan.overrides,
    createdAt: iso(v.createdAt),
    updatedAt: iso(v.updatedAt),
    occurrences: v.occurrences.map((o) => ({
      occurrence: o.key,
      eventId: o.eventId,
      status: o.status,
      startTime: iso(o.start),
      endTime: iso(o.end),
      shiftedFrom: o.shiftedFrom === null ? null : iso(o.shiftedFrom),
      reason: o.reason,
      ...(states ? { eventState: ((o.eventId && states.get(o.eventId)) || null) as (typeof EVENT_STATES)[number] | null } : {}),
    })),
  };
}

// ---- reading series: the ops list and the occurrence pages ---------------------------------------------------------

/** Paging over a series' occurrences (GET /v1/admin/series/:seriesId). Declared loose; checked by SeriesPageQuery. */
export const OCCURRENCE_PAGE_DEFAULT = 100;
export const OCCURRENCE_PAGE_MAX = 500;
/** Default look-back of a series' occurrence page; forward, everything materialized (the horizon). */
export const OCCURRENCE_LOOKBACK_DAYS = 30;
const instant = z.iso.datetime({ offset: true });
const limit = (dflt: number, max: number) => z.coerce.number().int().min(1).max(max).default(dflt);
export const SeriesPageQuery = z
  .strictObject({
    from: instant.optional().meta({ description: `Occurrences starting at or after this instant; default ${OCCURRENCE_LOOKBACK_DAYS} days ago.` }),
    to: instant.optional().meta({ description: "Occurrences starting before this instant; default: no bound (everything materialized, i.e. the horizon)." }),
    cursor: z.string().max(300).optional().meta({ description: "nextCursor of the previous page (send the same from and to)" }),
    limit: limit(OCCURRENCE_PAGE_DEFAULT, OCCURRENCE_PAGE_MAX).meta({ description: `1–${OCCURRENCE_PAGE_MAX}, default ${OCCURRENCE_PAGE_DEFAULT}` }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["to"] });

export const SeriesListQuery = z.strictObject({
  status: z.enum(["active", "paused", "ended"]).optional(),
  templateId: z.string().min(1).max(64).optional(),
  cursor: z.string().max(300).optional().meta({ description: "nextCursor of the previous page" }),
  limit: limit(50, 100).meta({ description: "1–100, default 50" }),
});

export const SeriesSummary = z
  .object({
    seriesId: z.string(),
    templateId: z.string(),
    status: z.enum(["active", "paused", "ended"]),
    rule: z.object({ rrule: z.string(), dtstart: z.string(), timeZone: z.string(), duration: z.string() }).meta({ description: "The rule in force for the latest occurrences." }),
    nextOccurrence: z.string().nullable().meta({ description: "Start of the earliest occurrence still to start that has an event (scheduled or shifted); null if none." }),
    counts: z
      .object({ scheduled: z.number().int(), shifted: z.number().int(), skipped: z.number().int(), cancelled: z.number().int() })
      .meta({ description: "Occurrences decided so far, by status (the whole history, from D1)." }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "SeriesSummary" });
export const SeriesList = z.object({ series: z.array(SeriesSummary), nextCursor: z.string().nullable() }).meta({ id: "SeriesList" });

export function renderSummary(s: { seriesId: string; templateId: string; status: "active" | "paused" | "ended"; rule: { rrule: string; dtstart: string; timeZone: string; duration: string }; nextStart: number | null; counts: Record<string, number>; createdAt: number; updatedAt: number }): z.infer<typeof SeriesSummary> {
  const n = (k: string) => s.counts[k] ?? 0;
  return {
    seriesId: s.seriesId,
    templateId: s.templateId,
    status: s.status,
    rule: { rrule: s.rule.rrule, dtstart: s.rule.dtstart, timeZone: s.rule.timeZone, duration: s.rule.duration },
    nextOccurrence: s.nextStart === null ? null : iso(s.nextStart),
    counts: { scheduled: n("scheduled"), shifted: n("shifted"), skipped: n("skipped"), cancelled: n("cancelled") },
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

/** A page of one series' occurrences: the series as SeriesDetail, the range read and where the next page starts. */
export const SeriesPage = SeriesDetail.extend({
  from: z.string().meta({ description: "Occurrences listed start at or after this instant." }),
  to: z.string().nullable().meta({ description: "…and before this one (null: no bound)." }),
  nextCursor: z.string().nullable().meta({ description: "Send as cursor (with the same from and to) for the next page; null on the last." }),
}).meta({ id: "SeriesPage" });

export const encodeOccurrenceCursor = (c: { start: number; key: string }) => btoa(`${c.start}|${c.key}`);
export function decodeOccurrenceCursor(s: string): { start: number; key: string } | null {
  try {
    const text = atob(s);
    const bar = text.indexOf("|");
    const start = Number(text.slice(0, bar));
    const key = text.slice(bar + 1);
    return bar > 0 && Number.isSafeInteger(start) && key ? { start, key } : null;
  } catch {
    return null;
  }
}
