// Competitive and cooperative mechanics on a template or event: the leaderboard definition (domain/leaderboard.ts
// holds the rules that use it) and the clan definition (domain/clan.ts).
import { z } from "zod";
import { Milestone, Objective, RewardData, mechanicsIssues, slug, type Issue } from "./model-base";

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
  issues.push(...rewardTierIssues(def.rewardTiers, [...at, "rewardTiers"]));
  return issues;
}

/** Rank reward tiers (a board's, or a clan leaderboard's): each a rank range or a top share, ranges not overlapping. */
export function rewardTierIssues(tiers: RankRewardTier[], at: (string | number)[]): Issue[] {
  const issues: Issue[] = [];
  const ranges: Array<[number, number, number]> = [];
  tiers.forEach((t, i) => {
    const p = [...at, i];
    const byRank = t.fromRank !== undefined || t.toRank !== undefined;
    if (byRank && t.topPercent !== undefined) issues.push({ path: [...p, "topPercent"], message: "give either fromRank/toRank or topPercent, not both" });
    else if (!byRank && t.topPercent === undefined) issues.push({ path: p, message: "give fromRank and toRank, or topPercent" });
    else if (byRank) {
      if (t.fromRank === undefined) issues.push({ path: [...p, "fromRank"], message: "is required with toRank" });
      else if (t.toRank === undefined) issues.push({ path: [...p, "toRank"], message: "is required with fromRank" });
      else if (t.toRank < t.fromRank) issues.push({ path: [...p, "toRank"], message: `must be at least fromRank (${t.fromRank})` });
      else {
        const clash = ranges.find(([from, to]) => t.fromRank! <= to && from <= t.toRank!);
        if (clash) issues.push({ path: [...p, "fromRank"], message: `overlaps ${String(at[at.length - 1])}[${clash[2]}] (ranks ${clash[0]}–${clash[1]})` });
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
    /**
     * The clan leaderboard's rank rewards (README "Clans"), in the board's rewardTiers shape: each rewarded clan's
     * eligible members get its tier's rewards. Setting any makes the event keep a clan leaderboard.
     */
    rankRewardTiers: z.array(RankRewardTier).max(50).default([]),
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
  issues.push(...rewardTierIssues(def.rankRewardTiers ?? [], [...at, "rankRewardTiers"]));
  // The players' own milestones unlock on their individual objectives only (a clan objective's target is the clan's).
  if (objectives.length > 0 && objectives.every((o) => o.isOptional || seen.has(o.objectiveId))) {
    issues.push({ path: [...at, "objectiveIds"], message: "must leave at least one required objective individual, for the players' own milestones" });
  }
  return issues;
}
