// The D1 tables of issue 14: raw telemetry, hourly rollups and first-day snapshots, event reports, alerts and the
// health figures they read. Re-exported by schema.ts, so drizzle-kit and every module see one schema.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Game telemetry from game servers (POST /v1/telemetry/sessions): the active-player denominators. Purged after retention. */
export const telemetrySessions = sqliteTable(
  "telemetry_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    playerId: text("player_id").notNull(),
    start: integer("start").notNull(),
    durationSec: integer("duration_sec").notNull(),
    /** start + durationSec, so "active in a window" is one range test on an index. */
    endsAt: integer("ends_at").notNull(),
    platform: text("platform").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    index("idx_sessions_start").on(t.start, t.endsAt, t.playerId),
    index("idx_sessions_player").on(t.playerId, t.start),
    // The hourly profile job's watermark (issue 15): players whose telemetry arrived since its last run.
    index("idx_sessions_received").on(t.receivedAt, t.playerId),
  ],
);

/** Purchases from game servers (POST /v1/telemetry/purchases): revenue for RPPU and conversion. Purged after retention. */
export const telemetryPurchases = sqliteTable(
  "telemetry_purchases",
  {
    purchaseId: text("purchase_id").primaryKey(),
    playerId: text("player_id").notNull(),
    amount: real("amount").notNull(),
    currency: text("currency").notNull(),
    sku: text("sku").notNull(),
    eventId: text("event_id"),
    at: integer("at").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    index("idx_purchases_at").on(t.at, t.playerId),
    index("idx_purchases_event").on(t.eventId, t.at),
    index("idx_purchases_player").on(t.playerId, t.at),
    index("idx_purchases_received").on(t.receivedAt, t.playerId),
  ],
);

/** Hourly rollups per event, computed by the cron trigger and at expiry (never on a request's path). */
export const eventRollups = sqliteTable(
  "event_rollups",
  {
    eventId: text("event_id").notNull(),
    /** Start of the hour, epoch ms. */
    hour: integer("hour").notNull(),
    joins: integer("joins").notNull(),
    activePlayers: integer("active_players").notNull(),
    purchases: integer("purchases").notNull(),
    revenue: real("revenue").notNull(),
    computedAt: integer("computed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.hour] })],
);

/**
 * Per event, what analytics must keep beyond raw telemetry's retention, and the report job's state: the first-day
 * figures (players active in the first 24 h, and how many of them joined) snapshotted once that day is over, so a
 * long event's participation rate does not depend on purged sessions; and the report row's failures (after the
 * last attempt it gives up, logs, and GET …/report says so).
 */
export const eventAnalytics = sqliteTable("event_analytics", {
  eventId: text("event_id").primaryKey(),
  /**
   * Telemetry before this instant has been kept (rollups, payers, active players, first-day figures; db/rollups.ts),
   * and the purge never passes it: the report reads kept figures before it and raw telemetry from it on.
   */
  keptBefore: integer("kept_before"),
  firstDayActive: integer("first_day_active"),
  firstDayJoined: integer("first_day_joined"),
  firstDayAt: integer("first_day_at"),
  reportFailures: integer("report_failures").notNull().default(0),
  reportError: text("report_error"),
  reportGaveUpAt: integer("report_gave_up_at"),
});

/**
 * An event's payers as kept from purchases about to be purged (revenue and count of those purchases), so a long
 * event's revenue, payers, RPPU and conversion outlive raw telemetry. Raw player ids: erased to the pseudonym.
 */
export const eventPayers = sqliteTable(
  "event_payers",
  {
    eventId: text("event_id").notNull(),
    playerId: text("player_id").notNull(),
    revenue: real("revenue").notNull(),
    purchases: integer("purchases").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.playerId] }), index("idx_event_payers_player").on(t.playerId)],
);

