// The series API's shapes: request bodies and the answer, as zod schemas (the single source of truth for validation
// and /openapi.json), and the one renderer from the actor's view to the answer.
import { z } from "zod";
import { slug } from "./model-base";
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

export function renderSeries(v: ViewIn): z.infer<typeof SeriesDetail> {
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
    })),
  };
}
