// The seed's data model (Event Template, Event Instance, Objective, Milestone, Reward Data) as zod schemas.
// These schemas are the single source of truth: request validation, stored shapes and TS types all come from here.
import { z } from "zod";
import { MAX_UPDATES_PER_REQUEST, nestedDeeperThan } from "./limits";

export const EVENT_TYPES = ["seasonal", "competitive", "cooperative", "crossover", "gacha"] as const;
export const EVENT_TIERS = ["major", "standard", "mini", "daily"] as const;
export const OBJECTIVE_TYPES = ["collect", "complete", "defeat", "reach", "participate"] as const;
export const REWARD_TYPES = ["currency", "item", "character", "cosmetic", "booster"] as const;
export const RARITIES = ["common", "uncommon", "rare", "epic", "legendary"] as const;

export const EventType = z.enum(EVENT_TYPES);
export const EventTier = z.enum(EVENT_TIERS);
export type EventType = z.infer<typeof EventType>;
/** A verified caller from the game: who, at what level, in which clan (from their token). */
export type Player = { playerId: string; level: number; clan: string | null };
export type EventTier = z.infer<typeof EventTier>;

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, "must be a slug: 1-50 of a-z, 0-9, '-' or '_', starting with a letter or digit");
const text = (max: number) => z.string().trim().min(1).max(max);
/** Free-form JSON config (theme, layout). Bounded so one template cannot bloat every instance row. */
const freeJson = z
  .record(z.string(), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16_384, "must serialise to at most 16 KB of JSON");
const positiveFinite = z.number().finite().positive();

export const RewardData = z.strictObject({
  rewardId: slug,
  type: z.enum(REWARD_TYPES),
  itemId: text(100),
  quantity: z.number().int().min(1).max(1_000_000_000),
  rarity: z.enum(RARITIES).default("common"),
  isExclusive: z.boolean().default(false),
}).meta({ id: "RewardData" });
export type RewardData = z.infer<typeof RewardData>;

export const Objective = z.strictObject({
  objectiveId: slug,
  description: text(500),
  type: z.enum(OBJECTIVE_TYPES),
  targetValue: positiveFinite,
  trackingKey: text(100),
  isOptional: z.boolean().default(false),
  maxPerUpdate: positiveFinite.optional(),
  maxPerMinute: positiveFinite.optional(),
}).meta({ id: "Objective" });
export type Objective = z.infer<typeof Objective>;

export const Milestone = z.strictObject({
  index: z.number().int().min(0),
  progressThreshold: z.number().gt(0).lte(1),
  rewards: z.array(RewardData).max(50).default([]),
  unlockMessage: z.string().max(500).default(""),
  celebrationAnimation: z.string().max(100).optional(),
}).meta({ id: "Milestone" });
export type Milestone = z.infer<typeof Milestone>;

type Issue = { path: (string | number)[]; message: string };

// ---- leaderboards (domain/leaderboard.ts holds the rules that use these) ------------------------------------------

export const SCORE_OPERATORS = ["incr", "best", "set"] as const;
export const COHORT_MATCHING = ["join_order", "level_band", "tier"] as const;
export type ScoreOperator = (typeof SCORE_OPERATORS)[number];


export const ScoreSource = z
  .discriminatedUnion("kind", [
    /** The amounts reported for every objective with this tracking key. */
    z.strictObject({ kind: z.literal("trackingKey"), trackingKey: z.string().trim().min(1).max(100) }),
    /** The player's completion of the event, 0…1. */
    z.strictObject({ kind: z.literal("completion") }),
    /** The amounts reported for one objective. */
    z.strictObject({ kind: z.literal("objective"), objectiveId: slug }),
  ])
  .meta({ id: "ScoreSource" });
export type ScoreSource = z.infer<typeof ScoreSource>;

export const RankRewardTier = z
  .strictObject({
    /** A rank range, inclusive (1 and 1 is the winner alone)… */
    fromRank: z.number().int().min(1).optional(),
    toRank: z.number().int().min(1).optional(),
    /** …or the top share of the board, in percent (10 = the top 10 %, at least one player). */
    topPercent: z.number().gt(0).max(100).optional(),
    rewards: z.array(RewardData).min(1).max(50),
  })
  .meta({ id: "RankRewardTier" });
export type RankRewardTier = z.infer<typeof RankRewardTier>;

