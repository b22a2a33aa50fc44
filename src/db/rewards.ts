// rewards_claimed, reward_ledger and inbox_items. Every write is insert-or-ignore or a status upsert keyed by a
// stable id, so the objects that own these rows can retry a failed flush as often as they need to; a claimed inbox
// item never goes back to pending, however late an older copy lands.
import { chunked, field as f } from "./json-batch";

export type ClaimRow = { claimId: string; playerId: string; eventId: string; milestoneIndex: number; rewards: string; source: string; signature: string; claimedAt: number };
export type LedgerRow = { ledgerId: string; playerId: string; eventId: string; milestoneIndex: number; source: string; receiptId: string; rewards: string; deliveredVia: string; at: number };
export type InboxRow = {
  itemId: string;
  playerId: string;
  eventId: string;
  milestoneIndex: number;
  receiptId: string;
  rewards: string;
  source: string;
  reason: string;
  status: string;
  arrivedAt: number;
  expiresAt: number;
  claimedAt: number | null;
};

export const claimStatements = (d1: D1Database, rows: ClaimRow[]) =>
  chunked(
    d1,
    `INSERT OR IGNORE INTO rewards_claimed (claim_id, player_id, event_id, milestone_index, rewards, source, signature, claimed_at)
     SELECT ${["claimId", "playerId", "eventId", "milestoneIndex", "rewards", "source", "signature", "claimedAt"].map(f).join(", ")} FROM json_each(?1) AS j`,
    rows,
  );

export const ledgerStatements = (d1: D1Database, rows: LedgerRow[]) =>
  chunked(
    d1,
    `INSERT OR IGNORE INTO reward_ledger (ledger_id, player_id, event_id, milestone_index, source, receipt_id, rewards, delivered_via, at)
     SELECT ${["ledgerId", "playerId", "eventId", "milestoneIndex", "source", "receiptId", "rewards", "deliveredVia", "at"].map(f).join(", ")} FROM json_each(?1) AS j`,
    rows,
  );

export const inboxStatements = (d1: D1Database, rows: InboxRow[]) =>
  chunked(
    d1,
    `INSERT INTO inbox_items (item_id, player_id, event_id, milestone_index, receipt_id, rewards, source, reason, status, arrived_at, expires_at, claimed_at)
     SELECT ${["itemId", "playerId", "eventId", "milestoneIndex", "receiptId", "rewards", "source", "reason", "status", "arrivedAt", "expiresAt", "claimedAt"].map(f).join(", ")}
     FROM json_each(?1) AS j WHERE true
     ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, claimed_at = excluded.claimed_at
     WHERE inbox_items.status != 'claimed'`,
    rows,
  );

/**
 * Privacy erasure: claims and the ledger are the accounting record of what was granted, so they stay under the player's
 * pseudonym; a claim's signature goes with the id (a receipt's JWS names the player). The inbox goes.
 */
export const eraseRewardStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  { name: "rewards_claimed", statement: d1.prepare("UPDATE OR REPLACE rewards_claimed SET player_id = ?1, signature = '' WHERE player_id = ?2").bind(pseudonym, playerId) },
  { name: "reward_ledger", statement: d1.prepare("UPDATE reward_ledger SET player_id = ?1 WHERE player_id = ?2").bind(pseudonym, playerId) },
  { name: "inbox_items", statement: d1.prepare("DELETE FROM inbox_items WHERE player_id = ?").bind(playerId) },
];
