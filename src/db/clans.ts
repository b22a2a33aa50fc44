// clan_standings: a cooperative event's final clan standings, projected once by the event's clan directory from its
// outbox. Every write is an insert keyed by (event, clan) that leaves an existing row alone: the standings never
// change once recorded, so a retried projection changes nothing.
import { chunked, field as f } from "./json-batch";

export type ClanStandingRow = {
  eventId: string;
  clanId: string;
  rank: number;
  total: number;
  reachedAt: number;
  members: number;
  rewardTier: number;
  digest: string;
  finalizedAt: number;
};

export const clanStandingStatements = (d1: D1Database, rows: ClanStandingRow[]) =>
  chunked(
    d1,
    `INSERT INTO clan_standings (event_id, clan_id, rank, total, reached_at, members, reward_tier, digest, finalized_at)
     SELECT ${["eventId", "clanId", "rank", "total", "reachedAt", "members", "rewardTier", "digest", "finalizedAt"].map(f).join(", ")} FROM json_each(?1) AS j
     WHERE true
     ON CONFLICT (event_id, clan_id) DO NOTHING`,
    rows,
  );