export const TierRules = z
  .strictObject({
    /** Lowest first, e.g. ["bronze", "silver", "gold"]; a player new to the series starts in the first. */
    names: z.array(slug).min(2).max(10),
    promoteTopPercent: z.number().min(0).max(100).default(20),
    demoteBottomPercent: z.number().min(0).max(100).default(20),
  })
  .meta({ id: "TierRules" });
export type TierRules = z.infer<typeof TierRules>;

// Each field's shape without its default: the override below must not carry defaults, since under zod 4 a
// `.default()` inside `.optional()` still fills in a missing key, and an override naming only rewardTiers would then
// reset the template's cohort size, board key and level band.
const boardShape = {
  boardKey: slug,
  cohortSize: z.number().int().min(0).max(1_000_000),
  levelBandWidth: z.number().int().min(1).max(100_000),
};

const boardFields = {
  /** Names the series: events from the same template and board key share tiers. */
  boardKey: boardShape.boardKey.default("main"),
  source: ScoreSource,
  operator: z.enum(SCORE_OPERATORS).default("incr"),
  sortOrder: z.enum(["desc", "asc"]).default("desc"),
  /** 0: one global board; N: cohorts of at most N players. */
  cohortSize: boardShape.cohortSize.default(0),
  matching: z.enum(COHORT_MATCHING).default("join_order"),
  /** For level_band matching: levels 1–10 share a band with 10, and so on. */
  levelBandWidth: boardShape.levelBandWidth.default(10),
  rewardTiers: z.array(RankRewardTier).max(50).default([]),
  tiers: TierRules.optional(),
};

export const BoardDefinition = z.strictObject(boardFields).meta({ id: "BoardDefinition" });
export type BoardDefinition = z.infer<typeof BoardDefinition>;
/** An event's override: any field of the template's board, replacing it (rewardTiers and tiers as a whole). */
export const BoardOverride = z
  .strictObject({
    boardKey: boardShape.boardKey.optional(),
    source: ScoreSource.optional(),
    operator: z.enum(SCORE_OPERATORS).optional(),
    sortOrder: z.enum(["desc", "asc"]).optional(),
    cohortSize: boardShape.cohortSize.optional(),
    matching: z.enum(COHORT_MATCHING).optional(),
    levelBandWidth: boardShape.levelBandWidth.optional(),
    rewardTiers: z.array(RankRewardTier).max(50).optional(),
    tiers: TierRules.optional(),
  })
  .meta({ id: "BoardOverride" });
export type BoardOverride = z.infer<typeof BoardOverride>;


/** Cross-field rules, with the objectives the board reads from; paths start at `at` (e.g. ["leaderboard"]). */
export function boardIssues(def: BoardDefinition, objectives: Objective[], at: (string | number)[] = ["leaderboard"]): Issue[] {
  const issues: Issue[] = [];
  const src = def.source;
  if (src.kind === "trackingKey" && !objectives.some((o) => o.trackingKey === src.trackingKey)) {
    issues.push({ path: [...at, "source", "trackingKey"], message: `no objective tracks "${src.trackingKey}"` });
  }
  if (src.kind === "objective" && !objectives.some((o) => o.objectiveId === src.objectiveId)) {
    issues.push({ path: [...at, "source", "objectiveId"], message: `names objective "${src.objectiveId}", which does not exist` });
  }
  if (src.kind === "completion" && def.operator === "incr") {
    issues.push({ path: [...at, "operator"], message: "must be best or set when the source is completion (a share cannot be added up)" });
  }
  if (def.matching === "tier" && !def.tiers) issues.push({ path: [...at, "tiers"], message: "is required when matching is tier" });
  if (def.matching !== "join_order" && def.cohortSize === 0) {
    issues.push({ path: [...at, "cohortSize"], message: `must be at least 1 when matching is ${def.matching} (0 is one global board)` });
  }
  if (def.tiers && new Set(def.tiers.names).size !== def.tiers.names.length) issues.push({ path: [...at, "tiers", "names"], message: "must not repeat a name" });
  const ranges: Array<[number, number, number]> = [];
  def.rewardTiers.forEach((t, i) => {
    const p = [...at, "rewardTiers", i];
    const byRank = t.fromRank !== undefined || t.toRank !== undefined;
    if (byRank && t.topPercent !== undefined) issues.push({ path: [...p, "topPercent"], message: "give either fromRank/toRank or topPercent, not both" });
    else if (!byRank && t.topPercent === undefined) issues.push({ path: p, message: "give fromRank and toRank, or topPercent" });
    else if (byRank) {
      if (t.fromRank === undefined) issues.push({ path: [...p, "fromRank"], message: "is required with toRank" });
      else if (t.toRank === undefined) issues.push({ path: [...p, "toRank"], message: "is required with fromRank" });
      else if (t.toRank < t.fromRank) issues.push({ path: [...p, "toRank"], message: `must be at least fromRank (${t.fromRank})` });
      else {
        const clash = ranges.find(([from, to]) => t.fromRank! <= to && from <= t.toRank!);
        if (clash) issues.push({ path: [...p, "fromRank"], message: `overlaps rewardTiers[${clash[2]}] (ranks ${clash[0]}–${clash[1]})` });
        ranges.push([t.fromRank, t.toRank, i]);
      }
    }
  });
  return issues;
}


