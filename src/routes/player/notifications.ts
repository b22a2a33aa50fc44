// Players' in-game notification feed: unseen first, popups capped per day (fatigue), paginated.
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { readConfig } from "../../config";
import { feedRows, recordInteraction } from "../../db/notifications";
import { assignDisplay, feedOrder, type NotificationType } from "../../domain/notifications";
import { iso } from "../../domain/time";
import { NotificationFeed, NotificationInteraction } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { PLAYER, errors, json, openApiApp } from "../../http/openapi";

const FeedQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.coerce.number().int().min(0).max(500).default(0),
});
const NotificationPath = z.object({ notificationId: z.string() });
const players = { tags: ["Notifications"], security: PLAYER };

async function interaction(c: Context<AppEnv>, id: string, what: "shown" | "clicked") {
  const zone = c.var.player.tz ?? readConfig(c.env).defaultPlayerTimeZone;
  if (!(await recordInteraction(c.env.DB, c.var.player.playerId, zone, id, what, Date.now()))) {
    throw new ApiError(404, "notification_not_found", "no such notification for this player");
  }
  return { notificationId: id, [what]: true as const };
}

const interactionRoute = (what: "shown" | "clicked") =>
  createRoute({
    ...players,
    method: "post",
    path: `/{notificationId}/${what}`,
    summary: `Record that the notification was ${what}`,
    request: { params: NotificationPath },
    responses: { 200: json(NotificationInteraction, "Recorded"), ...errors(401, 404) },
  });

export const notificationRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/",
      summary: "The feed: unseen first, each with how to display it",
      request: { query: FeedQuery },
      responses: { 200: json(NotificationFeed, "One page of the feed"), ...errors(400, 401, 429) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const rows = await feedRows(c.env.DB, c.var.player.playerId, c.var.player.tz ?? readConfig(c.env).defaultPlayerTimeZone, Date.now());
      const items = rows.map((r) => ({ notificationId: r.notification_id, type: r.notification_type as NotificationType, at: r.scheduled_time, row: r }));
      const display = assignDisplay(items, readConfig(c.env).notificationPopupsPerDay);
      const ordered = feedOrder(items.map((i) => ({ ...i, seen: i.row.shown_at !== null, display: display.get(i.notificationId)! })));
      const page = ordered.slice(cursor, cursor + limit).map((i) => {
        const payload = JSON.parse(i.row.payload) as { title: string; body: string };
        return {
          notificationId: i.notificationId,
          type: i.type,
          eventId: i.row.event_id,
          title: payload.title,
          body: payload.body,
          display: i.display,
          at: iso(i.at),
          seen: i.seen,
          clicked: i.row.clicked_at !== null,
        };
      });
      return c.json({ notifications: page, unseen: ordered.filter((i) => !i.seen).length, nextCursor: cursor + limit < ordered.length ? cursor + limit : null }, 200);
    },
  )
  .openapi(interactionRoute("shown"), async (c) => c.json(await interaction(c, c.req.valid("param").notificationId.slice(0, 200), "shown"), 200))
  .openapi(interactionRoute("clicked"), async (c) => c.json(await interaction(c, c.req.valid("param").notificationId.slice(0, 200), "clicked"), 200));
