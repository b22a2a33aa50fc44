// What a progress shard holds about a player, for privacy exports and erasure (kit/player-data.ts). Progress, flags,
// claim keys, replay frames, board and clan bookkeeping are deleted. Claims stay for accounting under the player's
// pseudonym, without their signature (a receipt's JWS names the player in `sub`). A contribution on its way to a clan
// is kept under the pseudonym too (the clan keeps it in its total); a score on its way to a board is dropped (a board
// ranks without the erased player).
import type { PlayerDataOp, PlayerDataPart } from "../contracts";
import { playerRows, type PlayerTable } from "../kit/player-data";

const inBatch = (table: string) => `EXISTS (SELECT 1 FROM json_each(${table}.batch, '$.entries') WHERE value ->> '$.playerId' = ?2)`;

export const SHARD_PLAYER_TABLES: readonly PlayerTable[] = [
  { name: "progress", table: "players", match: "player_id = ?2", erase: "delete" },
  { name: "claims", table: "claims", match: "player_id = ?2", erase: { set: "player_id = ?1, receipt = json_remove(json_set(receipt, '$.playerId', ?1), '$.jws', '$.signature')" } },
  { name: "claimKeys", table: "claim_keys", match: "player_id = ?2", erase: "delete" },
  { name: "flags", table: "flag_counts", match: "player_id = ?2", erase: "delete" },
  { name: "liveFrames", table: "live_log", match: "player_id = ?2", erase: "delete" },
  { name: "boardCohort", table: "board_players", match: "player_id = ?2", erase: "delete" },
  { name: "boardPending", table: "board_pending", match: "player_id = ?2", erase: "delete" },
  { name: "rankRewards", table: "rank_rewards", match: "player_id = ?2", erase: "delete" },
  { name: "clanPending", table: "clan_pending", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
  { name: "clanRewards", table: "clan_rewards", match: "player_id = ?2", erase: "delete" },
  // Statistical anti-cheat: the open review goes; its history is an audit trail, kept under the pseudonym.
  { name: "review", table: "reviews", match: "player_id = ?2", erase: "delete" },
  { name: "reviewLog", table: "review_log", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
  { name: "clanMemberships", table: "clan_members", match: "player_id = ?2", erase: "delete" },
  // Adaptive difficulty: the decision stays under the pseudonym (the report's holdout counts it); the stall clock goes.
  // A player erased before, who came back and was judged again, already has a row under the pseudonym: the newer
  // decision replaces it (one per person and event, as in D1).
  { name: "adaptive", table: "adaptive", match: "player_id = ?2", erase: { set: "player_id = ?1", merge: ["DELETE FROM adaptive WHERE player_id = ?1 AND EXISTS (SELECT 1 FROM adaptive WHERE player_id = ?2)"] } },
  { name: "milestoneMarks", table: "milestone_marks", match: "player_id = ?2", erase: "delete" },
  { name: "timeZone", table: "player_zones", match: "player_id = ?2", erase: "delete" },
  // What D1 is still owed: claim rows go there anonymized, milestone feed rows naming the player not at all.
  { name: "owedClaims", table: "outbox", match: "topic = 'claim' AND row ->> '$.playerId' = ?2", erase: { set: "row = json_set(row, '$.playerId', ?1, '$.signature', '')" } },
  { name: "owedAdaptations", table: "outbox", match: "topic = 'adapt' AND row ->> '$.playerId' = ?2", erase: { set: "row = json_set(row, '$.playerId', ?1)" } },
  { name: "owedRows", table: "outbox", match: "topic NOT IN ('claim', 'adapt') AND row ->> '$.playerId' = ?2", erase: "delete" },
  {
    name: "boardInflight",
    table: "board_inflight",
    match: inBatch("board_inflight"),
    erase: { set: "batch = json_set(batch, '$.entries', (SELECT json_group_array(json(value)) FROM json_each(board_inflight.batch, '$.entries') WHERE value ->> '$.playerId' <> ?2))" },
    export: false,
  },
  {
    name: "clanInflight",
    table: "clan_inflight",
    match: inBatch("clan_inflight"),
    erase: {
      set: `batch = json_set(batch, '$.entries', (SELECT json_group_array(json(CASE WHEN value ->> '$.playerId' = ?2 THEN json_set(value, '$.playerId', ?1) ELSE value END))
        FROM json_each(clan_inflight.batch, '$.entries')))`,
    },
    export: false,
  },
];

/** The clans this shard has pushed the player's contributions to, or is about to: where their clan rows are. */
export function playerClans(sql: SqlStorage, playerId: string): string[] {
  const pending = sql.exec<{ clan_id: string }>("SELECT clan_id FROM clan_pending WHERE player_id = ? UNION SELECT clan_id FROM clan_rewards WHERE player_id = ?", playerId, playerId).toArray();
  // Once pushed, a contribution leaves no per-player row here: every clan this shard ever pushed to may hold one.
  const pushed = sql.exec<{ clan_id: string }>("SELECT clan_id FROM clan_seq UNION SELECT clan_id FROM clan_inflight").toArray();
  return [...new Set([...pending, ...pushed].map((r) => r.clan_id))];
}

export function playerCohort(sql: SqlStorage, playerId: string): string | null {
  return sql.exec<{ cohort_id: string }>("SELECT cohort_id FROM board_players WHERE player_id = ?", playerId).toArray()[0]?.cohort_id ?? null;
}

/**
 * The player's rows here (export) or their erasure, and where else they are: their board cohort and clans. An erasure
 * also drops what `memory` (the shard's in-memory caches of players, board cohorts, adjustments) still holds of them.
 */
export function shardPlayerData(storage: DurableObjectStorage, playerId: string, op: PlayerDataOp, memory: Array<{ forget(playerId: string): void }>): PlayerDataPart {
  const links = { cohortId: playerCohort(storage.sql, playerId), clanIds: playerClans(storage.sql, playerId) };
  const part = playerRows(storage, SHARD_PLAYER_TABLES, playerId, op);
  if (op.kind === "erase") for (const cache of memory) cache.forget(playerId);
  return { ...part, links };
}
