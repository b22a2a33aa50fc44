// The seed's data model (Event Template, Event Instance, Objective, Milestone, Reward Data) as zod schemas.
// These schemas are the single source of truth: request validation, stored shapes and TS types all come from here.
// The building blocks are in model-base.ts, the leaderboard and clan definitions in model-mechanics.ts; both are
// re-exported here, so callers import the model from one place.
import { z } from "zod";
import { MAX_UPDATES_PER_REQUEST, nestedDeeperThan } from "./limits";
import { EventTier, EventType, Milestone, Objective, RewardData, freeJson, mechanicsIssues, slug, text } from "./model-base";
import { BoardDefinition, BoardOverride, ClanDefinition, boardIssues, clanIssues } from "./model-mechanics";
import { LocalTime } from "./local-time";

export * from "./model-base";
export * from "./model-mechanics";

export const templateFields = {
  type: EventType,
  tier: EventTier,
  name: text(200),
  description: z.string().max(5000).default(""),
  objectives: z.array(Objective).min(1).max(50),
  milestones: z.array(Milestone).min(1).max(50),
  progressionMechanics: z.string().max(50).optional(),
  theme: freeJson.default({}),
  layout: freeJson.default({}),
  requiresLeaderboard: z.boolean().default(false),
  /** Ranks the players of events made from this template (README "Leaderboards"); an event may override fields. */
  leaderboard: BoardDefinition.optional(),
  requiresClan: z.boolean().default(false),
  /** Makes events from this template cooperative (README "Clans"): clan-scoped objectives, clan milestones, threshold. */
  clan: ClanDefinition.optional(),
  minimumPlayerLevel: z.number().int().min(1).max(100_000).default(1),
  /** 1 (easy) … 5 (hardest), for recommendations (README "Personalization"); omit to derive it from the completion rate. */
  difficulty: z.number().int().min(1).max(5).optional(),
  averageEngagementScore: z.number().min(0).max(999.99).nullable().default(null),
  /** Progress shards for events from this template; omit to derive it from expectedParticipants. */
  shardCount: z.number().int().min(1).max(256).optional(),
  expectedParticipants: z.number().int().min(1).max(100_000_000).optional(),
};

const withMechanicsRules = <T extends { objectives?: Objective[]; milestones?: Milestone[]; leaderboard?: unknown; clan?: unknown }>(v: T, ctx: z.RefinementCtx) => {
  for (const issue of mechanicsIssues(v.objectives, v.milestones)) ctx.addIssue({ code: "custom", ...issue });
  // A template's board is checked against its own objectives; an event's override against the merged result later.
  const board = BoardDefinition.safeParse(v.leaderboard);
  if (board.success && v.objectives) for (const issue of boardIssues(board.data, v.objectives)) ctx.addIssue({ code: "custom", ...issue });
  const clan = ClanDefinition.safeParse(v.clan);
  if (clan.success && v.objectives) for (const issue of clanIssues(clan.data, v.objectives)) ctx.addIssue({ code: "custom", ...issue });
};

export const CreateTemplateBody = z.strictObject({ templateId: slug, ...templateFields }).superRefine(withMechanicsRules).meta({ id: "CreateTemplateBody" });
/** A template may be saved back as read: the id may come along, and the route refuses one that is not the path's. */
export const UpdateTemplateBody = z
  .strictObject({
    templateId: slug.optional(),
    ...templateFields,
    // Omitted: the stored score stays (a manually set one is not cleared by a PUT that does not mention it); null clears it.
    averageEngagementScore: z.number().min(0).max(999.99).nullable().optional(),
    expectedVersion: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "The version this edit started from: if someone saved another since, 409 version_conflict and nothing is written." }),
  })
  .superRefine(withMechanicsRules)
  .meta({ id: "UpdateTemplateBody" });
export type CreateTemplateBody = z.infer<typeof CreateTemplateBody>;
export type UpdateTemplateBody = z.infer<typeof UpdateTemplateBody>;

export type EventTemplate = CreateTemplateBody & {
  /** Means over the reports of this template's events (README "Analytics"); averageEngagementScore is the third. */
  performance: { averageCompletionRate: number | null; averageRppu: number | null; reportedEvents: number };
  version: number;
  usageCount: number;
  lastUsed: string | null;
  createdAt: string;
  updatedAt: string;
};

/** An override of the scheduling rules is an audited decision: who (the authenticated operator) and why (reason). */
const requireReasonWhenForced = (v: { force?: boolean; reason?: string }, ctx: z.RefinementCtx) => {
  // 400, not 422: the request is not a valid override at all, whatever the schedule looks like.
  if (v.force && !v.reason) ctx.addIssue({ code: "custom", path: ["reason"], message: "is required when force is true", params: { status: 400 } });
};

/** ISO 8601 with an explicit offset, or the literal "now" (start at once). */
export const Instant = z.union([z.literal("now"), z.iso.datetime({ offset: true })]);

export const RewardPoolEntry = z.strictObject({
  milestoneIndex: z.number().int().min(0),
  rewards: z.array(RewardData).max(50),
});

