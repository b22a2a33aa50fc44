// Competitive events: the board definition (on the template, with an event override), how progress becomes a score,
// cohort matching, reward tiers by rank range or percentile, final standings and their digest, and tier promotion
// across a series. Pure: the actors store and move what these functions decide.
import { BoardDefinition, type BoardOverride, type Objective, type RankRewardTier, type ScoreSource, type TierRules } from "./model";
import type { RejectionCode } from "./progress";

export { BoardDefinition, BoardOverride, boardIssues, RankRewardTier, ScoreSource, TierRules } from "./model";

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

/**
 * The rejections that look like cheating: amounts no honest client sends (negative, absurd, past an objective's
 * limits). A bad seq, an unknown objective or a non-number is a client bug or old mechanics, and holds no reward.
 */
const IMPLAUSIBLE: ReadonlySet<RejectionCode> = new Set<RejectionCode>(["not_positive", "too_large", "max_per_update", "max_per_minute"]);

/** Does a refused request flag the player on their board (rank rewards held until ops clear them)? */
export const flagsBoard = (rejections: ReadonlyArray<{ code: RejectionCode }>): boolean => rejections.some((r) => IMPLAUSIBLE.has(r.code));

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

/** One final standing: the reward tier its rank earned, held back if the player is flagged as implausible. */
export function standingAt(e: { playerId: string; score: number; reachedAt: number }, rank: number, total: number, tiers: RankRewardTier[], flagged: boolean): Standing {
  const rewardTier = rewardTierFor(tiers, rank, total);
  return { playerId: e.playerId, rank, score: e.score, reachedAt: e.reachedAt, rewardTier, held: rewardTier >= 0 && flagged };
}

/**
 * Final standings from the entries in rank order: every rank once, the reward tier each earned, and whether it is
 * held back (a player flagged as implausible keeps their rank but gets no reward until ops clear them).
 */
export function finalStandings(ordered: Array<{ playerId: string; score: number; reachedAt: number }>, tiers: RankRewardTier[], flagged: ReadonlySet<string>): Standing[] {
  return ordered.map((e, i) => standingAt(e, i + 1, ordered.length, tiers, flagged.has(e.playerId)));
}

/**
 * The exact bytes the standings digest covers: a header, then one line per rank joined by newlines, so any change of
 * rank, score or time changes it. A board hashes head and lines as it writes them; this is the same text in one piece.
 */
export const digestHead = (eventId: string, cohortId: string) => `${eventId}\n${cohortId}\n`;
export const digestLine = (s: Standing) => `${s.rank}\t${s.playerId}\t${s.score}\t${s.reachedAt}`;
export function standingsDigestInput(eventId: string, cohortId: string, standings: Standing[]): string {
  return digestHead(eventId, cohortId) + standings.map(digestLine).join("\n");
}

// ---- tiers across a series ---------------------------------------------------------------------------------------

/** A player's tier for the next run, from this run's final rank on a board of `total`. */
export function nextTier(rules: TierRules, current: string | null, rank: number, total: number): string {
  const names = rules.names;
  const at = Math.max(0, current ? names.indexOf(current) : 0);
  // Rounded up: a share above 0 of a board that has players moves at least one of them (20 % of 3 is 1, not 0).
  const promote = Math.ceil((total * rules.promoteTopPercent) / 100);
  const demote = Math.ceil((total * rules.demoteBottomPercent) / 100);
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
