// Ops: the scheduler's surface. Dry-run validation, run-time rule settings and the calendar (JSON or iCalendar).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { schedulerActor } from "../../actors/stubs";
import { readConfig } from "../../config";
import { calendarEntries } from "../../db/instances";
import { seriesLinks, type SeriesLink } from "../../db/series";
import { calendarDays, conflictsByDay, renderIcs, resolveRange, type IcsEntry } from "../../domain/calendar";
import { windowOf } from "../../domain/scheduling";
import { CreateEventBody, EventState, EventTier, EventType, SettingsBody } from "../../domain/model";
import { HOUR_MS, iso } from "../../domain/time";
import { toInstant } from "../../domain/zoned";
import { OpsCalendar, ScheduleCheck, ScheduleSettings } from "../../domain/views";
import { CALENDAR_FEED_OPERATOR, requireEventBodyRole, type AppEnv } from "../../http/auth";
import { revalidate } from "../../http/cache";
import { problemsError } from "../../http/errors";
import { buildInstance } from "../../http/instances";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { RangeQuery, query } from "../../http/validate";

const calendarFields = {
  ...RangeQuery,
  type: EventType.optional(),
  tier: EventTier.optional(),
  state: EventState.optional(),
  format: z.enum(["json", "ics"]).optional().meta({ description: "Default: ics for the feed token or Accept: text/calendar, json otherwise." }),
  token: z.string().optional().meta({ description: "The calendar feed token, for calendar apps that cannot send headers." }),
};
const CalendarQuery = z.strictObject(calendarFields);
/** Calendar apps add their own cache-busting parameters to a subscribed URL; the feed ignores what it does not know. */
const FeedQuery = z.object(calendarFields);

const ops = { tags: ["Schedule"], security: OPERATOR };

export const scheduleRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/schedule/validate",
      summary: "Dry-run a create: the conflicts it would meet, nothing written",
      request: { body: jsonRequest(CreateEventBody) },
      responses: { 200: json(ScheduleCheck, "ok, or the rules it breaks"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      requireEventBodyRole(c, body);
      const instance = await buildInstance(c, body);
      const conflicts = await schedulerActor(c.env).check(windowOf(instance));
      return c.json({ ok: conflicts.length === 0, conflicts }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/settings",
      summary: "The scheduling rules in force",
      responses: { 200: json(ScheduleSettings, "The settings"), ...errors(401, 403) },
    }),
    async (c) => c.json(await schedulerActor(c.env).settings(), 200),
  )
  .openapi(
    createRoute({
      ...ops,
      method: "put",
      path: "/settings",
      summary: "Change scheduling rules at run time",
      request: { body: jsonRequest(SettingsBody) },
      responses: { 200: json(ScheduleSettings, "The settings after the change"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => c.json(await schedulerActor(c.env).updateSettings(c.req.valid("json"), c.var.operator), 200),
  )
  .openapi(
    createRoute({
      tags: ["Schedule"],
      security: [...OPERATOR, { calendarFeedToken: [] }],
      method: "get",
      path: "/calendar",
      summary: "The calendar, as JSON days or an iCalendar feed",
      description:
        "With the operator key, unknown query parameters are refused. With the feed token (?token=) the answer is iCalendar by default and unknown parameters (calendar apps' cache-busters) are ignored.",
      middleware: [revalidate],
      request: { query: FeedQuery },
      responses: {
        200: {
          description: "JSON days, or text/calendar",
          content: { "application/json": { schema: OpsCalendar }, "text/calendar": { schema: z.string().meta({ description: "RFC 5545 iCalendar" }) } },
        },
        304: { description: "Not modified (If-None-Match)" },
        ...errors(400, 401, 403),
      },
    }),
    async (c) => {
      // The feed token is only ever in a calendar app's subscription URL, so such a request is a feed: ICS by default.
      const feed = c.var.operator === CALENDAR_FEED_OPERATOR;
      const q = feed ? c.req.valid("query") : query(c, CalendarQuery);
      const range = resolveRange(q, Date.now());
      if (!range.ok) throw problemsError(range.problems, 400);
      const { from, to } = range;
      const events = await withSeries(c.env.DB, await calendarEntries(c.env.DB, { from, to, type: q.type, tier: q.tier, state: q.state }));
      const wantsIcs = q.format === "ics" || (q.format === undefined && (feed || (c.req.header("Accept") ?? "").includes("text/calendar")));
      if (wantsIcs) {
        const body = renderIcs(events, { calendarName: "Live events", domain: readConfig(c.env).calendarDomain });
        return c.body(body, 200, { "Content-Type": "text/calendar; charset=utf-8", "Content-Disposition": 'inline; filename="live-events.ics"' });
      }
      const byId = new Map(events.map((e) => [e.eventId, e]));
      // Conflicts count every event (filters only pick what is listed), and a major just outside the range still
      // breaks the gap with one inside it.
      const rules = await schedulerActor(c.env).settings();
      const gap = rules.majorGapHours * HOUR_MS;
      const around = await calendarEntries(c.env.DB, { from: from - gap, to: to + gap });
      const conflicts = conflictsByDay(around, from, to, { maxConcurrent: rules.maxConcurrent, maxConcurrentSameType: rules.maxConcurrentSameType, majorGapMs: gap });
      return c.json(
        {
          from: iso(from),
          to: iso(to),
          days: calendarDays(events, from, to).map((d) => ({
            date: d.date,
            concurrency: d.peakConcurrency,
            eventCount: d.eventCount,
            conflicts: conflicts.get(d.date) ?? [],
            events: d.eventIds.map((id) => {
              const e = byId.get(id)!;
              const series = e.link ? { seriesId: e.link.seriesId, occurrence: e.link.occurrenceKey } : undefined;
              return { eventId: e.eventId, name: e.name, type: e.type, tier: e.tier, state: e.state, startTime: iso(e.start), endTime: iso(e.end), forced: e.forced, series };
            }),
          })),
        },
        200,
      );
    },
  );

/** Ties each event that is a series occurrence to its series (one D1 read for the whole range). */
async function withSeries<T extends Omit<IcsEntry, "series">>(d1: D1Database, events: T[]): Promise<(T & Pick<IcsEntry, "series"> & { link?: SeriesLink })[]> {
  const links = await seriesLinks(d1, events.map((e) => e.eventId));
  return events.map((e) => {
    const link = links.get(e.eventId);
    if (!link) return e;
    return { ...e, link, series: { seriesId: link.seriesId, recurrenceId: link.originalStart ?? toInstant(link.occurrenceKey, link.timeZone), sequence: link.sequence + link.seqBase, updatedAt: link.updatedAt } };
  });
}
