// D1 is the queryable record. Durable Objects own the truth and project into these tables;
// templates are plain config and live only here. Times are epoch milliseconds.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const templates = sqliteTable(
  "templates",
  {
    templateId: text("template_id").primaryKey(),
    eventType: text("event_type").notNull(),
    tier: text("tier").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    objectives: text("objectives", { mode: "json" }).notNull(),
    milestones: text("milestones", { mode: "json" }).notNull(),
    progressionMechanics: text("progression_mechanics"),
    shardCount: integer("shard_count"),
    expectedParticipants: integer("expected_participants"),
    themeConfig: text("theme_config", { mode: "json" }).notNull(),
    uiLayoutConfig: text("ui_layout_config", { mode: "json" }).notNull(),
    requiresLeaderboard: integer("requires_leaderboard", { mode: "boolean" }).notNull().default(false),
    /** The board definition (domain/leaderboard BoardDefinition) events from this template rank players by; null: none. */
    leaderboard: text("leaderboard", { mode: "json" }),
    requiresClan: integer("requires_clan", { mode: "boolean" }).notNull().default(false),
    /** The clan definition (domain/model ClanDefinition) that makes events from this template cooperative; null: none. */
    clan: text("clan", { mode: "json" }),
    minimumPlayerLevel: integer("minimum_player_level").notNull().default(1),
    /** A designer's 1–5 rating (1 easy … 5 hardest) for recommendations; null: derived from the completion rate. */
    difficulty: integer("difficulty"),
    version: integer("version").notNull().default(1),
    usageCount: integer("usage_count").notNull().default(0),
    averageEngagementScore: real("average_engagement_score"),
    /** Template performance: means over the final reports of this template's events (event_reports). */
    averageCompletionRate: real("average_completion_rate"),
    averageRppu: real("average_rppu"),
    reportedEvents: integer("reported_events").notNull().default(0),
    lastUsed: integer("last_used"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("idx_templates_type").on(t.eventType, t.tier), index("idx_templates_usage").on(t.usageCount, t.averageEngagementScore)],
);

/**
 * Every saved version of a template, as the API reads it (the editable fields), with who saved it: the templates
 * library's history and diffs. Written in the same batch as the template's create or update.
 */
export const templateVersions = sqliteTable(
  "template_versions",
  {
    templateId: text("template_id").notNull(),
    version: integer("version").notNull(),
    document: text("document", { mode: "json" }).notNull(),
    savedAt: integer("saved_at").notNull(),
    savedBy: text("saved_by").notNull(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.version] })],
);

export const instances = sqliteTable(
  "instances",
  {
    eventId: text("event_id").primaryKey(),
    templateId: text("template_id").notNull().references(() => templates.templateId),
    templateVersion: integer("template_version").notNull(),
    eventType: text("event_type").notNull(),
    tier: text("tier").notNull(),
    state: text("state").notNull(),
    customName: text("custom_name").notNull(),
    customDescription: text("custom_description").notNull(),
    themeOverride: text("theme_override", { mode: "json" }).notNull(),
    objectives: text("objectives", { mode: "json" }).notNull(),
    milestones: text("milestones", { mode: "json" }).notNull(),
    rewardPool: text("reward_pool", { mode: "json" }).notNull(),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time").notNull(),
    minimumPlayerLevel: integer("minimum_player_level").notNull(),
    participantCount: integer("participant_count").notNull().default(0),
    completionCount: integer("completion_count").notNull().default(0),
    leaderboardId: text("leaderboard_id"),
    eligibleClanIds: text("eligible_clan_ids", { mode: "json" }).notNull(),
    /** The full instance document as the EventActor holds it, so reads never need the object. */
    document: text("document", { mode: "json" }).notNull(),
    /** The actor's revision: projections carry it so a late, older write never overwrites a newer one. */
    revision: integer("revision").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("idx_instances_state_time").on(t.state, t.startTime, t.endTime),
    index("idx_instances_template").on(t.templateId),
    index("idx_instances_start").on(t.startTime, t.eventId),
    // The alert run's ended events (ended or touched within a day): one range per column, not every ended event.
    index("idx_instances_state_end").on(t.state, t.endTime),
    index("idx_instances_state_updated").on(t.state, t.updatedAt),
  ],
);

export const eventTransitions = sqliteTable(
  "event_transitions",
  {
    eventId: text("event_id").notNull(),
    seq: integer("seq").notNull(),
    fromState: text("from_state"),
    toState: text("to_state").notNull(),
    at: integer("at").notNull(),
    cause: text("cause").notNull(),
    actor: text("actor").notNull(),
    reason: text("reason"),
    /** Structured audit data, e.g. which scheduling rules a forced create overrode. */
    details: text("details", { mode: "json" }),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.seq] }), index("idx_transitions_at").on(t.at)],
);

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).notNull(),
  updatedAt: integer("updated_at").notNull(),
  updatedBy: text("updated_by").notNull(),
});


