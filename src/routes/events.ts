// Players: discover events and read one with server-computed countdowns.
import { Hono } from "hono";
import { z } from "zod";
import { eventActor } from "../actors/stubs";
import { activeEvents, upcomingEvents } from "../db/instances";
import { publicView } from "../domain/instance";
import type { AppEnv } from "../http/auth";
import { ApiError } from "../http/errors";
import { query } from "../http/validate";

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
  .get("/:eventId", async (c) => {
    const eventId = c.req.param("eventId");
    // The actor, not D1, answers: it is the authority on state, so a client polling across a transition sees it
    // the moment it happens rather than after the projection lands.
    const view = await eventActor(c.env, eventId).get();
    if (!view || HIDDEN_STATES.has(view.instance.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    return c.json(publicView(view.instance, Date.now(), c.var.player));
  });