// ---- clans (domain/clan.ts holds the rules that use this) ----------------------------------------------------------

export const ClanDefinition = z
  .strictObject({
    /** The clan-scoped objectives: their targetValue is the clan's target, their progress adds up over the clan. */
    objectiveIds: z.array(slug).min(1).max(50),
    /** Unlock on the clan's completion (the mean over the clan objectives of min(total / target, 1)). */
    milestones: z.array(Milestone).min(1).max(50),
    /** A member shares in the clan's milestone rewards with at least this share of the clan total, in percent. */
    thresholdPercent: z.number().min(0).max(100).default(5),
  })
  .meta({ id: "ClanDefinition" });
export type ClanDefinition = z.infer<typeof ClanDefinition>;

/** Cross-field rules against the event's objectives; paths start at `at`. */
export function clanIssues(def: ClanDefinition, objectives: Objective[], at: (string | number)[] = ["clan"]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  def.objectiveIds.forEach((id, i) => {
    if (seen.has(id)) issues.push({ path: [...at, "objectiveIds", i], message: `duplicates "${id}"` });
    else if (!objectives.some((o) => o.objectiveId === id)) issues.push({ path: [...at, "objectiveIds", i], message: `names objective "${id}", which does not exist` });
    seen.add(id);
  });
  for (const issue of mechanicsIssues(undefined, def.milestones)) issues.push({ ...issue, path: [...at, ...issue.path] });
  // The players' own milestones unlock on their individual objectives only (a clan objective's target is the clan's).
  if (objectives.length > 0 && objectives.every((o) => o.isOptional || seen.has(o.objectiveId))) {
    issues.push({ path: [...at, "objectiveIds"], message: "must leave at least one required objective individual, for the players' own milestones" });
  }
  return issues;
}

/** Cross-field rules the seed implies: unique ids, milestone indexes 0..n-1, thresholds strictly ascending. */
export function mechanicsIssues(objectives: Objective[] | undefined, milestones: Milestone[] | undefined): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  objectives?.forEach((o, i) => {
    if (seen.has(o.objectiveId)) issues.push({ path: ["objectives", i, "objectiveId"], message: `duplicates "${o.objectiveId}"` });
    seen.add(o.objectiveId);
  });
  if (objectives && objectives.length > 0 && objectives.every((o) => o.isOptional)) {
    issues.push({ path: ["objectives"], message: "must contain at least one required (non-optional) objective" });
  }
  milestones?.forEach((m, i) => {
    if (m.index !== i) issues.push({ path: ["milestones", i, "index"], message: `must be ${i} (milestones are listed in index order)` });
    if (i > 0 && m.progressThreshold <= milestones[i - 1].progressThreshold) {
      issues.push({ path: ["milestones", i, "progressThreshold"], message: `must be greater than milestones[${i - 1}]` });
    }
  });
  return issues;
}

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
  .strictObject({ templateId: slug.optional(), ...templateFields })
  .superRefine(withMechanicsRules)
  .meta({ id: "UpdateTemplateBody" });
export type CreateTemplateBody = z.infer<typeof CreateTemplateBody>;
export type UpdateTemplateBody = z.infer<typeof UpdateTemplateBody>;

export type EventTemplate = CreateTemplateBody & {
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
    startTime: Instant,
    endTime: z.iso.datetime({ offset: true }),
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