/** The seed's player_progress, written behind the progress shards (idempotent, revision-guarded upserts). */
export const playerProgress = sqliteTable(
  "player_progress",
  {
    progressId: text("progress_id").primaryKey(),
    playerId: text("player_id").notNull(),
    eventId: text("event_id").notNull(),
    objectives: text("objectives", { mode: "json" }).notNull(),
    unlockedMilestones: text("unlocked_milestones", { mode: "json" }).notNull(),
    completion: real("completion").notNull(),
    lastSeq: integer("last_seq").notNull(),
    revision: integer("revision").notNull(),
    isSynced: integer("is_synced", { mode: "boolean" }).notNull().default(true),
    lastUpdated: integer("last_updated").notNull(),
    createdAt: integer("created_at").notNull(),
    /**
     * When D1 received this revision (D1's clock at the upsert). synced_at - last_updated is the write-behind lag of
     * the player's latest update: the progress-sync latency the analytics report measures.
     */
    syncedAt: integer("synced_at"),
  },
  (t) => [
    uniqueIndex("uq_player_progress").on(t.playerId, t.eventId),
    index("idx_event_progress").on(t.eventId, t.lastUpdated),
    index("idx_event_completion").on(t.eventId, t.completion),
    // The hourly profile job's watermark, (time, player id) keyset: players whose progress reached D1 since its last run.
    index("idx_progress_synced").on(t.syncedAt, t.playerId),
  ],
);

/**
 * Progress updates refused at ingest, for anti-cheat analysis: one row per player, event, objective and reason (a
 * code such as max_per_update), counted. Ids the event does not have are counted under objective "*" (clients choose
 * them freely). `shard_total` is the owning shard's own running total as last written: it makes a retried drain add
 * nothing twice, while `count` also holds what migration 0006 aggregated from the one-row-per-refusal table before it.
 */
export const progressFlags = sqliteTable(
  "progress_flags",
  {
    eventId: text("event_id").notNull(),
    playerId: text("player_id").notNull(),
    objectiveId: text("objective_id").notNull(),
    reason: text("reason").notNull(),
    count: integer("count").notNull(),
    shardTotal: integer("shard_total").notNull().default(0),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    /** The most recent refused amount, as text, and the reason in words (which names an unknown objective's id). */
    sampleAmount: text("sample_amount").notNull(),
    sampleDetail: text("sample_detail").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.playerId, t.objectiveId, t.reason] }),
    index("idx_flags_event").on(t.eventId, t.lastSeen),
    index("idx_flags_player").on(t.playerId, t.lastSeen),
  ],
);

/** The seed's rewards_claimed: one row per (player, event, milestone), ever. */
export const rewardsClaimed = sqliteTable(
  "rewards_claimed",
  {
    claimId: text("claim_id").primaryKey(),
    playerId: text("player_id").notNull(),
    eventId: text("event_id").notNull(),
    milestoneIndex: integer("milestone_index").notNull(),
    rewards: text("rewards", { mode: "json" }).notNull(),
    source: text("source").notNull(),
    signature: text("signature").notNull(),
    claimedAt: integer("claimed_at").notNull(),
  },
  (t) => [uniqueIndex("uq_rewards_claimed").on(t.playerId, t.eventId, t.milestoneIndex), index("idx_player_claims").on(t.playerId, t.eventId)],
);

/** Audit trail: one row per reward grant that reached a player's inventory (claim, auto-claim or inbox claim). */
export const rewardLedger = sqliteTable(
  "reward_ledger",
  {
    ledgerId: text("ledger_id").primaryKey(),
    playerId: text("player_id").notNull(),
    eventId: text("event_id").notNull(),
    milestoneIndex: integer("milestone_index").notNull(),
    source: text("source").notNull(),
    receiptId: text("receipt_id").notNull(),
    rewards: text("rewards", { mode: "json" }).notNull(),
    deliveredVia: text("delivered_via").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("idx_ledger_player").on(t.playerId, t.at), index("idx_ledger_event").on(t.eventId)],
);

