// Players: the public calendar of upcoming and running events.
import { Hono } from "hono";
import { z } from "zod";
import { listAllEvents } from "../db/instances";
import { publicView } from "../domain/instance";
import { PREVIEW_LEAD_MS, notificationText } from "../domain/notifications";
import type { AppEnv } from "../http/auth";
import { query } from "../http/validate";
import { RangeQuery, resolveRange } from "./schedule";

const VISIBLE = ["scheduled", "active", "paused"] as const;

export const playerCalendarRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const q = query(c, z.strictObject(RangeQuery));
  const now = Date.now();
  const { from, to } = resolveRange(q, now);
  const events = await listAllEvents(c.env.DB, { from, to, states: VISIBLE });
  // The preview notification doubles as a banner on the calendar for events starting within 24 h.
  const banner = (e: (typeof events)[number]) =>
    e.state === "scheduled" && e.startTime - now <= PREVIEW_LEAD_MS ? notificationText("preview", e.name) : null;
  return c.json({
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    events: events.map((e) => ({ ...publicView(e, now, c.var.player), banner: banner(e) })),
  });
});
