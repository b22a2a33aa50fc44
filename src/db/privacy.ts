// One player's rows across D1, for privacy exports and erasure: which tables hold them (read here), which events they
// took part in (so their shards, boards and clans can be found), and the erasing statements each table's own module
// builds (progress.ts, rewards.ts, notifications.ts, leaderboards.ts, telemetry.ts, rollups.ts, profiles.ts, adaptive.ts).
import { eraseBoardStatements } from "./leaderboards";
import { eraseNotificationStatements } from "./notifications";
import { eraseAdaptationStatements } from "./adaptive";
import { eraseProfileStatements } from "./profiles";
import { eraseProgressStatements } from "./progress";
import { eraseRewardStatements } from "./rewards";
import { eraseKeptStatements } from "./rollups";
import { eraseTelemetryStatements } from "./telemetry";

/** Every D1 table naming a player, and the column that does. */
export const PLAYER_TABLES: ReadonlyArray<{ table: string; column: string }> = [
  { table: "player_progress", column: "player_id" },
  { table: "progress_flags", column: "player_id" },
  { table: "rewards_claimed", column: "player_id" },
  { table: "reward_ledger", column: "player_id" },
  { table: "inbox_items", column: "player_id" },
  { table: "notification_queue", column: "target_player_id" },
  { table: "notification_interactions", column: "player_id" },
  { table: "leaderboard_standings", column: "player_id" },
  { table: "leaderboard_tiers", column: "player_id" },
  { table: "telemetry_sessions", column: "player_id" },
  { table: "telemetry_purchases", column: "player_id" },
  { table: "event_payers", column: "player_id" },
  { table: "event_active_players", column: "player_id" },
  { table: "player_profiles", column: "player_id" },
  { table: "adaptive_decisions", column: "player_id" },
];

const JSON_COLUMNS = new Set(["objectives", "unlocked_milestones", "rewards", "payload", "participation", "needs", "targets", "assist"]);

function readable(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === "string" && JSON_COLUMNS.has(k) ? JSON.parse(v) : v;
  return out;
}

/** The player's rows in every table above, in one batch. */
export async function playerRecords(d1: D1Database, playerId: string): Promise<Record<string, unknown[]>> {
  const results = await d1.batch(PLAYER_TABLES.map((t) => d1.prepare(`SELECT * FROM ${t.table} WHERE ${t.column} = ?`).bind(playerId)));
  return Object.fromEntries(PLAYER_TABLES.map((t, i) => [t.table, (results[i].results as Record<string, unknown>[]).map(readable)]));
}

/** What the privacy job needs of an event the player has rows in: where their shard, board and clans live. */
export type PlayerEvent = { eventId: string; shardCount: number; board: boolean; cohortSize: number; clan: boolean };

/** The events the player has any row in (progress, flags, claims, ledger, inbox, standings), with their layout. */
export async function playerEvents(d1: D1Database, playerId: string): Promise<PlayerEvent[]> {
  // One query per table (D1 caps the terms of a compound SELECT), then the events' layout in one more.
  const sources = ["player_progress", "progress_flags", "rewards_claimed", "reward_ledger", "inbox_items", "leaderboard_standings"];
  const found = await d1.batch<{ event_id: string }>(sources.map((t) => d1.prepare(`SELECT DISTINCT event_id FROM ${t} WHERE player_id = ?`).bind(playerId)));
  return eventLayouts(d1, [...new Set(found.flatMap((r) => r.results.map((e) => e.event_id)))].sort());
}

/**
 * Events whose shards may hold progress D1 has not seen yet (running, or ended and not archived: the last drains
 * land after expiry): a player who joined a moment ago is only in their shard, so the erase job asks it directly.
 */
export async function eventsStillWriting(d1: D1Database): Promise<PlayerEvent[]> {
  const { results } = await d1.prepare("SELECT event_id FROM instances WHERE state IN ('active', 'paused', 'expired') ORDER BY event_id").all<{ event_id: string }>();
  return eventLayouts(d1, results.map((r) => r.event_id));
}

async function eventLayouts(d1: D1Database, ids: string[]): Promise<PlayerEvent[]> {
  if (!ids.length) return [];
  const { results } = await d1
    .prepare(
      `SELECT event_id, document ->> '$.shardCount' AS shard_count, document -> '$.leaderboard' AS board, document -> '$.clan' AS clan
       FROM instances WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id`,
    )
    .bind(JSON.stringify(ids))
    .all<{ event_id: string; shard_count: number | null; board: string | null; clan: string | null }>();
  return results.map((r) => {
    const board = r.board ? (JSON.parse(r.board) as { cohortSize?: number } | null) : null;
    return { eventId: r.event_id, shardCount: r.shard_count ?? 1, board: !!board, cohortSize: board?.cohortSize ?? 0, clan: !!(r.clan && JSON.parse(r.clan)) };
  });
}

/** Erases the player across D1 in one batch (one transaction); rows touched per table. */
export async function erasePlayerRecords(d1: D1Database, playerId: string, pseudonym: string): Promise<Record<string, number>> {
  const steps = [
    ...eraseProgressStatements(d1, playerId, pseudonym),
    ...eraseRewardStatements(d1, playerId, pseudonym),
    ...eraseNotificationStatements(d1, playerId),
    ...eraseBoardStatements(d1, playerId, pseudonym),
    ...eraseTelemetryStatements(d1, playerId, pseudonym),
    ...eraseKeptStatements(d1, playerId, pseudonym),
    ...eraseProfileStatements(d1, playerId),
    ...eraseAdaptationStatements(d1, playerId, pseudonym),
  ];
  const results = await d1.batch(steps.map((s) => s.statement));
  // A table erased in two statements (move to the pseudonym, then delete what could not move) counts the rows of
  // both, except a merge's copy (`counted: false`), whose rows the delete that follows counts.
  const touched: Record<string, number> = {};
  steps.forEach((s, i) => (touched[s.name] = (touched[s.name] ?? 0) + ("counted" in s && s.counted === false ? 0 : (results[i].meta.changes ?? 0))));
  return touched;
}
