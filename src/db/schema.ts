// D1 is the queryable record. Durable Objects own the truth and project into these tables;
// templates are plain config and live only here. Times are epoch milliseconds.
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
    themeConfig: text("theme_config", { mode: "json" }).notNull(),
    uiLayoutConfig: text("ui_layout_config", { mode: "json" }).notNull(),
    requiresLeaderboard: integer("requires_leaderboard", { mode: "boolean" }).notNull().default(false),
    requiresClan: integer("requires_clan", { mode: "boolean" }).notNull().default(false),
    minimumPlayerLevel: integer("minimum_player_level").notNull().default(1),
    version: integer("version").notNull().default(1),
    usageCount: integer("usage_count").notNull().default(0),
    averageEngagementScore: real("average_engagement_score"),
    lastUsed: integer("last_used"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("idx_templates_type").on(t.eventType, t.tier), index("idx_templates_usage").on(t.usageCount, t.averageEngagementScore)],
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

