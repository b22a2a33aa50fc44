// leaderboard_standings and leaderboard_tiers. Boards own their standings and project them once finalized; every
// write is an upsert keyed by (event, player) or (series, player), so a retried projection changes nothing, and a
// tier row already moved by this event is not moved twice, nor moved back by an older run's late projection.
import { chunked, field as f } from "./json-batch";

export type StandingRow = {
  eventId: string;
  playerId: string;
  cohortId: string;
  rank: number;
  score: number;
  reachedAt: number;
  rewardTier: number;
  held: number;
  digest: string;
  finalizedAt: number;
};
export type TierRow = { seriesKey: string; playerId: string; tier: string; eventId: string; updatedAt: number };

export const standingStatements = (d1: D1Database, rows: StandingRow[]) =>
  chunked(
    d1,
    `INSERT INTO leaderboard_standings (event_id, player_id, cohort_id, rank, score, reached_at, reward_tier, held, digest, finalized_at)
     SELECT ${["eventId", "playerId", "cohortId", "rank", "score", "reachedAt", "rewardTier", "held", "digest", "finalizedAt"].map(f).join(", ")} FROM json_each(?1) AS j
     WHERE true
     ON CONFLICT (event_id, player_id) DO UPDATE SET held = excluded.held`,
    rows,
  );

export const tierStatements = (d1: D1Database, rows: TierRow[]) =>
  chunked(
    d1,
    `INSERT INTO leaderboard_tiers (series_key, player_id, tier, event_id, updated_at)
     SELECT ${["seriesKey", "playerId", "tier", "eventId", "updatedAt"].map(f).join(", ")} FROM json_each(?1) AS j
     WHERE true
     ON CONFLICT (series_key, player_id) DO UPDATE SET tier = excluded.tier, event_id = excluded.event_id, updated_at = excluded.updated_at
       WHERE leaderboard_tiers.event_id <> excluded.event_id AND excluded.updated_at > leaderboard_tiers.updated_at`,
    rows,
  );

/** Players' current tiers in a series (absent: new to it). */
export async function readTiers(d1: D1Database, seriesKey: string, playerIds: string[]): Promise<Map<string, { tier: string; eventId: string }>> {
  const out = new Map<string, { tier: string; eventId: string }>();
  for (let i = 0; i < playerIds.length; i += 500) {
    const { results } = await d1
      .prepare("SELECT player_id, tier, event_id FROM leaderboard_tiers WHERE series_key = ?1 AND player_id IN (SELECT value FROM json_each(?2))")
      .bind(seriesKey, JSON.stringify(playerIds.slice(i, i + 500)))
      .all<{ player_id: string; tier: string; event_id: string }>();
    for (const r of results) out.set(r.player_id, { tier: r.tier, eventId: r.event_id });
  }
  return out;
}

export async function listStandings(d1: D1Database, eventId: string, cohortId: string | null, limit: number, offset: number) {
  const { results } = await d1
    .prepare(
      `SELECT player_id AS playerId, cohort_id AS cohortId, rank, score, reached_at AS reachedAt, reward_tier AS rewardTier, held, digest, finalized_at AS finalizedAt
       FROM leaderboard_standings WHERE event_id = ?1 AND (?2 IS NULL OR cohort_id = ?2) ORDER BY cohort_id, rank LIMIT ?3 OFFSET ?4`,
    )
    .bind(eventId, cohortId, limit, offset)
    .all<{ playerId: string; cohortId: string; rank: number; score: number; reachedAt: number; rewardTier: number; held: number; digest: string; finalizedAt: number }>();
  return results;
}

/**
 * Privacy erasure: a final standing stays under the player's pseudonym (the cohort's other ranks and its digest were
 * decided with it); the player's series tiers go.
 */
export const eraseBoardStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  { name: "leaderboard_standings", statement: d1.prepare("UPDATE OR REPLACE leaderboard_standings SET player_id = ?1 WHERE player_id = ?2").bind(pseudonym, playerId) },
  { name: "leaderboard_tiers", statement: d1.prepare("DELETE FROM leaderboard_tiers WHERE player_id = ?").bind(playerId) },
];
