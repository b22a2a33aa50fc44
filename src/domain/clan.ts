// Cooperative (clan) events: which objectives count toward a clan, the clan's milestones, and who shares in them.
// A clan-scoped objective's targetValue is the clan's target; every accepted increase a member makes to it is a
// contribution to the clan named in the member's token at that moment, and stays with that clan (README "Clans").
// The definition itself (ClanDefinition) is in model.ts beside the board's. Rewards go to members whose contribution is at least thresholdPercent of the clan total (default 5 %).
import { rewardTierFor } from "./leaderboard";
import type { ClanDefinition, Objective, RankRewardTier } from "./model";
import { completion, milestonesReached } from "./progress";
import { SECOND_MS } from "./time";

/** Clan milestone rewards are claimed as milestone 900 + the clan milestone's index (player milestones are 0…49, the rank reward 999). */
export const CLAN_REWARD_BASE = 900;
export const DEFAULT_THRESHOLD_PERCENT = 5;

/** The clan objectives with their (clan) targets, in the definition's order; unknown ids are skipped. */
export function clanObjectives(def: ClanDefinition, objectives: Objective[]): Objective[] {
  return def.objectiveIds.map((id) => objectives.find((o) => o.objectiveId === id)).filter((o): o is Objective => o !== undefined);
}

/**
 * What one accepted request contributed to the clan, per clan objective: the increase of the member's own value
 * (so a duplicate or refused update contributes nothing). Empty when nothing clan-scoped moved.
 */
export function contribution(def: ClanDefinition, before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of def.objectiveIds) {
    const delta = (after[id] ?? 0) - (before[id] ?? 0);
    if (delta > 0) out[id] = delta;
  }
  return out;
}

export const sumOf = (byObjective: Record<string, number>) => Object.values(byObjective).reduce((a, b) => a + b, 0);

/** The clan's completion and the clan milestones it has reached, from its per-objective totals. */
export function clanProgress(def: ClanDefinition, objectives: Objective[], totals: Record<string, number>): { completion: number; reached: number[] } {
  const mechanics = { objectives: clanObjectives(def, objectives), milestones: def.milestones };
  const done = completion(totals, mechanics);
  return { completion: done, reached: milestonesReached(done, mechanics) };
}

const wholes = (...xs: number[]) => xs.every((x) => Number.isSafeInteger(x));

/**
 * Is a member's contribution at least `percent` % of the clan total? Compared as contribution × 100 ≥ percent ×
 * total, so exactly 5 % qualifies without a division's rounding; nothing is owed on an empty clan. Whole amounts and
 * percent compare exactly (as BigInt: the products may pass 2^53 on a large clan). Otherwise each product is rounded
 * once (at most half an epsilon, relative), so two epsilons of slack let a true equality through and nothing else: a
 * fixed slack (1e-9 × total) let a member a whole unit short qualify once totals reached about 10^11.
 */
export function meetsThreshold(contributed: number, total: number, percent: number): boolean {
  if (total <= 0) return false;
  if (wholes(contributed, total, percent)) return BigInt(contributed) * 100n >= BigInt(percent) * BigInt(total);
  const lhs = contributed * 100;
  const rhs = percent * total;
  return lhs >= rhs - 2 * Number.EPSILON * Math.abs(rhs);
}

/**
 * How much more a member needed to reach the threshold, counting that their own extra contribution raises the
 * total too: the least x with (c + x) / (T + x) ≥ p. Whole numbers when the amounts are; null when no amount
 * could (a 100 % threshold with other contributors).
 */
export function neededMore(contributed: number, total: number, percent: number): number | null {
  if (meetsThreshold(contributed, total, percent)) return 0;
  if (percent >= 100) return contributed < total ? null : 0;
  if (wholes(contributed, total, percent)) {
    // Exactly: the least whole x with x × (100 − p) ≥ p × T − 100 × c.
    const short = BigInt(percent) * BigInt(total) - 100n * BigInt(contributed);
    const per = BigInt(100 - percent);
    return short <= 0n ? 0 : Number((short + per - 1n) / per);
  }
  const raw = (percent * total - 100 * contributed) / (100 - percent);
  if (raw <= 0) return 0;
  return Number.isInteger(contributed) && Number.isInteger(total) ? Math.ceil(raw * (1 - 2 * Number.EPSILON)) : raw;
}

export type MemberShare = {
  playerId: string;
  rank: number;
  contribution: number;
  /** Percent of the clan total, rounded to 2 decimals for display (the threshold check uses the exact values). */
  sharePercent: number;
  eligible: boolean;
  neededMore: number | null;
  flagged: boolean;
};

/** The member ranking: highest contribution first, ties by who got there first, then player id. */
export function memberShares(
  members: Array<{ playerId: string; contribution: number; at: number; flagged: boolean }>,
  total: number,
  percent: number,
): MemberShare[] {
  const ordered = [...members].sort((a, b) => b.contribution - a.contribution || a.at - b.at || (a.playerId < b.playerId ? -1 : a.playerId > b.playerId ? 1 : 0));
  return ordered.map((m, i) => memberShare(m, i + 1, total, percent));
}

