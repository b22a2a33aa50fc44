// Ops: the scheduler's surface. Dry-run validation, run-time rule settings and the calendar (JSON or iCalendar).
import { Hono } from "hono";
import { z } from "zod";
import { schedulerActor } from "../../actors/stubs";
import { listAllEvents } from "../../db/instances";
import { calendarDays, renderIcs, resolveRange, type CalendarEntry } from "../../domain/calendar";
import { windowOf } from "../../domain/scheduling";
import { CreateEventBody, EventState, EventTier, EventType, SettingsBody, type EventInstance } from "../../domain/model";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { problemsError } from "../../http/errors";
import { buildInstance } from "../../http/instances";
import { RangeQuery, jsonBody, query } from "../../http/validate";

const entryOf = (e: EventInstance): CalendarEntry => ({ ...windowOf(e), state: e.state });

const CalendarQuery = z.strictObject({
  ...RangeQuery,
  type: EventType.optional(),
  tier: EventTier.optional(),
  state: EventState.optional(),
  format: z.enum(["json", "ics"]).optional(),
  token: z.string().optional(),
});

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
    const q = query(c, CalendarQuery);
    const now = Date.now();
    const range = resolveRange(q, now);
    if (!range.ok) throw problemsError(range.problems, 400);
    const { from, to } = range;
    const events = (await listAllEvents(c.env.DB, { from, to, type: q.type, tier: q.tier, state: q.state })).map(entryOf);
    const wantsIcs = q.format === "ics" || (q.format === undefined && (c.req.header("Accept") ?? "").includes("text/calendar"));
    if (wantsIcs) {
      const body = renderIcs(events, { now, calendarName: "Live events", domain: new URL(c.req.url).hostname });
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
