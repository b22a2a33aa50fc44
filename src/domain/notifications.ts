// The seed's Notification Service: which notifications an event sends, when, and how a player sees them.
// Pure: the EventActor owns the schedule table and the delivery; this module only says what should be pending.
import { AUTO_CLAIM_WARNING_AT_MS, GRACE_PERIOD_MS } from "./lifecycle";
import type { ServerFrame } from "./live";
import type { EventState } from "./model";
import { DAY_MS, HOUR_MS, MINUTE_MS, compareStrings as cmp, iso } from "./time";

export const NOTIFICATION_TYPES = ["preview", "start", "milestone", "urgency", "expiration_warning", "auto_claim_warning"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
/** The types driven by the clock. "start" and "milestone" are fired by activation and progress, never by a timer. */
export type TimedNotification = "preview" | "urgency" | "expiration_warning" | "auto_claim_warning";
/** What an event object fires itself (milestones are the shards'). */
export type FiredType = TimedNotification | "start";
export type Display = "popup" | "banner" | "feed";

/** A notification as the record keeps it (D1 notification_queue); built here, written by db/notifications. */
export type NotificationRow = {
  notificationId: string;
  eventId: string;
  type: NotificationType;
  playerId: string | null;
  scheduledTime: number;
  payload: string;
  createdAt: number;
  /** Defaults to pending (awaiting push); rows with no push leg are written as sent, and one with nobody to tell as skipped. */
  status?: "pending" | "sent" | "skipped";
};
/**
 * A planned, not yet fired, event-level notification: pending at its time, or cancelled. `round` > 0 is a re-arm for a
 * moved window: cancelling one that was never planned must not create a row for it.
 */
export type PlannedNotificationRow = Omit<NotificationRow, "status"> & { status: "pending" | "cancelled"; round: number };

export const PREVIEW_LEAD_MS = 24 * HOUR_MS;
export const URGENCY_LEAD_MS = 2 * HOUR_MS;
export const EXPIRATION_WARNING_LEAD_MS = 1 * HOUR_MS;

export const DISPLAY_OF: Record<NotificationType, Display> = {
  preview: "banner",
  start: "popup",
  milestone: "popup",
  urgency: "banner",
  expiration_warning: "popup",
  auto_claim_warning: "popup",
};

export const DISPLAY_RANK: Record<Display, number> = { popup: 3, banner: 2, feed: 1 };

/**
 * The pending timed notifications an event should have right now, given its state and window and which types have
 * already fired. Pure function of the event's windows; the event object keeps exactly these rows in its schedule table.
 *
 * Like lifecycleTimers, the result is recomputed after every transition or reschedule and replaces the pending rows,
 * so a moved window never leaves a stale reminder behind.
 */
export function notificationTimetable(
  e: { state: EventState; startTime: number; endTime: number },
  fired: ReadonlyMap<FiredType, number>,
  now: number,
): Partial<Record<TimedNotification, number>> {
  const out: Partial<Record<TimedNotification, number>> = {};
  const put = (type: TimedNotification, at: number) => {
    if (rearmed(fired.get(type), at)) out[type] = at;
  };

  switch (e.state) {
    case "scheduled": {
      // A late preview is still worth sending while the event is upcoming (created < 24 h ahead, or moved closer):
      // players would otherwise meet the event with no warning. Once it has started, "start" covers it.
      if (now < e.startTime) put("preview", Math.max(e.startTime - PREVIEW_LEAD_MS, now));
      // End-of-event reminders are armed on activation, so a reschedule only ever has to move the preview.
      break;
    }
    case "active": {
      // A late "ending soon" is noise (a short event, or a resume after end − 2 h): drop it rather than send it late.
      const urgencyAt = e.endTime - URGENCY_LEAD_MS;
      if (urgencyAt >= now) put("urgency", urgencyAt);
      // The expiration warning guards unclaimed rewards, which stay claimable until the end, so it is sent late.
      if (now < e.endTime) put("expiration_warning", Math.max(expirationWarningAt(e), now));
      break;
    }
    case "expired": {
      // Useful only while the auto-claim has not yet run; if the actor is late, send it at once rather than never.
      if (now < e.endTime + GRACE_PERIOD_MS) put("auto_claim_warning", Math.max(e.endTime + AUTO_CLAIM_WARNING_AT_MS, now));
      break;
    }
    // paused: players cannot act, so reminders are cancelled and recomputed on resume (possibly with a new end).
    // cancelled / archived / failed_activation: the event will not run (again); nothing to say.
    default:
      break;
  }
  return out;
}

/**
 * When a window moves after a notification fired, is it sent again? Each firing is recorded with its anchor (the
 * instant it spoke about: the start for a preview, the end for the others). It is sent again only if its new time
 * falls after that old anchor: the old message ("starts tomorrow", "ends in 2 hours") has then been false for its
 * whole lead, so players need a new one. A smaller move keeps the first message, so nobody hears the same thing twice
 * about the same window.
 */
export function rearmed(firedAnchor: number | undefined, plannedAt: number): boolean {
  return firedAnchor === undefined || plannedAt >= firedAnchor;
}

/**
 * Everything an event object should have pending: the timed notifications, plus "start", which is not timed: it is
 * due the moment the event is active, once.
 */
export function eventNotificationPlan(
  e: { state: EventState; startTime: number; endTime: number },
  fired: ReadonlyMap<FiredType, number>,
  now: number,
): Partial<Record<FiredType, number>> {
  const plan: Partial<Record<FiredType, number>> = notificationTimetable(e, fired, now);
  if (e.state === "active" && !fired.has("start")) plan.start = now;
  return plan;
}

/**
 * A due row for a type that already went out for the window as it is now (the row outlived a firing that a change
 * raced with): sending it again would tell players the same thing twice.
 */
export function alreadySent(type: FiredType, firedAnchor: number | undefined, e: { startTime: number; endTime: number }): boolean {
  return firedAnchor !== undefined && firedAnchor === anchorOf(type, e);
}

/** A targeted warning that found nobody to warn is over the moment it fires: no push will ever mark it sent. */
export function firedStatus(targets: readonly string[] | "all"): "skipped" | undefined {
  return targets !== "all" && targets.length === 0 ? "skipped" : undefined;
}

/** The instant a notification speaks about: the start, the end, or (for the auto-claim warning) the auto-claim. */
export function anchorOf(type: FiredType, e: { startTime: number; endTime: number }): number {
  if (type === "preview" || type === "start") return e.startTime;
  return type === "auto_claim_warning" ? e.endTime + GRACE_PERIOD_MS : e.endTime;
}

/**
 * One hour before the end, but never before the event's midpoint: a 20-minute event warns 10 minutes before it ends
 * rather than at its very start, when nobody has anything to claim yet.
 */
export function expirationWarningAt(e: { startTime: number; endTime: number }): number {
  // Whole milliseconds: the schedule and the alarm keep integers.
  return e.endTime - Math.floor(Math.min(EXPIRATION_WARNING_LEAD_MS, Math.max(0, e.endTime - e.startTime) / 2));
}

/** The UTC calendar day of an instant, as a day number: fatigue limits reset at 00:00 UTC for everybody. */
const utcDay = (at: number) => Math.floor(at / DAY_MS);

/**
 * Fatigue control: at most `popupsPerDay` popups per player per UTC day. Given one player's notifications (any order),
 * returns the display each one gets: its natural display, except that popups beyond the daily limit (counted in time order
 * within each UTC day) are demoted to "feed".
 */
export function assignDisplay<T extends { notificationId: string; type: NotificationType; at: number }>(
  items: T[],
  popupsPerDay: number,
): Map<string, Display> {
  // Ties in time are broken by id so the same set always demotes the same rows, whatever order storage returns.
  const ordered = [...items].sort((a, b) => a.at - b.at || cmp(a.notificationId, b.notificationId));
  const limit = Math.max(0, Math.floor(popupsPerDay));
  const popupsByDay = new Map<number, number>();
  const result = new Map<string, Display>();
  for (const item of ordered) {
    const natural = DISPLAY_OF[item.type];
    if (natural !== "popup") {
      result.set(item.notificationId, natural);
      continue;
    }
    const day = utcDay(item.at);
    const used = popupsByDay.get(day) ?? 0;
    // A demoted popup does not use up the allowance: the limit counts what the player actually saw as a popup.
    if (used < limit) {
      popupsByDay.set(day, used + 1);
      result.set(item.notificationId, "popup");
    } else {
      result.set(item.notificationId, "feed");
    }
  }
  return result;
}

/** Feed order: unseen first, then by display rank (popup > banner > feed), then newest first; ties by id. */
export function feedOrder<T extends { notificationId: string; at: number; seen: boolean; display: Display }>(items: T[]): T[] {
  return [...items].sort(
    (a, b) =>
      Number(a.seen) - Number(b.seen) ||
      DISPLAY_RANK[b.display] - DISPLAY_RANK[a.display] ||
      b.at - a.at ||
      cmp(a.notificationId, b.notificationId),
  );
}

/**
 * Deterministic ids so a re-fired alarm writes the same row (INSERT OR IGNORE): `${eventId}:${type}` for broadcasts,
 * `${eventId}:${type}:${playerId}` for per-player, and for milestones `${eventId}:milestone:${index}:${playerId}`.
 */
export function notificationId(eventId: string, type: NotificationType, playerId?: string, milestoneIndex?: number, round = 0): string {
  if (type === "milestone") {
    // Without both parts two different unlocks would share an id and the second would be silently ignored.
    if (playerId === undefined || milestoneIndex === undefined) {
      throw new RangeError("a milestone notification needs a playerId and a milestoneIndex");
    }
    return `${eventId}:milestone:${milestoneIndex}:${playerId}`;
  }
  // A notification sent again for a moved window (round 1, 2…) gets its own id, so the record, the feed and the push
  // provider's idempotency see a new notification; "#" keeps it apart from the per-player form.
  const base = round > 0 ? `${eventId}:${type}#${round + 1}` : `${eventId}:${type}`;
  return playerId === undefined ? base : `${base}:${playerId}`;
}

/** Who a notification goes to: everyone (a topic push, the feed of every player) or a list of players. */
export const BROADCAST_TYPES: readonly NotificationType[] = ["preview", "start", "urgency"];

/** The words players see. Games localise from `type` and `data`; these are the defaults. */
export function notificationText(type: NotificationType, eventName: string, data: { milestoneIndex?: number; unlockMessage?: string; leftMs?: number } = {}) {
  // Sent late or for a short event, the lead is not the usual one: say how long it really is.
  const left = (usual: number) => spell(data.leftMs ?? usual);
  switch (type) {
    case "preview":
      return data.leftMs === undefined || data.leftMs >= PREVIEW_LEAD_MS - HOUR_MS
        ? { title: `${eventName} starts tomorrow`, body: "Get ready: the event opens in 24 hours." }
        : { title: `${eventName} starts soon`, body: `Get ready: the event opens in ${left(PREVIEW_LEAD_MS)}.` };
    case "start":
      return { title: `${eventName} has started`, body: "Jump in and start collecting rewards." };
    case "milestone":
      return { title: "Milestone reached!", body: data.unlockMessage || `You unlocked milestone ${(data.milestoneIndex ?? 0) + 1} of ${eventName}.` };
    case "urgency":
      return { title: `${eventName} ends soon`, body: `Only ${left(URGENCY_LEAD_MS)} left.` };
    case "expiration_warning":
      return { title: `${eventName} ends in ${left(EXPIRATION_WARNING_LEAD_MS)}`, body: "You have unclaimed rewards: claim them before the event ends." };
    case "auto_claim_warning":
      return { title: "Your rewards will be auto-claimed", body: `Unclaimed rewards from ${eventName} will be sent to you automatically in 1 hour.` };
  }
}

/** "2 hours", "1 hour", "15 minutes", "1 minute": rounded to the nearest, never "0 minutes". */
function spell(ms: number): string {
  if (ms >= HOUR_MS - MINUTE_MS / 2) {
    const h = Math.round(ms / HOUR_MS);
    return `${h} hour${h === 1 ? "" : "s"}`;
  }
  const m = Math.max(1, Math.round(ms / MINUTE_MS));
  return `${m} minute${m === 1 ? "" : "s"}`;
}

// ---- one notification, as a record row and as a live frame -----------------------------------------------------------

/** Everything about one notification that its D1 row and its live frame are both built from. */
export type Notice = {
  notificationId: string;
  type: NotificationType;
  eventId: string;
  /** null for an event-wide notification. */
  playerId: string | null;
  title: string;
  body: string;
  /** Extra payload fields the feed and the game may use (milestone index, unclaimed milestones…). */
  data?: Record<string, unknown>;
};

/** An event-wide notification that fired, to everyone or to a list of players (counted in the payload). */
export function eventNotice(
  type: NotificationType,
  event: { eventId: string; name: string },
  targets: readonly string[] | "all",
  opts: { round?: number; leftMs?: number } = {},
): Notice {
  return {
    notificationId: notificationId(event.eventId, type, undefined, undefined, opts.round),
    type,
    eventId: event.eventId,
    playerId: null,
    ...notificationText(type, event.name, { leftMs: opts.leftMs }),
    data: targets === "all" ? { audience: "all" } : { audience: "players", targets: targets.length },
  };
}

/** A player's milestone unlock: delivered live and in the feed. */
export function milestoneNotice(event: { eventId: string; name: string }, playerId: string, milestone: { index: number; unlockMessage?: string }): Notice {
  return {
    notificationId: notificationId(event.eventId, "milestone", playerId, milestone.index),
    type: "milestone",
    eventId: event.eventId,
    playerId,
    ...notificationText("milestone", event.name, { milestoneIndex: milestone.index, unlockMessage: milestone.unlockMessage }),
    data: { milestoneIndex: milestone.index },
  };
}

/** A warning to one player who still has unclaimed rewards. */
export function unclaimedNotice(
  type: "expiration_warning" | "auto_claim_warning",
  event: { eventId: string; name: string; endTime: number },
  playerId: string,
  unclaimed: number[],
  opts: { round?: number; leftMs?: number } = {},
): Notice {
  return {
    notificationId: notificationId(event.eventId, type, playerId, undefined, opts.round),
    type,
    eventId: event.eventId,
    playerId,
    ...notificationText(type, event.name, { leftMs: opts.leftMs }),
    data: { unclaimedMilestones: unclaimed, autoClaimAt: iso(event.endTime + GRACE_PERIOD_MS) },
  };
}

/** The record's row. `status` is left to the table's default (pending: awaiting push) unless the notice has no push leg. */
export function notificationRow(n: Notice, now: number, status?: "sent" | "skipped"): NotificationRow {
  return {
    notificationId: n.notificationId,
    eventId: n.eventId,
    type: n.type,
    playerId: n.playerId,
    scheduledTime: now,
    payload: JSON.stringify({ title: n.title, body: n.body, display: DISPLAY_OF[n.type], ...n.data }),
    createdAt: now,
    ...(status ? { status } : {}),
  };
}

export function notificationFrame(n: Notice, now: number): ServerFrame {
  return { type: "notification", notificationId: n.notificationId, notificationType: n.type, eventId: n.eventId, title: n.title, body: n.body, display: DISPLAY_OF[n.type], at: iso(now) };
}

/** The event-level rows of notifications not yet fired: pending at their planned time, or cancelled if no longer planned. */
export function plannedRows(
  eventId: string,
  types: readonly FiredType[],
  planned: ReadonlyMap<FiredType, number>,
  fired: ReadonlyMap<FiredType, { round: number }>,
  now: number,
): PlannedNotificationRow[] {
  return types.map((t) => {
    // The row a firing would write next: round 0 for a type never sent, then one round per window it was re-armed for.
    const round = (fired.get(t)?.round ?? -1) + 1;
    return {
      notificationId: notificationId(eventId, t, undefined, undefined, round),
      eventId,
      type: t,
      playerId: null,
      scheduledTime: planned.get(t) ?? now,
      payload: "",
      createdAt: now,
      status: planned.has(t) ? "pending" : "cancelled",
      round,
    };
  });
}
