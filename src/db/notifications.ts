// The in-game feed: what a player sees on next login, whether or not a push ever reached them.
const FEED_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
const BROADCAST = "('preview', 'start', 'urgency')";

export type FeedRow = {
  notification_id: string;
  event_id: string;
  notification_type: string;
  scheduled_time: number;
  payload: string;
  shown_at: number | null;
  clicked_at: number | null;
};

/** The player's own notifications plus every broadcast that has fired, newest 500 of the last 30 days. */
export async function feedRows(d1: D1Database, playerId: string, now: number): Promise<FeedRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT q.notification_id, q.event_id, q.notification_type, q.scheduled_time, q.payload, i.shown_at, i.clicked_at
       FROM notification_queue q
       LEFT JOIN notification_interactions i ON i.notification_id = q.notification_id AND i.player_id = ?1
       WHERE q.payload IS NOT NULL AND q.status != 'cancelled' AND q.scheduled_time > ?2 AND q.scheduled_time <= ?3
         AND (q.target_player_id = ?1 OR (q.target_player_id IS NULL AND q.notification_type IN ${BROADCAST}))
       ORDER BY q.scheduled_time DESC LIMIT 500`,
    )
    .bind(playerId, now - FEED_WINDOW_MS, now)
    .all<FeedRow>();
  return results;
}

/** Records shown/clicked for a notification the player can see; false if they cannot see it. */
export async function recordInteraction(d1: D1Database, playerId: string, notificationId: string, what: "shown" | "clicked", now: number) {
  const visible = await d1
    .prepare(
      `SELECT 1 FROM notification_queue WHERE notification_id = ?1 AND payload IS NOT NULL
         AND (target_player_id = ?2 OR (target_player_id IS NULL AND notification_type IN ${BROADCAST}))`,
    )
    .bind(notificationId, playerId)
    .first();
  if (!visible) return false;
  // Clicking implies it was shown; the first time of each is kept.
  await d1
    .prepare(
      `INSERT INTO notification_interactions (notification_id, player_id, shown_at, clicked_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (notification_id, player_id) DO UPDATE SET
         shown_at = COALESCE(notification_interactions.shown_at, excluded.shown_at),
         clicked_at = COALESCE(notification_interactions.clicked_at, excluded.clicked_at)`,
    )
    .bind(notificationId, playerId, now, what === "clicked" ? now : null)
    .run();
  return true;
}
