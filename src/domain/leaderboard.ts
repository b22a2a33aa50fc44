// Competitive events: the board definition (on the template, with an event override), how progress becomes a score,
// cohort matching, reward tiers by rank range or percentile, final standings and their digest, and tier promotion
// across a series. Pure: the actors store and move what these functions decide.
import { z } from "zod";
import { RewardData, type Objective } from "./model";

export const SCORE_OPERATORS = ["incr", "best", "set"] as const;
export const COHORT_MATCHING = ["join_order", "level_band", "tier"] as const;
export type ScoreOperator = (typeof SCORE_OPERATORS)[number];

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, "must be a slug: 1-50 of a-z, 0-9, '-' or '_', starting with a letter or digit");

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

const boardFields = {
  /** Names the series: events from the same template and board key share tiers. */
  boardKey: slug.default("main"),
  source: ScoreSource,
  operator: z.enum(SCORE_OPERATORS).default("incr"),
  sortOrder: z.enum(["desc", "asc"]).default("desc"),
  /** 0: one global board; N: cohorts of at most N players. */
  cohortSize: z.number().int().min(0).max(1_000_000).default(0),
  matching: z.enum(COHORT_MATCHING).default("join_order"),
  /** For level_band matching: levels 1–10 share a band with 10, and so on. */
  levelBandWidth: z.number().int().min(1).max(100_000).default(10),
  rewardTiers: z.array(RankRewardTier).max(50).default([]),
  tiers: TierRules.optional(),
};

export const BoardDefinition = z.strictObject(boardFields).meta({ id: "BoardDefinition" });
export type BoardDefinition = z.infer<typeof BoardDefinition>;
/** An event's override: any field of the template's board, replacing it (rewardTiers and tiers as a whole). */
export const BoardOverride = z
  .strictObject({
    boardKey: boardFields.boardKey.optional(),
    source: ScoreSource.optional(),
    operator: z.enum(SCORE_OPERATORS).optional(),
    sortOrder: z.enum(["desc", "asc"]).optional(),
    cohortSize: boardFields.cohortSize.optional(),
    matching: z.enum(COHORT_MATCHING).optional(),
    levelBandWidth: boardFields.levelBandWidth.optional(),
    rewardTiers: z.array(RankRewardTier).max(50).optional(),
    tiers: TierRules.optional(),
  })
  .meta({ id: "BoardOverride" });
export type BoardOverride = z.infer<typeof BoardOverride>;

type Issue = { path: (string | number)[]; message: string };

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

/** The event's board: the template's with the event's override on top; null when neither defines one. */
export function resolveBoard(template: BoardDefinition | null | undefined, override: BoardOverride | undefined): BoardDefinition | null {
  if (!template && !override) return null;
  if (!template) return BoardDefinition.safeParse(override).data ?? null;
  return { ...template, ...(Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) as Partial<BoardDefinition>) };
}

// ---- scores ------------------------------------------------------------------------------------------------------

export type Applied = { objectiveId: string; amount: number };

/**
 * What one accepted progress request submits to the board, or null if it does not touch the source. `before` and
 * `after` are the objective values around the request (incr adds the increase, so a "reach" objective's level is
 * counted once however often it is reported); best and set take the amounts reported.
 */
export function submission(
  def: Pick<BoardDefinition, "source" | "operator">,
  objectives: Objective[],
  applied: Applied[],
  before: Record<string, number>,
  after: Record<string, number>,
  completionAfter: number,
): number | null {
  if (def.source.kind === "completion") return applied.length ? completionAfter : null;
  const ids = new Set(sourceObjectives(def.source, objectives));
  const hits = applied.filter((u) => ids.has(u.objectiveId));
  if (!hits.length) return null;
  if (def.operator === "incr") {
    let sum = 0;
    for (const id of ids) sum += (valueOf(after, id) - valueOf(before, id));
    return sum;
  }
  if (def.operator === "set") return hits[hits.length - 1].amount;
  return hits.reduce((m, u) => Math.max(m, u.amount), Number.NEGATIVE_INFINITY);
}

function sourceObjectives(source: ScoreSource, objectives: Objective[]): string[] {
  if (source.kind === "objective") return [source.objectiveId];
  if (source.kind === "trackingKey") return objectives.filter((o) => o.trackingKey === source.trackingKey).map((o) => o.objectiveId);
  return [];
}

const valueOf = (values: Record<string, number>, id: string) => (Object.hasOwn(values, id) ? values[id] : 0);

/** Which of two values is better under the board's order. */
const better = (a: number, b: number, sortOrder: "asc" | "desc") => (sortOrder === "desc" ? a > b : a < b);

/** Folds a new submission into what is already waiting to be pushed (a shard aggregates between pushes). */
export function aggregate(pending: number | null, value: number, def: Pick<BoardDefinition, "operator" | "sortOrder">): number {
  if (pending === null) return value;
  if (def.operator === "incr") return pending + value;
  if (def.operator === "set") return value;
  return better(value, pending, def.sortOrder) ? value : pending;
}

/**
 * A board entry after a submission. `reachedAt` moves only when the score changes: among equal scores, the one
 * reached first ranks higher.
 */