/** One member's line at a rank already known (the clan object counts it from its ranking index). */
export function memberShare(m: { playerId: string; contribution: number; flagged: boolean }, rank: number, total: number, percent: number): MemberShare {
  return {
    playerId: m.playerId,
    rank,
    contribution: m.contribution,
    sharePercent: total > 0 ? Math.round((10_000 * m.contribution) / total) / 100 : 0,
    eligible: meetsThreshold(m.contribution, total, percent) && !m.flagged,
    neededMore: neededMore(m.contribution, total, percent),
    flagged: m.flagged,
  };
}

/** Members shown by GET /clan: the top `limit` (1–100 for players, up to 1,000 for ops). */
export const CLAN_MEMBERS_DEFAULT = 50;

/** The clan a player contributes to: their token's `clan`, if it is 1–64 characters (longer ones count for no clan). */
export const MAX_CLAN_ID = 64;
export const clanIdOf = (player: { clan: string | null }): string | null => (player.clan && player.clan.length <= MAX_CLAN_ID ? player.clan : null);

/** The event's clan directory: every clan's total, for the clan ranking. */
export const CLAN_DIRECTORY = "~clans";
/** `<eventId>|c:<clanId>`, and `<eventId>|~clans` for the directory: a clan id from a token may hold any character. */
export const clanName = (eventId: string, clanId: string) => `${eventId}|c:${clanId}`;
export const clanDirectoryName = (eventId: string) => `${eventId}|${CLAN_DIRECTORY}`;
export function parseClanName(name: string): { eventId: string; clanId: string } | null {
  const cut = name.indexOf("|");
  if (cut <= 0) return null;
  const rest = name.slice(cut + 1);
  if (rest === CLAN_DIRECTORY) return { eventId: name.slice(0, cut), clanId: CLAN_DIRECTORY };
  return rest.startsWith("c:") && rest.length > 2 ? { eventId: name.slice(0, cut), clanId: rest.slice(2) } : null;
}

// ---- the clan ranking and the clan leaderboard -----------------------------------------------------------------

/** A clan's rank reward is claimed as milestone CLAN_REWARD_BASE + this (950): clan milestones are 0…49. */
export const CLAN_RANK_INDEX = 50;

/**
 * Does the event keep a clan leaderboard (final clan standings projected to D1, rank rewards)? When it asks for a
 * leaderboard (requiresLeaderboard, which a board definition also sets) or its clan definition has rank reward tiers.
 */
export const keepsClanBoard = (e: { requiresLeaderboard?: boolean; clan?: ClanDefinition | null }): boolean =>
  !!e.clan && (!!e.requiresLeaderboard || (e.clan.rankRewardTiers ?? []).length > 0);

/**
 * How often a clan sends its standing to the event's clan directory: once a second while the event has few clans,
 * spread out as it has more, so the one directory object takes about `perSecond` reports a second however many clans
 * there are (every 20 s per clan at 10,000 clans). Frames to the members stay at one a second.
 */
export const DIRECTORY_REPORTS_PER_SECOND = 500;
export const reportEveryMs = (clans: number, perSecond = DIRECTORY_REPORTS_PER_SECOND): number => Math.max(SECOND_MS, Math.ceil((clans * SECOND_MS) / Math.max(0.001, perSecond)));

/** A clan's place in the ranking: highest total first, then whoever reached that total first, then the clan id. */
export type ClanKey = { total: number; reachedAt: number; clanId: string };

/** Final ranks (1…n, in the order given, which must be the ranking's) and each clan's reward tier (-1: none). */
export function clanStandings<T extends ClanKey>(ordered: T[], tiers: RankRewardTier[]): Array<T & { rank: number; rewardTier: number }> {
  return ordered.map((c, i) => ({ ...c, rank: i + 1, rewardTier: rewardTierFor(tiers, i + 1, ordered.length) }));
}

/** The exact text the final clan standings' digest covers: one line per rank. */
export function clanStandingsDigestInput(eventId: string, standings: Array<ClanKey & { rank: number }>): string {
  return `${eventId}\n~clans\n${standings.map((s) => `${s.rank}\t${s.clanId}\t${s.total}\t${s.reachedAt}`).join("\n")}`;
}

/**
 * A page cursor: the last clan's key, so the next page starts after it wherever ranks moved meanwhile. Base64url of
 * the UTF-8 JSON (a clan id may hold any character, which btoa alone would refuse).
 */
export function encodeClanCursor(k: ClanKey): string {
  const bytes = new TextEncoder().encode(JSON.stringify([k.total, k.reachedAt, k.clanId]));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeClanCursor(cursor: string): ClanKey | null {
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [total, reachedAt, clanId] = v;
    if (typeof total !== "number" || !Number.isFinite(total) || !Number.isSafeInteger(reachedAt) || typeof clanId !== "string" || clanId.length > MAX_CLAN_ID) return null;
    return { total, reachedAt, clanId };
  } catch {
    return null;
  }
}