export const CreateEventBody = z
  .strictObject({
    templateId: slug,
    /** Required unless localTime is given; with localTime both are computed (the UTC envelope) and must be omitted. */
    startTime: Instant.optional(),
    endTime: z.iso.datetime({ offset: true }).optional(),
    /** Runs the event in each player's own zone, from this wall-clock reading to that one (README "Local-time events"). */
    localTime: LocalTime.optional(),
    /** Runs the template at another tier, e.g. a standard template promoted to a major event. */
    tier: EventTier.optional(),
    name: text(200).optional(),
    description: z.string().max(5000).optional(),
    theme: freeJson.optional(),
    objectives: z.array(Objective).min(1).max(50).optional(),
    milestones: z.array(Milestone).min(1).max(50).optional(),
    rewardPool: z.array(RewardPoolEntry).max(50).optional(),
    eligibleClanIds: z.array(text(64)).max(1000).optional(),
    leaderboardId: text(64).optional(),
    /** Overrides fields of the template's board (or defines one for this event alone). */
    leaderboard: BoardOverride.optional(),
    /** Replaces the template's clan definition as a whole (or makes this event alone cooperative). */
    clan: ClanDefinition.optional(),
    shardCount: z.number().int().min(1).max(256).optional(),
    expectedParticipants: z.number().int().min(1).max(100_000_000).optional(),
    force: z.boolean().optional(),
    reason: text(500).optional(),
  })
  .superRefine(withMechanicsRules)
  .superRefine(requireReasonWhenForced)
  .superRefine((v, ctx) => {
    // Either a UTC window or a local one: with both, which one the event follows would be a guess.
    if (v.localTime) {
      for (const key of ["startTime", "endTime"] as const) {
        if (v[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "must be omitted with localTime (the UTC envelope is computed from it)" });
      }
    } else {
      for (const key of ["startTime", "endTime"] as const) if (v[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "is required" });
    }
  })
  .meta({ id: "CreateEventBody" });
export type CreateEventBody = z.infer<typeof CreateEventBody>;

export const EVENT_STATES = ["scheduled", "active", "paused", "expired", "archived", "cancelled", "failed_activation"] as const;
export const EventState = z.enum(EVENT_STATES);
export type EventState = z.infer<typeof EventState>;

/** The instance as the EventActor stores it. Times are epoch milliseconds; the API renders ISO strings. */
export const EventInstance = z.object({
  eventId: z.string(),
  templateId: slug,
  templateVersion: z.number().int().min(1),
  type: EventType,
  tier: EventTier,
  state: EventState,
  name: z.string(),
  description: z.string(),
  theme: z.record(z.string(), z.unknown()),
  layout: z.record(z.string(), z.unknown()),
  objectives: z.array(Objective).min(1),
  milestones: z.array(Milestone).min(1),
  rewardPool: z.array(RewardData),
  startTime: z.number().int(),
  endTime: z.number().int(),
  /** Set on events defined in players' local time: startTime/endTime are then its UTC envelope. */
  localTime: LocalTime.nullable().optional(),
  /** The end the event was scheduled with, kept when end-now or a resume moves endTime. */
  scheduledEndTime: z.number().int(),
  requiresLeaderboard: z.boolean(),
  requiresClan: z.boolean(),
  minimumPlayerLevel: z.number().int(),
  leaderboardId: z.string().nullable(),
  /** The board players are ranked on; absent on events created before boards existed, and on events without one. */
  leaderboard: BoardDefinition.nullable().optional(),
  eligibleClanIds: z.array(z.string()),
  /** Clan-scoped objectives and clan milestones; absent on events created before clans existed, null on others. */
  clan: ClanDefinition.nullable().optional(),
  participantCount: z.number().int(),
  completionCount: z.number().int(),
  activationAttempts: z.number().int(),
  /** Fixed at creation: a player's shard is hash(playerId) mod shardCount, so it can never change. */
  shardCount: z.number().int().min(1).max(256),
  lastError: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type EventInstance = z.infer<typeof EventInstance>;

export const ReasonBody = z.strictObject({ reason: text(500).optional() }).meta({ id: "ReasonBody" });
export const ResumeBody = z
  .strictObject({
    reason: text(500).optional(),
    endTime: z.iso.datetime({ offset: true }).optional(),
    force: z.boolean().optional(),
  })
  .superRefine(requireReasonWhenForced)
  .meta({ id: "ResumeBody" });
export const RescheduleBody = z
  .strictObject({
    startTime: z.iso.datetime({ offset: true }).optional(),
    endTime: z.iso.datetime({ offset: true }).optional(),
    force: z.boolean().optional(),
    reason: text(500).optional(),
  })
  .superRefine(requireReasonWhenForced)
  .superRefine((v, ctx) => {
    if (!v.startTime && !v.endTime) ctx.addIssue({ code: "custom", path: [], message: "give startTime, endTime or both" });
  })
  .meta({ id: "RescheduleBody" });

export const SettingsBody = z
  .strictObject({
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
    maxConcurrentSameType: z.number().int().min(1).max(1000).optional(),
    majorGapHours: z.number().min(0).max(24 * 365).optional(),
    maxWindowDays: z.number().int().min(1).max(3650).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "give at least one setting")
  .meta({ id: "SettingsBody" });

/** How deep a nonsensical `amount` may nest and still be recorded as a plausibility flag rather than refused. */
export const MAX_AMOUNT_DEPTH = 4;

/** A progress report, over HTTP or the socket: 1–100 updates, each with the client's per-player seq. */
export const ProgressUpdates = z
  .array(
    z.strictObject({
      objectiveId: z.string().min(1).max(64),
      // Deliberately loose: a bad amount (string, negative, huge) is a plausibility rejection that the shard records in
      // progress_flags for anti-cheat analysis, not a mere schema error. Only its nesting is bounded here, at the edge:
      // a value thousands of levels deep overflows the stack of whatever walks it next (RPC serialisation, the error
      // frame's JSON), and no client sends one by mistake.
      amount: z
        .unknown()
        .refine((v) => v !== undefined, "is required")
        .refine((v) => !nestedDeeperThan(v, MAX_AMOUNT_DEPTH), `must not nest deeper than ${MAX_AMOUNT_DEPTH} levels`),
      seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    }).meta({ id: "ProgressUpdate" }),
  )
  .min(1)
  .max(MAX_UPDATES_PER_REQUEST)
  .meta({ id: "ProgressUpdates" });

