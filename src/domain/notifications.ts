// The seed's Notification Service: which notifications an event sends, when, and how a player sees them.
// Pure: the EventActor owns the schedule table and the delivery; this module only says what should be pending.
import { AUTO_CLAIM_WARNING_AT_MS, GRACE_PERIOD_MS } from "./lifecycle";
import type { ServerFrame } from "./live";
import type { EventState } from "./model";
import { DAY_MS, HOUR_MS, compareStrings as cmp, iso } from "./time";

export const NOTIFICATION_TYPES = ["preview", "start", "milestone", "urgency", "expiration_warning", "auto_claim_warning"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
/** The types driven by the clock. "start" and "milestone" are fired by activation and progress, never by a timer. */
export type TimedNotification = "preview" | "urgency" | "expiration_warning" | "auto_claim_warning";
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
  /** Defaults to pending (awaiting push); rows with no push leg are written as sent. */
  status?: "pending" | "sent";
};
/** A planned, not yet fired, event-level notification: pending at its time, or cancelled. */
export type PlannedNotificationRow = Omit<NotificationRow, "status"> & { status: "pending" | "cancelled" };

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
  fired: ReadonlySet<TimedNotification>,
  now: number,
): Partial<Record<TimedNotification, number>> {
  const out: Partial<Record<TimedNotification, number>> = {};
  const put = (type: TimedNotification, at: number) => {
    if (!fired.has(type)) out[type] = at;
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
      if (now < e.endTime) put("expiration_warning", Math.max(e.endTime - EXPIRATION_WARNING_LEAD_MS, now));
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
export function notificationId(eventId: string, type: NotificationType, playerId?: string, milestoneIndex?: number): string {
  if (type === "milestone") {
    // Without both parts two different unlocks would share an id and the second would be silently ignored.
    if (playerId === undefined || milestoneIndex === undefined) {
      throw new RangeError("a milestone notification needs a playerId and a milestoneIndex");
    }
    return `${eventId}:milestone:${milestoneIndex}:${playerId}`;
  }
  return playerId === undefined ? `${eventId}:${type}` : `${eventId}:${type}:${playerId}`;
}

/** Who a notification goes to: everyone (a topic push, the feed of every player) or a list of players. */
export const BROADCAST_TYPES: readonly NotificationType[] = ["preview", "start", "urgency"];

/** The words players see. Games localise from `type` and `data`; these are the defaults. */
export function notificationText(type: NotificationType, eventName: string, data: { milestoneIndex?: number; unlockMessage?: string } = {}) {
  switch (type) {
    case "preview":
      return { title: `${eventName} starts tomorrow`, body: "Get ready: the event opens in 24 hours." };
    case "start":
      return { title: `${eventName} has started`, body: "Jump in and start collecting rewards." };
    case "milestone":
      return { title: "Milestone reached!", body: data.unlockMessage || `You unlocked milestone ${(data.milestoneIndex ?? 0) + 1} of ${eventName}.` };
    case "urgency":
      return { title: `${eventName} ends soon`, body: "Only 2 hours left." };
    case "expiration_warning":
      return { title: `${eventName} ends in 1 hour`, body: "You have unclaimed rewards: claim them before the event ends." };
    case "auto_claim_warning":
      return { title: "Your rewards will be auto-claimed", body: `Unclaimed rewards from ${eventName} will be sent to you automatically in 1 hour.` };
  }
}

/** An event-state frame's `change`, from the transition that caused it. */
export function stateChange(from: string | null, to: string): string {
  if (to === "active") return from === "paused" ? "resumed" : "activated";
  return to;
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
export function eventNotice(type: NotificationType, event: { eventId: string; name: string }, targets: readonly string[] | "all"): Notice {
  return {
    notificationId: notificationId(event.eventId, type),
    type,
    eventId: event.eventId,
    playerId: null,
    ...notificationText(type, event.name),
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
): Notice {
  return {
    notificationId: notificationId(event.eventId, type, playerId),
    type,
    eventId: event.eventId,
    playerId,
    ...notificationText(type, event.name),
    data: { unclaimedMilestones: unclaimed, autoClaimAt: iso(event.endTime + GRACE_PERIOD_MS) },
  };
}

/** The record's row. `status` is left to the table's default (pending: awaiting push) unless the notice has no push leg. */
export function notificationRow(n: Notice, now: number, status?: "sent"): NotificationRow {
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
export function plannedRows(eventId: string, types: readonly NotificationType[], planned: ReadonlyMap<NotificationType, number>, fired: ReadonlySet<NotificationType>, now: number): PlannedNotificationRow[] {
  return types
    .filter((t) => !fired.has(t))
    .map((t) => ({
      notificationId: notificationId(eventId, t),
      eventId,
      type: t,
      playerId: null,
      scheduledTime: planned.get(t) ?? now,
      payload: "",
      createdAt: now,
      status: planned.has(t) ? "pending" : "cancelled",
    }));
}
