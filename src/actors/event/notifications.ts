// The notification schedule of one event, kept by its EventActor next to the lifecycle timers (the seed's
// ScheduleNotification / CancelScheduledNotifications). Timed notifications are rows "notify:<type>" in the actor's
// schedule table, recomputed from the pure timetable after every change; each type fires exactly once.
import { notificationStatements } from "../../db/notifications";
import type { NotificationRow, PlannedNotificationRow } from "../../domain/notifications";
import type { EventInstance } from "../../domain/model";
import {
  BROADCAST_TYPES,
  DISPLAY_OF,
  notificationId,
  notificationText,
  notificationTimetable,
  type NotificationType,
  type TimedNotification,
} from "../../domain/notifications";
import type { PushMessage } from "../../queues/push";
import { stateFrame } from "../../domain/live";
import { progressShardActor } from "../stubs";

const TIMED: readonly TimedNotification[] = ["preview", "urgency", "expiration_warning", "auto_claim_warning"];
export const NOTIFY_PREFIX = "notify:";
export type FiredType = TimedNotification | "start";
/** A push message names at most this many players: far under the 128 KB message limit. */
const PLAYERS_PER_PUSH = 100;

export class EventNotifications {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS notified (type TEXT PRIMARY KEY, fired_at INTEGER NOT NULL)");
  }

  fired(): Set<FiredType> {
    return new Set(this.sql.exec<{ type: FiredType }>("SELECT type FROM notified").toArray().map((r) => r.type));
  }

  /** Replaces the pending notify rows with the timetable for the instance as it is now. Call inside a transaction. */
  sync(instance: EventInstance, now: number) {
    const fired = this.fired();
    const plan: Partial<Record<FiredType, number>> = notificationTimetable(instance, fired as Set<TimedNotification>, now);
    // "start" is not timed: it is due the moment the event is active, once.
    if (instance.state === "active" && !fired.has("start")) plan.start = now;
    for (const type of [...TIMED, "start"] as FiredType[]) {
      const at = plan[type];
      if (at === undefined) this.sql.exec("DELETE FROM schedule WHERE kind = ?", NOTIFY_PREFIX + type);
      else this.sql.exec("INSERT INTO schedule (kind, due_at) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET due_at = excluded.due_at", NOTIFY_PREFIX + type, at);
    }
  }

  /**
   * Sends one notification: live frames through the shards, rows in D1, push work on the queue. Any failure throws
   * and the actor retries the whole step; every part is idempotent (fixed ids, INSERT OR IGNORE, push idempotency keys).
   */
  async fire(type: FiredType, instance: EventInstance, shardNos: number[], now: number): Promise<void> {
    const eventId = instance.eventId;
    const id = notificationId(eventId, type);
    const text = notificationText(type, instance.name);
    let targets: string[] | "all";
    if (BROADCAST_TYPES.includes(type as NotificationType)) {
      const frame = { type: "notification" as const, notificationId: id, notificationType: type, eventId, ...text, display: DISPLAY_OF[type], at: new Date(now).toISOString() };
      await Promise.all(shardNos.map((n) => progressShardActor(this.env, eventId, n).broadcast(frame)));
      if (type === "urgency") {
        const ending = stateFrame(instance, "ending_soon", now);
        await Promise.all(shardNos.map((n) => progressShardActor(this.env, eventId, n).broadcast(ending)));
      }
      targets = "all";
    } else {
      const lists = await Promise.all(
        shardNos.map((n) => progressShardActor(this.env, eventId, n).notifyUnclaimed(type as "expiration_warning" | "auto_claim_warning", instance.name)),
      );
      targets = lists.flat();
    }
    await this.env.DB.batch(notificationStatements(this.env.DB, [this.eventRow(type, instance, now, text, targets)]));
    await this.enqueuePush(id, eventId, type, text, targets);
    this.sql.exec("INSERT OR IGNORE INTO notified (type, fired_at) VALUES (?, ?)", type, now);
  }

  /** Event-level rows for the D1 record: pending ones with their time; unfired types no longer planned, cancelled. */
  planRows(instance: EventInstance, now: number): PlannedNotificationRow[] {
    const fired = this.fired();
    const planned = new Map(this.sql.exec<{ kind: string; due_at: number }>("SELECT kind, due_at FROM schedule WHERE kind LIKE 'notify:%'").toArray().map((r) => [r.kind.slice(NOTIFY_PREFIX.length), r.due_at]));
    return ([...TIMED, "start"] as FiredType[])
      .filter((t) => !fired.has(t))
      .map((t) => ({
        notificationId: notificationId(instance.eventId, t),
        eventId: instance.eventId,
        type: t,
        playerId: null,
        scheduledTime: planned.get(t) ?? now,
        payload: "",
        createdAt: now,
        status: planned.has(t) ? ("pending" as const) : ("cancelled" as const),
      }));
  }

  private eventRow(type: FiredType, instance: EventInstance, now: number, text: { title: string; body: string }, targets: string[] | "all"): NotificationRow {
    return {
      notificationId: notificationId(instance.eventId, type),
      eventId: instance.eventId,
      type,
      playerId: null,
      scheduledTime: now,
      payload: JSON.stringify({ ...text, display: DISPLAY_OF[type], audience: targets === "all" ? "all" : "players", targets: targets === "all" ? undefined : targets.length }),
      createdAt: now,
    };
  }

  private async enqueuePush(notificationId: string, eventId: string, type: FiredType, text: { title: string; body: string }, targets: string[] | "all") {
    const base = { notificationId, eventId, type, ...text };
    const messages: PushMessage[] =
      targets === "all"
        ? [{ ...base, audience: "all", batch: 0 }]
        : Array.from({ length: Math.ceil(targets.length / PLAYERS_PER_PUSH) }, (_, i) => ({
            ...base,
            audience: "players" as const,
            playerIds: targets.slice(i * PLAYERS_PER_PUSH, (i + 1) * PLAYERS_PER_PUSH),
            batch: i,
          }));
    // sendBatch takes at most 100 messages per call.
    for (let i = 0; i < messages.length; i += 100) await this.env.PUSH_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
  }
}