/** The overflow inbox (30-day expiry). Expired items stay for audit. */
export const inboxItems = sqliteTable(
  "inbox_items",
  {
    itemId: text("item_id").primaryKey(),
    playerId: text("player_id").notNull(),
    eventId: text("event_id").notNull(),
    milestoneIndex: integer("milestone_index").notNull(),
    receiptId: text("receipt_id").notNull(),
    rewards: text("rewards", { mode: "json" }).notNull(),
    source: text("source").notNull(),
    reason: text("reason").notNull(),
    status: text("status").notNull(),
    arrivedAt: integer("arrived_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    claimedAt: integer("claimed_at"),
  },
  // idx_inbox_event_reason: the reward-error alert counts an event's recent delivery_failed items every minute.
  (t) => [index("idx_inbox_player").on(t.playerId, t.status), index("idx_inbox_event_reason").on(t.eventId, t.reason, t.arrivedAt)],
);

/** The seed's notification_queue: notifications that are due, for the notification service to deliver. */
export const notificationQueue = sqliteTable(
  "notification_queue",
  {
    notificationId: text("notification_id").primaryKey(),
    eventId: text("event_id").notNull(),
    notificationType: text("notification_type").notNull(),
    targetPlayerId: text("target_player_id"),
    scheduledTime: integer("scheduled_time").notNull(),
    sentAt: integer("sent_at"),
    status: text("status").notNull().default("pending"),
    payload: text("payload", { mode: "json" }),
    createdAt: integer("created_at").notNull(),
    /** Push attempts that failed: the analytics count of delivery failures. */
    pushFailures: integer("push_failures").notNull().default(0),
  },
  (t) => [
    index("idx_notifications_due").on(t.status, t.scheduledTime),
    index("idx_notifications_event").on(t.eventId, t.notificationType),
    // The player's feed: their own rows and the broadcasts (target NULL), each walked newest first within the window.
    index("idx_notifications_player").on(t.targetPlayerId, t.scheduledTime),
  ],
);

/** The seed's RecordNotificationShown / RecordNotificationClicked, per player. */
export const notificationInteractions = sqliteTable(
  "notification_interactions",
  {
    notificationId: text("notification_id").notNull(),
    playerId: text("player_id").notNull(),
    shownAt: integer("shown_at"),
    clickedAt: integer("clicked_at"),
  },
  (t) => [primaryKey({ columns: [t.notificationId, t.playerId] }), index("idx_interactions_player").on(t.playerId)],
);

/**
 * API keys for ops (kind operator, with a role) and game servers (kind server, with scopes). Only the SHA-256 of a
 * key is kept: the key is shown once at creation, and a copy of this table grants nothing.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    keyId: text("key_id").primaryKey(),
    kind: text("kind").notNull(),
    name: text("name").notNull(),
    role: text("role"),
    scopes: text("scopes", { mode: "json" }).notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by").notNull(),
    revokedAt: integer("revoked_at"),
    revokedBy: text("revoked_by"),
  },
  (t) => [index("idx_api_keys_created").on(t.createdAt)],
);

/**
 * Idempotency-Key of admin creates, per operator key: the first request's body hash and, once it finished, its
 * answer. A row without a status is a request still running. Kept 24 h.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    route: text("route").notNull(),
    bodyHash: text("body_hash").notNull(),
    status: integer("status"),
    response: text("response"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idx_idempotency_created").on(t.createdAt)],
);

/** Final standings of every finalized board, one row per (event, player), projected by the board's object. */
export const leaderboardStandings = sqliteTable(
  "leaderboard_standings",
  {
    eventId: text("event_id").notNull(),
    playerId: text("player_id").notNull(),
    cohortId: text("cohort_id").notNull(),
    rank: integer("rank").notNull(),
    score: real("score").notNull(),
    reachedAt: integer("reached_at").notNull(),
    /** Index into the board's rewardTiers, or -1 for no rank reward. */
    rewardTier: integer("reward_tier").notNull(),
    held: integer("held", { mode: "boolean" }).notNull().default(false),
    /** SHA-256 (hex) of the cohort's standings as finalized (domain/leaderboard standingsDigestInput). */
    digest: text("digest").notNull(),
    finalizedAt: integer("finalized_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.playerId] }), index("idx_standings_cohort").on(t.eventId, t.cohortId, t.rank)],
);

/** Each player's tier in a series (template + board key), moved by their final rank in each run. */
export const leaderboardTiers = sqliteTable(
  "leaderboard_tiers",
  {
    seriesKey: text("series_key").notNull(),
    playerId: text("player_id").notNull(),
    tier: text("tier").notNull(),
    /** The event whose final rank set it: a repeated projection of the same run changes nothing. */
    eventId: text("event_id").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.seriesKey, t.playerId] })],
);

/** A cooperative event's final clan standings (its clan leaderboard), recorded once by the event's clan directory. */
export const clanStandings = sqliteTable(
  "clan_standings",
  {
    eventId: text("event_id").notNull(),
    clanId: text("clan_id").notNull(),
    rank: integer("rank").notNull(),
    total: real("total").notNull(),
    /** When the clan reached its total (epoch ms): equal totals rank the earlier first. */
    reachedAt: integer("reached_at").notNull(),
    members: integer("members").notNull(),
    /** Index into the clan definition's rankRewardTiers, or -1 for no rank reward. */
    rewardTier: integer("reward_tier").notNull(),
    /** SHA-256 (hex) of the event's final clan standings (domain/clan clanStandingsDigestInput). */
    digest: text("digest").notNull(),
    finalizedAt: integer("finalized_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.clanId] }), index("idx_clan_standings_rank").on(t.eventId, t.rank)],
);

// Telemetry, KPI rollups, reports and alerts live beside this file; drizzle-kit reads them through this one.
export * from "./schema-analytics";
export * from "./schema-personalization";
export * from "./schema-series";
