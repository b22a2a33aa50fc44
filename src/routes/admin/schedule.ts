// Ops: the scheduler's surface. Dry-run validation, run-time rule settings and the calendar (JSON or iCalendar).
import { Hono } from "hono";
import { z } from "zod";
import { schedulerActor } from "../../actors/stubs";
import { readConfig } from "../../config";
import { calendarEntries } from "../../db/instances";
import { calendarDays, renderIcs, resolveRange } from "../../domain/calendar";
import { windowOf } from "../../domain/scheduling";
import { CreateEventBody, EventState, EventTier, EventType, SettingsBody } from "../../domain/model";
import { iso } from "../../domain/time";
import { CALENDAR_FEED_OPERATOR, type AppEnv } from "../../http/auth";
import { problemsError } from "../../http/errors";
import { buildInstance } from "../../http/instances";
import { RangeQuery, jsonBody, query } from "../../http/validate";

const calendarFields = {
  ...RangeQuery,
  type: EventType.optional(),
  tier: EventTier.optional(),
  state: EventState.optional(),
  format: z.enum(["json", "ics"]).optional(),
  token: z.string().optional(),
};
const CalendarQuery = z.strictObject(calendarFields);
/** Calendar apps add their own cache-busting parameters to a subscribed URL; the feed ignores what it does not know. */
const FeedQuery = z.object(calendarFields);

export const scheduleRoutes = new Hono<AppEnv>()
  .post("/schedule/validate", async (c) => {
    const body = await jsonBody(c, CreateEventBody);
    const instance = await buildInstance(c, body);
    const conflicts = await schedulerActor(c.env).check(windowOf(instance));
    return c.json({ ok: conflicts.length === 0, conflicts });
  })
  .get("/settings", async (c) => c.json(await schedulerActor(c.env).settings()))
  .put("/settings", async (c) => {
    const patch = await jsonBody(c, SettingsBody);
    return c.json(await schedulerActor(c.env).updateSettings(patch, c.var.operator));
  })
  .get("/calendar", async (c) => {
    // The feed token is only ever in a calendar app's subscription URL, so such a request is a feed: ICS by default.
    const feed = c.var.operator === CALENDAR_FEED_OPERATOR;
    const q = query(c, feed ? FeedQuery : CalendarQuery);
    const range = resolveRange(q, Date.now());
    if (!range.ok) throw problemsError(range.problems, 400);
    const { from, to } = range;
    const events = await calendarEntries(c.env.DB, { from, to, type: q.type, tier: q.tier, state: q.state });
    const wantsIcs = q.format === "ics" || (q.format === undefined && (feed || (c.req.header("Accept") ?? "").includes("text/calendar")));
    if (wantsIcs) {
      const body = renderIcs(events, { calendarName: "Live events", domain: readConfig(c.env).calendarDomain });
      return c.body(body, 200, { "Content-Type": "text/calendar; charset=utf-8", "Content-Disposition": 'inline; filename="live-events.ics"' });
    }
    const byId = new Map(events.map((e) => [e.eventId, e]));
    return c.json({
      from: iso(from),
      to: iso(to),
      days: calendarDays(events, from, to).map((d) => ({
        date: d.date,
        concurrency: d.peakConcurrency,
        eventCount: d.eventCount,
        events: d.eventIds.map((id) => {
          const e = byId.get(id)!;
          return { eventId: e.eventId, name: e.name, type: e.type, tier: e.tier, state: e.state, startTime: iso(e.start), endTime: iso(e.end) };
        }),
      })),
    });
  });
