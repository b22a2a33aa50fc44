// The notification schedule of one event, kept by its EventActor next to the lifecycle timers (the seed's
// ScheduleNotification / CancelScheduledNotifications). Timed notifications are ("notify", type) rows in the actor's
// schedule, recomputed from the pure timetable after every change; each type fires exactly once. Rows and frames are
// built by the domain's notice builders; this class only delivers them.
import { notificationStatements } from "../../db/notifications";
import { stateFrame } from "../../domain/live";
import type { EventInstance } from "../../domain/model";
import {
  BROADCAST_TYPES,
  alreadySent,
  anchorOf,
  eventNotice,
  eventNotificationPlan,
  firedStatus,
  notificationFrame,
  notificationRow,
  plannedRows,
  type Notice,
  type FiredType,
  type NotificationType,
  type PlannedNotificationRow,
} from "../../domain/notifications";
import type { PushMessage, UnclaimedWarning } from "../contracts";

export type { FiredType };
type Firing = { type: FiredType; round: number; anchor: number; at: number };
import { progressShardActor } from "../stubs";

const FIRED_TYPES: readonly FiredType[] = ["preview", "urgency", "expiration_warning", "auto_claim_warning", "start"];
const WAVED: readonly FiredType[] = ["preview", "urgency", "expiration_warning", "start"];
/** A push message names at most this many players: far under the 128 KB message limit. */
const PLAYERS_PER_PUSH = 100;
/** Queues take at most 100 messages per sendBatch. */
const MESSAGES_PER_SEND = 100;

/** The part of the actor's Schedule the timetable lives in: ("notify", type) rows. */
type NotifySchedule = {
  set(kind: "notify", dueAt: number, key: string): void;
  cancel(kind: "notify", key?: string): void;
  list(kind: "notify"): { key: string; dueAt: number }[];
};

export class EventNotifications {
  constructor(
    private readonly sql: SqlStorage,
    private readonly schedule: NotifySchedule,
    private readonly env: Env,
  ) {}

  /** The latest firing of each type: its round and the anchor (start or end) it spoke about. */
  fired(): Map<FiredType, { round: number; anchor: number }> {
    const rows = this.sql.exec<{ type: FiredType; round: number; anchor: number }>("SELECT type, round, anchor FROM notified ORDER BY round").toArray();
    return new Map(rows.map((r) => [r.type, { round: r.round, anchor: r.anchor }]));
  }

  private firedAnchors(): Map<FiredType, number> {
    return new Map([...this.fired()].map(([t, f]) => [t, f.anchor]));
  }

  /** Replaces the pending notify rows with the plan for the instance as it is now. Call inside a transaction. */
  sync(instance: EventInstance, now: number) {
    const plan = eventNotificationPlan(instance, this.firedAnchors(), now);
    // A local-time event tells players per zone group instead (./waves.ts); only the auto-claim warning, which is
    // about the envelope's end, stays event-wide.
    if (instance.localTime) for (const type of WAVED) delete plan[type];
    for (const type of FIRED_TYPES) {
      const at = plan[type];
      if (at === undefined) this.schedule.cancel("notify", type);
      else this.schedule.set("notify", at, type);
    }
  }

  /**
   * Sends one notification: live frames through the shards, rows in D1, push work on the queue. Any failure throws
   * and the schedule retries the whole step; every part is idempotent (ids fixed by type and round, INSERT OR IGNORE,
   * push idempotency keys). Returns the firing for the caller to record, or null if it had already gone out.
   */
  async fire(type: FiredType, instance: EventInstance, shardNos: number[], now: number): Promise<Firing | null> {
    const latest = this.fired().get(type);
    if (alreadySent(type, latest?.anchor, instance)) return null;
    const shards = shardNos.map((n) => progressShardActor(this.env, instance.eventId, n));
    const anchor = anchorOf(type, instance);
    const round = (latest?.round ?? -1) + 1;
    const opts = { round, leftMs: anchor - now };
    let targets: string[] | "all" = "all";
    if (BROADCAST_TYPES.includes(type)) {
      const frame = notificationFrame(eventNotice(type, instance, "all", opts), now);
      await Promise.all(shards.map((s) => s.broadcast(frame)));
      if (type === "urgency") {
        const ending = stateFrame(instance, "ending_soon", now);
        await Promise.all(shards.map((s) => s.broadcast(ending)));
      }
    } else {
      const lists = await Promise.all(shards.map((s) => s.notifyUnclaimed(type as UnclaimedWarning, { eventName: instance.name, ...opts })));
      targets = lists.flat();
    }
    const notice = eventNotice(type, instance, targets, opts);
    const status = firedStatus(targets);
    await this.env.DB.batch(notificationStatements(this.env.DB, [notificationRow(notice, now, status)]));
    if (status !== "skipped") await this.enqueuePush(notice, targets);
    return { type, round, anchor, at: now };
  }

  /**
   * Records a firing and re-plans from the instance as it is now, in one transaction: a change that landed while the
   * firing was in flight planned without knowing of it, and must not leave a second copy booked.
   */
  recordFiring(f: Firing, instance: EventInstance) {
    this.sql.exec("INSERT OR IGNORE INTO notified (type, round, anchor, fired_at) VALUES (?, ?, ?, ?)", f.type, f.round, f.anchor, f.at);
    this.sync(instance, f.at);
  }

  /** Event-level rows for the D1 record: pending ones with their time; unfired types no longer planned, cancelled. */
  planRows(instance: EventInstance, now: number): PlannedNotificationRow[] {
    const planned = new Map(this.schedule.list("notify").map((r) => [r.key as FiredType, r.dueAt]));
    return plannedRows(instance.eventId, FIRED_TYPES, planned, this.fired(), now);
  }

  private async enqueuePush(n: Notice, targets: string[] | "all") {
    const base = { notificationId: n.notificationId, eventId: n.eventId, type: n.type, title: n.title, body: n.body };
    const messages: PushMessage[] =
      targets === "all"
        ? [{ ...base, audience: "all", batch: 0 }]
        : Array.from({ length: Math.ceil(targets.length / PLAYERS_PER_PUSH) }, (_, i) => ({
            ...base,
            audience: "players" as const,
            playerIds: targets.slice(i * PLAYERS_PER_PUSH, (i + 1) * PLAYERS_PER_PUSH),
            batch: i,
          }));
    for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
      await this.env.PUSH_QUEUE.sendBatch(messages.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
    }
  }
}
