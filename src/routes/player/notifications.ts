// Players' in-game notification feed: unseen first, popups capped per day (fatigue), paginated.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { readConfig } from "../../config";
import { feedRows, recordInteraction } from "../../db/notifications";
import { assignDisplay, feedOrder, type NotificationType } from "../../domain/notifications";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { query } from "../../http/validate";

const FeedQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.coerce.number().int().min(0).max(500).default(0),
});

async function interaction(c: Context<AppEnv>, what: "shown" | "clicked") {
  const id = c.req.param("notificationId")?.slice(0, 200) ?? "";
  if (!(await recordInteraction(c.env.DB, c.var.player.playerId, id, what, Date.now()))) {
    throw new ApiError(404, "notification_not_found", "no such notification for this player");
  }
  return c.json({ notificationId: id, [what]: true });
}

export const notificationRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const { limit, cursor } = query(c, FeedQuery);
    const rows = await feedRows(c.env.DB, c.var.player.playerId, Date.now());
    const items = rows.map((r) => ({ notificationId: r.notification_id, type: r.notification_type as NotificationType, at: r.scheduled_time, row: r }));
    const display = assignDisplay(items, readConfig(c.env).notificationPopupsPerDay);
    const ordered = feedOrder(items.map((i) => ({ ...i, seen: i.row.shown_at !== null, display: display.get(i.notificationId)! })));
    const page = ordered.slice(cursor, cursor + limit).map((i) => {
      const payload = JSON.parse(i.row.payload) as Record<string, unknown>;
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
    return c.json({ notifications: page, unseen: ordered.filter((i) => !i.seen).length, nextCursor: cursor + limit < ordered.length ? cursor + limit : null });
  })
  .post("/:notificationId/shown", (c) => interaction(c, "shown"))
  .post("/:notificationId/clicked", (c) => interaction(c, "clicked"));
