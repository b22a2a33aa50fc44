// Players: discover events and read one with server-computed countdowns.
import { Hono } from "hono";
import { z } from "zod";
import { eventActor } from "../actors/stubs";
import { activeEvents, participation, upcomingEvents } from "../db/instances";
import { publicView } from "../domain/instance";
import { countdown } from "../domain/lifecycle";
import type { AppEnv } from "../http/auth";
import { ApiError } from "../http/errors";
import { query } from "../http/validate";
import { eventIdParam } from "../http/ids";

const UpcomingQuery = z.strictObject({ withinHours: z.coerce.number().min(0).max(24 * 90).default(48) });
const HIDDEN_STATES = new Set(["cancelled", "failed_activation"]);

export const eventRoutes = new Hono<AppEnv>()
  .get("/active", async (c) => {
    const now = Date.now();
    const events = await activeEvents(c.env.DB);
    return c.json({ events: events.map((e) => publicView(e, now, c.var.player)) });
  })
  .get("/upcoming", async (c) => {
    const { withinHours } = query(c, UpcomingQuery);
    const now = Date.now();
    const events = await upcomingEvents(c.env.DB, now, withinHours * 3_600_000);
    return c.json({ events: events.map((e) => publicView(e, now, c.var.player)) });
  })
  .get("/:eventId/countdown", async (c) => {
    const eventId = eventIdParam(c);
    const timing = await eventActor(c.env, eventId).timing();
    if (!timing || HIDDEN_STATES.has(timing.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    const now = Date.now();
    // Clients poll this; a one-second cache is below the countdown's own resolution.
    c.header("Cache-Control", "private, max-age=1");
    return c.json({
      eventId,
      state: timing.state,
      startTime: new Date(timing.startTime).toISOString(),
      endTime: new Date(timing.endTime).toISOString(),
      serverTime: new Date(now).toISOString(),
      ...countdown(timing, now),
    });
  })
  .get("/:eventId", async (c) => {
    const eventId = eventIdParam(c);
    // The actor, not D1, answers: it is the authority on state, so a client polling across a transition sees it
    // the moment it happens rather than after the projection lands.
    const view = await eventActor(c.env, eventId).get();
    if (!view || HIDDEN_STATES.has(view.instance.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    const counts = await participation(c.env.DB, eventId);
    return c.json(publicView({ ...view.instance, ...counts }, Date.now(), c.var.player));
  });