/**
 * Players active during an event (a session overlapping its window), kept from sessions about to be purged: the
 * non-participants' retention group of a long event. Deleted once the event's report has its 7-day retention.
 */
export const eventActivePlayers = sqliteTable(
  "event_active_players",
  {
    eventId: text("event_id").notNull(),
    playerId: text("player_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.playerId] }), index("idx_event_active_player").on(t.playerId)],
);

/** Each event's report: generated at expiry (final) and refreshed hourly until its 7-day retention is known. */
export const eventReports = sqliteTable(
  "event_reports",
  {
    eventId: text("event_id").primaryKey(),
    templateId: text("template_id").notNull(),
    generatedAt: integer("generated_at").notNull(),
    report: text("report", { mode: "json" }).notNull(),
    engagementScore: real("engagement_score"),
    completionRate: real("completion_rate"),
    rppu: real("rppu"),
    /** The reports webhook's answer (null: not posted, or no webhook configured) and when it was accepted. */
    webhookStatus: integer("webhook_status"),
    postedAt: integer("posted_at"),
  },
  (t) => [index("idx_reports_template").on(t.templateId)],
);

/**
 * Alerts (issue 14): one row per alert ever opened; at most one open per (scope, kind), scope being an event id or
 * "*" for the Worker as a whole. Written by src/db/alerts.ts only.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    alertId: text("alert_id").primaryKey(),
    scope: text("scope").notNull(),
    kind: text("kind").notNull(),
    severity: text("severity").notNull(),
    state: text("state").notNull(),
    value: real("value"),
    threshold: real("threshold").notNull(),
    openedAt: integer("opened_at").notNull(),
    evaluatedAt: integer("evaluated_at").notNull(),
    resolvedAt: integer("resolved_at"),
    /** "system" when the condition cleared, else the operator who resolved it, with their reason. */
    resolvedBy: text("resolved_by"),
    resolveReason: text("resolve_reason"),
    /** Resolved by hand while still breached: not reopened until the condition clears once. */
    silenced: integer("silenced").notNull().default(0),
    /** The alerts webhook delivery owed ("opened" | "resolved"), its attempts and the last answer. */
    deliveryPending: text("delivery_pending"),
    deliveryAttempts: integer("delivery_attempts").notNull().default(0),
    webhookStatus: integer("webhook_status"),
  },
  (t) => [
    uniqueIndex("uq_alerts_open").on(t.scope, t.kind).where(sql`state = 'open'`),
    index("idx_alerts_state").on(t.state, t.openedAt),
    index("idx_alerts_scope").on(t.scope, t.kind),
    // The per-minute run's own questions, on the few rows they concern rather than the whole table.
    index("idx_alerts_pending").on(t.evaluatedAt).where(sql`delivery_pending IS NOT NULL`),
    index("idx_alerts_silenced").on(t.scope, t.kind).where(sql`silenced = 1`),
    index("idx_alerts_resolved").on(t.resolvedAt).where(sql`state = 'resolved'`),
  ],
);

/** Progress shards' write-behind health per minute: successful drains and the failed attempts before them. */
export const syncHealth = sqliteTable(
  "sync_health",
  {
    eventId: text("event_id").notNull(),
    shard: integer("shard").notNull(),
    minute: integer("minute").notNull(),
    drains: integer("drains").notNull(),
    failures: integer("failures").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.shard, t.minute] }), index("idx_sync_health_minute").on(t.minute)],
);

/** Worker response times: one histogram per isolate per minute (src/domain/histogram.ts buckets), kept minutes. */
export const responseHistograms = sqliteTable(
  "response_histograms",
  {
    isolate: text("isolate").notNull(),
    minute: integer("minute").notNull(),
    samples: integer("samples").notNull(),
    /** JSON object, bucket → count. */
    buckets: text("buckets").notNull(),
  },
  (t) => [primaryKey({ columns: [t.isolate, t.minute] }), index("idx_response_histograms_minute").on(t.minute)],
);
