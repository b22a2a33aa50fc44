// What a clan object holds about a player, for privacy exports and erasure (kit/player-data.ts). The member's
// contribution stays in the clan's total and member count under the player's pseudonym (the clan earned its
// milestones with it; removing it could take back rewards other members already hold). An award not handed out yet
// is not handed out. The audit log keeps its rows, naming the pseudonym.
import type { PlayerTable } from "../kit/player-data";

export const CLAN_PLAYER_TABLES: readonly PlayerTable[] = [
  { name: "member", table: "members", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
  { name: "memberAmounts", table: "member_amounts", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
  { name: "awards", table: "awards", match: "player_id = ?2", erase: { set: "player_id = ?1, granted = 1" } },
  { name: "audit", table: "audit", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
];
