// The D1 tables of issue 15 (personalization): each player's profile, recomputed by the hourly job from what D1
// already holds (src/jobs/profiles.ts) and never written on a request's path, except the needs and level a game
// server posts. Re-exported by schema.ts, so drizzle-kit and every module see one schema.
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const playerProfiles = sqliteTable(
  "player_profiles",
  {
    playerId: text("player_id").primaryKey(),
    /** The level a game server last posted (null: none did). The recomputation never touches it. */
    level: integer("level"),
    /** JSON { [eventType]: { joined, completed } }. */
    participation: text("participation", { mode: "json" }).notNull(),
    eventsJoined: integer("events_joined").notNull().default(0),
    eventsCompleted: integer("events_completed").notNull().default(0),
    claims: integer("claims").notNull().default(0),
    pacePercentile: real("pace_percentile"),
    sessionsPerDay: real("sessions_per_day").notNull().default(0),
    avgSessionMinutes: real("avg_session_minutes"),
    spendTotal: real("spend_total").notNull().default(0),
    spendSegment: text("spend_segment").notNull().default("non_payer"),
    /** JSON ProfileNeeds a game server posted (null: none). The recomputation never touches it. */
    needs: text("needs", { mode: "json" }),
    /** The IANA zone a game server posted (null: none did), for local-time events of a player whose token has no tz. */
    timeZone: text("time_zone"),
    computedAt: integer("computed_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("idx_profiles_computed").on(t.computedAt)],
);

/**
 * Adaptive difficulty's decisions (issue 15), one per (event, player) ever: a struggling player either adjusted
 * (treated) or held back as the control group. Written behind the progress shards (their outbox, insert-or-ignore);
 * the event report's holdout section reads it. An erase keeps the row under the player's pseudonym.
 */
export const adaptiveDecisions = sqliteTable(
  "adaptive_decisions",
  {
    eventId: text("event_id").notNull(),
    playerId: text("player_id").notNull(),
    /** "treated" | "control". */
    arm: text("arm").notNull(),
    /** "pace" | "stalled". */
    reason: text("reason").notNull(),
    decidedAt: integer("decided_at").notNull(),
    /** The player's completion when the verdict was reached, and their pace (completion per hour). */
    completion: real("completion").notNull(),
    pace: real("pace").notNull(),
    factor: real("factor"),
    targets: text("targets", { mode: "json" }),
    assist: text("assist", { mode: "json" }),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.playerId] }), index("idx_adaptive_player").on(t.playerId)],
);

/**
 * Each ended event's completion histogram (PACE_BUCKETS counts), for the profile job's pace percentile: computed once
 * from player_progress instead of every run for every player who took part. Recomputed while `computed_at` is less than
 * a day after the event's end (late drains may still land), final after that.
 */
export const paceHistograms = sqliteTable("pace_histograms", {
  eventId: text("event_id").primaryKey(),
  buckets: text("buckets", { mode: "json" }).notNull(),
  computedAt: integer("computed_at").notNull(),
});
