// A board's finalization, written as it is read, and its rank rewards handed out: the entries table in rank order (the order the index keeps) becomes
// the standings table, the outbox rows for D1 and the digest, one row at a time. A board of 1,000,000 entries must
// not build an array of standings (about 100 MB of objects) in a 128 MB isolate.
import { readTiers, type StandingRow, type TierRow } from "../../db/leaderboards";
import { digestHead, digestLine, nextTier, standingAt, type RankRewardTier, type TierRules } from "../../domain/leaderboard";
import { Sha256 } from "../../lib/sha256";
import { parseShardName } from "../../domain/sharding";
import type { BoardInfo, RankAward } from "../contracts";
import type { Outbox } from "../kit/outbox";
import { progressShardActor } from "../stubs";
import { rankOrder } from "./rows";

export type StandingsInput = {
  eventId: string;
  cohortId: string;
  desc: boolean;
  rewardTiers: RankRewardTier[];
  flagged: ReadonlySet<string>;
  /** With tier rules: each player's next tier in `series`, from the tier they held (read into tier_seen). */
  tiers: { rules: TierRules; series: string } | null;
  now: number;
};

/** Call inside the transaction that records the final summary. */
export function writeStandings(sql: SqlStorage, outbox: Outbox, input: StandingsInput): { entries: number; digest: string; rewarded: number; held: number } {
  const total = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries WHERE status = 'active'").one().n;
  const hash = new Sha256().update(digestHead(input.eventId, input.cohortId));
  let rank = 0;
  let rewarded = 0;
  let held = 0;
  const cursor = sql.exec<{ player_id: string; score: number; reached_at: number; source: string; tier: string | null }>(
    `SELECT e.player_id, score, reached_at, source, t.tier FROM entries e LEFT JOIN tier_seen t ON t.player_id = e.player_id
     WHERE status = 'active' ${rankOrder(input.desc)}`,
  );
  for (const e of cursor) {
    const s = standingAt({ playerId: e.player_id, score: e.score, reachedAt: e.reached_at }, ++rank, total, input.rewardTiers, input.flagged.has(e.player_id));
    hash.update(rank > 1 ? `\n${digestLine(s)}` : digestLine(s));
    if (s.held) held++;
    else if (s.rewardTier >= 0) rewarded++;
    sql.exec(
      "INSERT INTO standings (rank, player_id, score, reached_at, reward_tier, held, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
      s.rank,
      s.playerId,
      s.score,
      s.reachedAt,
      s.rewardTier,
      s.held ? 1 : 0,
      e.source,
    );
    if (input.tiers) {
      const t = input.tiers;
      const row: TierRow = { seriesKey: t.series, playerId: s.playerId, tier: nextTier(t.rules, e.tier, s.rank, total), eventId: input.eventId, updatedAt: input.now };
      outbox.put("tier", s.playerId, row);
    }
  }
  return { entries: rank, digest: hash.hex(), rewarded, held };
}

/** The standings (or one player's) queued for D1, read row by row. */
export function queueStandings(sql: SqlStorage, outbox: Outbox, board: { eventId: string; cohortId: string }, digest: string, finalizedAt: number, only?: string) {
  const cursor = sql.exec<{ rank: number; player_id: string; score: number; reached_at: number; reward_tier: number; held: number }>(
    `SELECT rank, player_id, score, reached_at, reward_tier, held FROM standings ${only ? "WHERE player_id = ?" : ""}`,
    ...(only ? [only] : []),
  );
  for (const r of cursor) {
    const row: StandingRow = { eventId: board.eventId, playerId: r.player_id, cohortId: board.cohortId, rank: r.rank, score: r.score, reachedAt: r.reached_at, rewardTier: r.reward_tier, held: r.held, digest, finalizedAt };
    outbox.put("standing", r.player_id, row);
  }
}

/** Rank awards per grantRankRewards call: a big board's grant stays within an RPC's size. */
const GRANT_CHUNK = 1000;

/**
 * Rank rewards not yet handed to their players' shards (held ones wait for clear_flag), a chunk at a time per shard,
 * each chunk marked once its shard has it: a retry resumes where it stopped, and each shard's grant is idempotent.
 */
export async function grantRankRewards(storage: DurableObjectStorage, env: Env, info: BoardInfo, cohortId: string): Promise<void> {
  const sql = storage.sql;
  const pending = "reward_tier >= 0 AND held = 0 AND granted = 0";
  const sources = sql.exec<{ source: string }>(`SELECT DISTINCT source FROM standings WHERE ${pending}`).toArray();
  for (const { source } of sources) {
    const shard = parseShardName(source);
    if (!shard) continue;
    for (;;) {
      const chunk = sql
        .exec<{ player_id: string; rank: number; reward_tier: number }>(`SELECT player_id, rank, reward_tier FROM standings WHERE source = ? AND ${pending} ORDER BY rank LIMIT ?`, source, GRANT_CHUNK)
        .toArray()
        .map((r): RankAward => ({ playerId: r.player_id, cohortId, rank: r.rank, rewardTier: r.reward_tier, rewards: info.definition.rewardTiers[r.reward_tier].rewards, held: false }));
      if (!chunk.length) break;
      await progressShardActor(env, shard.eventId, shard.shardNo).grantRankRewards(chunk);
      storage.transactionSync(() => {
        for (const a of chunk) sql.exec("UPDATE standings SET granted = 1 WHERE player_id = ?", a.playerId);
      });
    }
  }
}

/**
 * Copies the ranked players' series tiers from D1 into tier_seen, 500 at a time in slot order; a last sweep catches
 * anyone a push added meanwhile below the mark (a reused slot). False if the board was finalized meanwhile.
 */
export async function readSeriesTiers(storage: DurableObjectStorage, d1: D1Database, series: string, finalized: () => boolean): Promise<boolean> {
  const sql = storage.sql;
  const unseen = (mark: number) =>
    sql
      .exec<{ slot: number; player_id: string }>(
        `SELECT slot, player_id FROM entries e WHERE status = 'active' AND slot > ? AND NOT EXISTS (SELECT 1 FROM tier_seen t WHERE t.player_id = e.player_id) ORDER BY slot LIMIT 500`,
        mark,
      )
      .toArray();
  for (let mark = 0, sweeps = 0; sweeps < 3; ) {
    const batch = unseen(mark);
    if (!batch.length) {
      if (mark === 0) return true;
      mark = 0;
      sweeps++;
      continue;
    }
    mark = batch[batch.length - 1].slot;
    const found = await readTiers(d1, series, batch.map((r) => r.player_id));
    if (finalized()) return false;
    storage.transactionSync(() => {
      for (const r of batch) sql.exec("INSERT OR REPLACE INTO tier_seen (player_id, tier) VALUES (?, ?)", r.player_id, found.get(r.player_id)?.tier ?? null);
    });
  }
  return true;
}
