// Reward records in D1. Every write is insert-or-ignore or a status upsert keyed by a stable id, so the objects
// that own these rows can retry a failed flush as often as they need to.

const CHUNK = 200;

function chunked(d1: D1Database, sql: string, rows: unknown[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(d1.prepare(sql).bind(JSON.stringify(rows.slice(i, i + CHUNK))));
  return out;
}

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
export type NotificationRow = {
  notificationId: string;
  eventId: string;
  type: string;
  playerId: string | null;
  scheduledTime: number;
  payload: string;
  createdAt: number;
  /** Defaults to pending (awaiting push); rows with no push leg are written as sent. */
  status?: "pending" | "sent";
};

const f = (name: string) => `j.value ->> '$.${name}'`;

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
     ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, claimed_at = excluded.claimed_at`,
    rows,
  );

/**
 * A notification that fired: one row, id fixed by type (and player). It fills in a planned row of the schedule
 * (payload still NULL) and otherwise leaves an existing row alone, so a re-fired alarm changes nothing.
 */
export const notificationStatements = (d1: D1Database, rows: NotificationRow[]) =>
  chunked(
    d1,
    `INSERT INTO notification_queue (notification_id, event_id, notification_type, target_player_id, scheduled_time, status, payload, created_at)
     SELECT ${["notificationId", "eventId", "type", "playerId", "scheduledTime"].map(f).join(", ")}, COALESCE(${f("status")}, 'pending'), ${f("payload")}, ${f("createdAt")}
     FROM json_each(?1) AS j WHERE true
     ON CONFLICT (notification_id) DO UPDATE SET payload = excluded.payload, scheduled_time = excluded.scheduled_time, status = excluded.status
     WHERE notification_queue.payload IS NULL`,
    rows,
  );

/** The schedule as the record shows it: planned rows pending at their time, dropped ones cancelled; fired rows untouched. */
export const notificationPlanStatements = (d1: D1Database, rows: (Omit<NotificationRow, "status"> & { status: string })[]) =>
  chunked(
    d1,
    `INSERT INTO notification_queue (notification_id, event_id, notification_type, target_player_id, scheduled_time, status, payload, created_at)
     SELECT ${["notificationId", "eventId", "type"].map(f).join(", ")}, NULL, ${f("scheduledTime")}, ${f("status")}, NULL, ${f("createdAt")}
     FROM json_each(?1) AS j WHERE true
     ON CONFLICT (notification_id) DO UPDATE SET scheduled_time = excluded.scheduled_time, status = excluded.status
     WHERE notification_queue.payload IS NULL`,
    rows,
  );
