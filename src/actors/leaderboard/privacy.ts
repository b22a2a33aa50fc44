// What a board (or the event's cohort directory) holds about a player, for privacy exports and erasure
// (kit/player-data.ts). A live entry is deleted, so the board ranks without the player. Final standings stay under
// the player's pseudonym: the other players' final ranks and rewards were decided with that row, and the digest
// covers it. A rank reward not handed out yet is not handed out. Flags, tiers and the directory's assignment go; the
// audit log keeps its rows, naming the pseudonym.
import type { PlayerTable } from "../kit/player-data";

export const BOARD_PLAYER_TABLES: readonly PlayerTable[] = [
  { name: "entries", table: "entries", match: "player_id = ?2", erase: "delete" },
  { name: "standings", table: "standings", match: "player_id = ?2", erase: { set: "player_id = ?1, granted = 1" } },
  { name: "flagged", table: "flagged", match: "player_id = ?2", erase: "delete" },
  { name: "audit", table: "audit", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
  { name: "seriesTierRead", table: "tier_seen", match: "player_id = ?2", erase: "delete" },
  { name: "cohortAssignment", table: "assignments", match: "player_id = ?2", erase: "delete" },
  // What D1 is still owed: the standing goes there anonymized, the series tier not at all.
  { name: "owedStanding", table: "outbox", match: "topic = 'standing' AND id = ?2", erase: { set: "id = ?1, row = json_set(row, '$.playerId', ?1)" } },
  { name: "owedTier", table: "outbox", match: "topic = 'tier' AND id = ?2", erase: "delete" },
];
