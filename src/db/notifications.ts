// notification_queue and notification_interactions: the only module that writes them. Rows come from the event
// objects (fired and planned notifications), the progress shards (milestones, per-player warnings) and the push
// consumer (delivery status); the feed reads them back for the player.
import type { NotificationRow, PlannedNotificationRow } from "../domain/notifications";
import { DAY_MS } from "../domain/time";
import { waveZoneName } from "../domain/local-time";
import { canonicalZone } from "../domain/zoned";
import { chunked, field as f } from "./json-batch";

const FEED_WINDOW_MS = 30 * DAY_MS;
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

const FEED_COLUMNS = `SELECT q.notification_id, q.event_id, q.notification_type, q.scheduled_time, q.payload, i.shown_at, i.clicked_at
  FROM notification_queue q
  LEFT JOIN notification_interactions i ON i.notification_id = q.notification_id AND i.player_id = ?1
  WHERE q.payload IS NOT NULL AND q.status != 'cancelled' AND q.scheduled_time > ?2 AND q.scheduled_time <= ?3`;

/**
 * A local-time event's wave broadcast names its zones by their current IANA names (event/waves.ts): shown to a reader
 * in one of them, whether their token spells the zone that way, the runtime's way (Asia/Calcutta) or another alias.
 * The runtime's own id is matched too, for rows written before the names were fixed. Other broadcasts name none.
 */
const IN_ZONE = "(json_extract(q.payload, '$.zones') IS NULL OR EXISTS (SELECT 1 FROM json_each(q.payload, '$.zones') z WHERE z.value IN (?4, ?5, ?6)))";
const zoneNames = (zone: string) => [zone, canonicalZone(zone) ?? zone, waveZoneName(zone) ?? zone];

/**
 * The player's own notifications plus every broadcast that has fired, newest 500 of the last 30 days.
 * Two arms rather than one OR: each walks idx_notifications_player newest first (the player's rows, then target
 * NULL), and SQLite merges the two ordered streams, so D1 reads only rows in the window and sorts nothing.
 */
export async function feedRows(d1: D1Database, playerId: string, zone: string, now: number): Promise<FeedRow[]> {
  const { results } = await d1
    .prepare(
      `${FEED_COLUMNS} AND q.target_player_id = ?1
       UNION ALL
       ${FEED_COLUMNS} AND q.target_player_id IS NULL AND q.notification_type IN ${BROADCAST} AND ${IN_ZONE}
       ORDER BY scheduled_time DESC LIMIT 500`,
    )
    .bind(playerId, now - FEED_WINDOW_MS, now, ...zoneNames(zone))
    .all<FeedRow>();
  return results;
}

/**
 * Records shown/clicked for a notification the player can see; false if they cannot see it. Visibility is the feed's:
 * their own rows, and broadcasts, a wave's only for a reader in one of its zones (the zone the feed is read with).
 */
export async function recordInteraction(d1: D1Database, playerId: string, zone: string, notificationId: string, what: "shown" | "clicked", now: number) {
  const visible = await d1
    .prepare(
      `SELECT 1 FROM notification_queue q WHERE q.notification_id = ?1 AND q.payload IS NOT NULL
         AND (q.target_player_id = ?2 OR (q.target_player_id IS NULL AND q.notification_type IN ${BROADCAST} AND ${IN_ZONE}))`,
    )
    .bind(notificationId, playerId, null, ...zoneNames(zone))
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

/**
 * A notification that fired: one row, id fixed by type (and player). It fills in a planned row of the schedule
 * (payload still NULL) and otherwise leaves an existing row alone, so a re-fired alarm changes nothing.
 */
export const notificationStatements = (d1: D1Database, rows: NotificationRow[]) =>
  chunked(
    d1,
    `INSERT INTO notification_queue (notification_id, event_id, notification_type, target_player_id, scheduled_time, status, payload, created_at)
     SELECT ${["notificationId", "eventId", "type", "playerId", "scheduledTime"].map(f).join(", ")}, COALESCE(${f("status")}, 'pending'), ${f("payload")}, ${f("createdAt")}
     FROM json_each(?1) AS j WHERE true
     ON CONFLICT (notification_id) DO UPDATE SET payload = excluded.payload, scheduled_time = excluded.scheduled_time, status = excluded.status
     WHERE notification_queue.payload IS NULL`,
    rows,
  );

/**
 * The schedule as the record shows it: planned rows pending at their time, dropped ones cancelled; fired rows
 * untouched. A dropped re-arm (round > 0) is only cancelled if it had been written as planned.
 */
export const notificationPlanStatements = (d1: D1Database, rows: PlannedNotificationRow[]) =>
  chunked(
    d1,
    `INSERT INTO notification_queue (notification_id, event_id, notification_type, target_player_id, scheduled_time, status, payload, created_at)
     SELECT ${["notificationId", "eventId", "type"].map(f).join(", ")}, NULL, ${f("scheduledTime")}, ${f("status")}, NULL, ${f("createdAt")}
     FROM json_each(?1) AS j
     WHERE ${f("status")} = 'pending' OR ${f("round")} = 0
        OR EXISTS (SELECT 1 FROM notification_queue q WHERE q.notification_id = ${f("notificationId")})
     ON CONFLICT (notification_id) DO UPDATE SET scheduled_time = excluded.scheduled_time, status = excluded.status
     WHERE notification_queue.payload IS NULL`,
    rows,
  );

/**
 * Push delivery status of a fired notification: the event-level row and, for a batch of players, each of their rows.
 * A row that several pushes share (a local-time wave's zone groups) is `sent` once any of them is delivered: a dead
 * letter never turns it back to `failed`, so `failed` means none of its pushes arrived.
 */
export const setPushStatus = (d1: D1Database, notificationId: string, playerIds: string[], status: "sent" | "failed", at: number) =>
  d1
    .prepare(
      `UPDATE notification_queue SET status = CASE WHEN ?1 = 'failed' AND status = 'sent' THEN status ELSE ?1 END,
         sent_at = CASE WHEN ?1 = 'sent' THEN ?2 ELSE sent_at END
       WHERE notification_id = ?3 OR notification_id IN (SELECT ?3 || ':' || value FROM json_each(?4))`,
    )
    .bind(status, at, notificationId, JSON.stringify(playerIds))
    .run();

export const countPushFailure = (d1: D1Database, notificationId: string) =>
  d1.prepare("UPDATE notification_queue SET push_failures = push_failures + 1 WHERE notification_id = ?").bind(notificationId).run();

/** Privacy erasure: the player's own notification rows and their shown/clicked records go; broadcasts name no one. */
export const eraseNotificationStatements = (d1: D1Database, playerId: string) => [
  { name: "notification_queue", statement: d1.prepare("DELETE FROM notification_queue WHERE target_player_id = ?").bind(playerId) },
  { name: "notification_interactions", statement: d1.prepare("DELETE FROM notification_interactions WHERE player_id = ?").bind(playerId) },
];
