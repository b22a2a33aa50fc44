// What a player's inventory object holds (all of it is theirs), for privacy exports and erasure
// (kit/player-data.ts). Everything here is deleted: the built-in ledger, the inbox, the delivery outcomes and replies.
// The accounting record is D1's reward_ledger, which keeps the grants under the player's pseudonym; a ledger row
// still owed to D1 goes there anonymized.
import type { PlayerTable } from "../kit/player-data";

// `?2 IS NOT NULL`: every row (the object is the player's), while still naming the player's parameter.
const ALL = "?2 IS NOT NULL";

export const INVENTORY_PLAYER_TABLES: readonly PlayerTable[] = [
  { name: "ledger", table: "ledger", match: ALL, erase: "delete" },
  { name: "inbox", table: "inbox", match: ALL, erase: "delete" },
  { name: "deliveries", table: "deliveries", match: ALL, erase: "delete" },
  { name: "inboxClaimReplies", table: "idem", match: ALL, erase: "delete" },
  { name: "acknowledged", table: "meta", match: `k = 'ack' AND ${ALL}`, erase: "delete" },
  { name: "owedLedger", table: "outbox", match: "topic = 'ledger' AND row ->> '$.playerId' = ?2", erase: { set: "row = json_set(row, '$.playerId', ?1)" } },
  { name: "owedInbox", table: "outbox", match: "topic = 'inbox' AND row ->> '$.playerId' = ?2", erase: "delete" },
];
