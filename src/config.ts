import { isKnownZone } from "./domain/local-time";

// Tunables come from wrangler [vars] (strings). Bad values fall back to the seed's defaults rather than
// breaking every request: a typo in wrangler.toml should not take the service down.
import { DEFAULT_ADAPTIVE, type AdaptiveSettings } from "./domain/adaptive";

export type Config = {
  maxConcurrent: number;
  maxConcurrentSameType: number;
  majorGapHours: number;
  maxWindowDays: number;
  /** A recurring series keeps its occurrences materialized as events this many days ahead (a series may ask for another). */
  seriesHorizonDays: number;
  /** The zone of a player whose token has no `tz` claim (local-time events); an IANA id, "UTC" when unset or unknown. */
  defaultPlayerTimeZone: string;
  activationMaxRetries: number;
  activationRetryBaseMs: number;
  inventoryCapacitySlots: number;
  claimRateLimitPerMinute: number;
  socketMessagesPerSecond: number;
  /** Open sockets one player may hold on one event; a new one past this closes their oldest. */
  maxSocketsPerPlayer: number;
  /** One player's progress budget on one event, HTTP and sockets together: requests, and the updates they carry. */
  playerProgressRequestsPerSecond: number;
  playerProgressUpdatesPerSecond: number;
  /** Largest progress request body, and largest socket frame, in bytes. */
  progressMaxBytes: number;
  /** Frames each progress shard keeps for sockets that reconnect with ?since=. */
  liveReplayFrames: number;
  notificationPopupsPerDay: number;
  /** The game's inventory endpoint; null hands rewards to the built-in ledger instead. */
  inventoryWebhookUrl: string | null;
  /** Signs inventory webhook deliveries; without its own secret, the receipt-signing one. */
  inventoryWebhookSecret: string;
  /**
   * Names this deployment in the iCalendar feed (UID `<eventId>@<domain>`, PRODID). Fixed by config rather than taken
   * from the request, so one event keeps one UID whichever hostname the feed is fetched through.
   */
  calendarDomain: string;
  /**
   * Browser origins allowed to call the player API (and read /openapi.json) cross-origin, exact (`https://game.example`)
   * or `*`. Empty: no CORS headers at all, so browsers on other origins are refused.
   */
  corsOrigins: string[];
  /** The same for /v1/admin (an ops console served elsewhere); empty unless set. */
  adminCorsOrigins: string[];
  /** Raw telemetry (sessions, purchases) older than this many days is purged by the hourly cron. */
  telemetryRetentionDays: number;
  /** Where each event's report is POSTed at expiry (signed like the other webhooks); null: stored only. */
  reportsWebhookUrl: string | null;
  reportsWebhookSecret: string;
  /** Statistical anti-cheat (domain/anticheat.ts): the smallest population compared with, the outlier threshold in
   * standard deviations, how often an active event's rates are judged, and how long a flag waits before a still-outlying
   * player is escalated to under_review; the most one gap between a player's updates adds to their active time. */
  anticheat: { minSample: number; sigma: number; intervalMs: number; reviewAfterMs: number; activeGapMs: number };
  /** Adaptive difficulty (domain/adaptive.ts, README Personalization): ADAPTIVE_* vars over DEFAULT_ADAPTIVE. */
  adaptive: AdaptiveSettings;
  /** Where alerts are POSTed when they open and resolve (signed like the other webhooks); null: listed only. */
  alertsWebhookUrl: string | null;
  alertsWebhookSecret: string;
  /** Queue names as the platform reports them in batch.queue; they must match the [[queues.*]] sections. */
  queues: { inventoryDeliveries: string; push: string; pushDeadLetter: string };
};

/** `.invalid` is reserved (RFC 2606): it can never collide with a real domain's UIDs. Set your own in production. */
export const DEFAULT_CALENDAR_DOMAIN = "live-events.invalid";

/** A comma-separated list setting, trimmed, blanks dropped. */
function list(value: unknown): string[] {
  return typeof value === "string" ? value.split(",").map((v) => v.trim()).filter((v) => v !== "") : [];
}

function num(value: unknown, fallback: number, min = 0): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(n) && n >= min ? n : fallback;
}

/** A number within [min, max]; the fallback otherwise. */
function bounded(value: unknown, fallback: number, min: number, max: number): number {
  const n = num(value, fallback, min);
  return n <= max ? n : fallback;
}

/** A set, non-blank string setting, trimmed; the fallback otherwise. */
function text<F extends string | null>(value: unknown, fallback: F): string | F {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback;
}