export function applyScore(
  current: { score: number; reachedAt: number } | null,
  value: number,
  at: number,
  def: Pick<BoardDefinition, "operator" | "sortOrder">,
): { score: number; reachedAt: number; changed: boolean } {
  if (!current) return { score: value, reachedAt: at, changed: true };
  const score = def.operator === "incr" ? current.score + value : def.operator === "set" ? value : better(value, current.score, def.sortOrder) ? value : current.score;
  return score === current.score ? { ...current, changed: false } : { score, reachedAt: at, changed: true };
}

// ---- cohorts -----------------------------------------------------------------------------------------------------

export const GLOBAL_COHORT = "global";

/** The matching group a player falls in: everyone, their level band, or their tier. */
export function cohortGroup(def: Pick<BoardDefinition, "matching" | "levelBandWidth" | "tiers">, player: { level: number; tier: string | null }): string {
  if (def.matching === "level_band") return `lv${Math.floor((Math.max(1, player.level) - 1) / def.levelBandWidth)}`;
  if (def.matching === "tier") return player.tier && def.tiers?.names.includes(player.tier) ? player.tier : (def.tiers?.names[0] ?? "all");
  return "all";
}

/**
 * The one decision of a player's cohort: the group's open cohort, or a new one once it holds cohortSize players.
 * `filled` is what the directory holds for the group (the open cohort's number and how many it has); the caller
 * stores the answer and never asks again for the same player.
 */
export function assignCohort(
  def: Pick<BoardDefinition, "cohortSize" | "matching" | "levelBandWidth" | "tiers">,
  player: { level: number; tier: string | null },
  filled: { cohort: number; members: number } | null,
): { cohortId: string; group: string; cohort: number; members: number } {
  if (def.cohortSize === 0) return { cohortId: GLOBAL_COHORT, group: "all", cohort: 0, members: (filled?.members ?? 0) + 1 };
  const group = cohortGroup(def, player);
  const open = filled ?? { cohort: 0, members: 0 };
  const next = open.members >= def.cohortSize ? { cohort: open.cohort + 1, members: 1 } : { cohort: open.cohort, members: open.members + 1 };
  return { cohortId: `${group}-${next.cohort}`, group, ...next };
}

// ---- standings and rewards ---------------------------------------------------------------------------------------

/** The reward tier for a rank on a board of `total`: the first tier that covers it, or -1. */
export function rewardTierFor(tiers: RankRewardTier[], rank: number, total: number): number {
  return tiers.findIndex((t) =>
    t.topPercent !== undefined ? rank <= Math.max(1, Math.ceil((total * t.topPercent) / 100)) : t.fromRank !== undefined && t.toRank !== undefined && rank >= t.fromRank && rank <= t.toRank,
  );
}

/** How high a rank sits: 1 is the top 1 % of a board of 100; the last entry is 100. */
export const topPercent = (rank: number, total: number) => (total === 0 ? 0 : Math.round((10_000 * rank) / total) / 100);

export type Standing = { playerId: string; rank: number; score: number; reachedAt: number; rewardTier: number; held: boolean };

/**
 * Final standings from the entries in rank order: every rank once, the reward tier each earned, and whether it is
 * held back (a player flagged as implausible keeps their rank but gets no reward until ops clear them).
 */
export function finalStandings(ordered: Array<{ playerId: string; score: number; reachedAt: number }>, tiers: RankRewardTier[], flagged: ReadonlySet<string>): Standing[] {
  const total = ordered.length;
  return ordered.map((e, i) => {
    const rewardTier = rewardTierFor(tiers, i + 1, total);
    return { playerId: e.playerId, rank: i + 1, score: e.score, reachedAt: e.reachedAt, rewardTier, held: rewardTier >= 0 && flagged.has(e.playerId) };
  });
}

/** The exact bytes the standings digest covers: one line per rank, so any change of rank, score or time changes it. */
export function standingsDigestInput(eventId: string, cohortId: string, standings: Standing[]): string {
  return `${eventId}\n${cohortId}\n${standings.map((s) => `${s.rank}\t${s.playerId}\t${s.score}\t${s.reachedAt}`).join("\n")}`;
}

// ---- tiers across a series ---------------------------------------------------------------------------------------

/** A player's tier for the next run, from this run's final rank on a board of `total`. */
export function nextTier(rules: TierRules, current: string | null, rank: number, total: number): string {
  const names = rules.names;
  const at = Math.max(0, current ? names.indexOf(current) : 0);
  const promote = Math.floor((total * rules.promoteTopPercent) / 100);
  const demote = Math.floor((total * rules.demoteBottomPercent) / 100);
  if (rank <= promote) return names[Math.min(names.length - 1, at + 1)];
  if (rank > total - demote) return names[Math.max(0, at - 1)];
  return names[at];
}

/** The series a board belongs to: its template and board key. */
export const seriesKey = (templateId: string, boardKey: string) => `${templateId}/${boardKey}`;

/** The object name of a cohort's board, and of the event's cohort directory. */
export const boardName = (eventId: string, cohortId: string) => `${eventId}|${cohortId}`;
export const DIRECTORY = "~directory";
export function parseBoardName(name: string): { eventId: string; cohortId: string } | null {
  const cut = name.lastIndexOf("|");
  return cut > 0 && cut < name.length - 1 ? { eventId: name.slice(0, cut), cohortId: name.slice(cut + 1) } : null;
}
