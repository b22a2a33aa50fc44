// Players: the public calendar of upcoming and running events.
import { readConfig } from "../../config";
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { listAllEvents } from "../../db/instances";
import { resolveRange } from "../../domain/calendar";
import { publicView } from "../../domain/instance";
import { PREVIEW_LEAD_MS, notificationText } from "../../domain/notifications";
import { iso } from "../../domain/time";
import { PlayerCalendar } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { revalidate } from "../../http/cache";
import { seriesOf } from "../../http/public-series";
import { problemsError } from "../../http/errors";
import { fixedZones } from "../../http/local-zones";
import { PLAYER, errors, json, openApiApp } from "../../http/openapi";
import { RangeQuery } from "../../http/validate";

const VISIBLE = ["scheduled", "active", "paused"] as const;
const CalendarQuery = z.strictObject(RangeQuery);

export const playerCalendarRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["Events (players)"],
    security: PLAYER,
    method: "get",
    path: "/",
    summary: "Upcoming and running events in a date range",
    middleware: [revalidate],
    request: { query: CalendarQuery },
    responses: { 200: json(PlayerCalendar, "Events with a banner for those starting within 24 h"), 304: { description: "Not modified (If-None-Match)" }, ...errors(400, 401, 429) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const now = Date.now();
    const range = resolveRange(q, now);
    if (!range.ok) throw problemsError(range.problems, 400);
    const { from, to } = range;
    const events = await listAllEvents(c.env.DB, { from, to, states: VISIBLE });
    // The preview notification doubles as a banner on the calendar for events starting within 24 h.
    const banner = (e: (typeof events)[number]) =>
      e.state === "scheduled" && e.startTime - now <= PREVIEW_LEAD_MS ? notificationText("preview", e.name) : null;
    const [fixed, series] = await Promise.all([fixedZones(c.env, events, c.var.player.playerId), seriesOf(c.env.DB, events.map((e) => e.eventId))]);
    const view = (e: (typeof events)[number]) => publicView(e, now, c.var.player, readConfig(c.env).defaultPlayerTimeZone, fixed.get(e.eventId));
    return c.json({ from: iso(from), to: iso(to), events: events.map((e) => ({ ...view(e), series: series(e.eventId), banner: banner(e) })) }, 200);
  },
);