export function readConfig(env: object): Config {
  const e = env as Record<string, unknown>;
  return {
    maxConcurrent: num(e.MAX_CONCURRENT_EVENTS, 4, 1),
    maxConcurrentSameType: num(e.MAX_CONCURRENT_SAME_TYPE, 2, 1),
    majorGapHours: num(e.MAJOR_EVENT_GAP_HOURS, 48),
    maxWindowDays: num(e.MAX_EVENT_WINDOW_DAYS, 90, 1),
    seriesHorizonDays: Math.min(num(e.SERIES_HORIZON_DAYS, 30, 1), 365),
    defaultPlayerTimeZone: typeof e.DEFAULT_PLAYER_TIME_ZONE === "string" && isKnownZone(e.DEFAULT_PLAYER_TIME_ZONE.trim()) ? e.DEFAULT_PLAYER_TIME_ZONE.trim() : "UTC",
    activationMaxRetries: num(e.ACTIVATION_MAX_RETRIES, 3),
    activationRetryBaseMs: num(e.ACTIVATION_RETRY_BASE_MS, 1000, 1),
    inventoryCapacitySlots: num(e.INVENTORY_CAPACITY_SLOTS, 500),
    claimRateLimitPerMinute: num(e.CLAIM_RATE_LIMIT_PER_MINUTE, 60, 1),
    socketMessagesPerSecond: num(e.SOCKET_MESSAGES_PER_SECOND, 20, 1),
    maxSocketsPerPlayer: Math.floor(num(e.MAX_SOCKETS_PER_PLAYER, 3, 1)),
    playerProgressRequestsPerSecond: num(e.PLAYER_PROGRESS_REQUESTS_PER_SECOND, 10, 0.1),
    playerProgressUpdatesPerSecond: num(e.PLAYER_PROGRESS_UPDATES_PER_SECOND, 200, 1),
    // At least 1 KB: below that a valid single-update request could not get through.
    progressMaxBytes: Math.floor(num(e.PROGRESS_MAX_BYTES, 64 * 1024, 1024)),
    liveReplayFrames: Math.floor(num(e.LIVE_REPLAY_FRAMES, 1000, 1)),
    notificationPopupsPerDay: num(e.NOTIFICATION_POPUPS_PER_DAY, 3),
    inventoryWebhookUrl: text(e.INVENTORY_WEBHOOK_URL, null),
    calendarDomain: text(e.CALENDAR_DOMAIN, DEFAULT_CALENDAR_DOMAIN),
    inventoryWebhookSecret: (e.INVENTORY_WEBHOOK_SECRET as string | undefined) ?? String(e.REWARD_SIGNING_SECRET ?? ""),
    // At least 9: the 7-day retention KPI reads sessions up to 7 days after an event's end, and the first-day
    // snapshot needs a day or two after the first day to be taken (the hourly cron) while its sessions are all there.
    telemetryRetentionDays: num(e.TELEMETRY_RETENTION_DAYS, 35, 9),
    reportsWebhookUrl: text(e.REPORTS_WEBHOOK_URL, null),
    reportsWebhookSecret: (e.REPORTS_WEBHOOK_SECRET as string | undefined) ?? String(e.REWARD_SIGNING_SECRET ?? ""),
    alertsWebhookUrl: text(e.ALERTS_WEBHOOK_URL, null),
    alertsWebhookSecret: (e.ALERTS_WEBHOOK_SECRET as string | undefined) ?? String(e.REWARD_SIGNING_SECRET ?? ""),
    corsOrigins: list(e.CORS_ORIGINS),
    adminCorsOrigins: list(e.ADMIN_CORS_ORIGINS),
    anticheat: {
      minSample: Math.floor(num(e.ANTICHEAT_MIN_SAMPLE, 30, 2)),
      sigma: num(e.ANTICHEAT_SIGMA, 3, 0.5),
      intervalMs: num(e.ANTICHEAT_INTERVAL_SECONDS, 60, 1) * 1000,
      reviewAfterMs: num(e.ANTICHEAT_REVIEW_AFTER_SECONDS, 3600, 0) * 1000,
      activeGapMs: num(e.ANTICHEAT_ACTIVE_GAP_SECONDS, 120, 1) * 1000,
    },
    adaptive: {
      enabled: text(e.ADAPTIVE_ENABLED, "true") !== "false",
      targetFactor: Math.min(1, num(e.ADAPTIVE_TARGET_FACTOR, DEFAULT_ADAPTIVE.targetFactor, 0.05)),
      minElapsedMs: num(e.ADAPTIVE_MIN_ELAPSED_MINUTES, DEFAULT_ADAPTIVE.minElapsedMs / 60_000) * 60_000,
      stallMs: num(e.ADAPTIVE_STALL_MINUTES, DEFAULT_ADAPTIVE.stallMs / 60_000, 1) * 60_000,
      playingMs: num(e.ADAPTIVE_PLAYING_MINUTES, DEFAULT_ADAPTIVE.playingMs / 60_000, 1) * 60_000,
      checkEveryMs: num(e.ADAPTIVE_CHECK_MINUTES, DEFAULT_ADAPTIVE.checkEveryMs / 60_000, 1) * 60_000,
      assistItem: text(e.ADAPTIVE_ASSIST_ITEM, DEFAULT_ADAPTIVE.assistItem),
      // 0–50 %: a negative share, or one holding back most players from the help it measures, is a typo (the default).
      holdoutShare: bounded(e.ADAPTIVE_HOLDOUT_PERCENT, DEFAULT_ADAPTIVE.holdoutShare * 100, 0, 50) / 100,
    },
    queues: {
      inventoryDeliveries: text(e.QUEUE_INVENTORY_DELIVERIES, "inventory-deliveries"),
      push: text(e.QUEUE_PUSH, "push-notifications"),
      pushDeadLetter: text(e.QUEUE_PUSH_DLQ, "push-notifications-dlq"),
    },
  };
}
