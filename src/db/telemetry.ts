// telemetry_sessions and telemetry_purchases: the only module that writes them. Game servers' batches go in as JSON
// parameters (json-batch.ts keeps each statement at one bound parameter, far from D1's 100), all chunks in one D1
// batch, so a request is stored whole or not at all. A record id already stored is left alone (ON CONFLICT DO
// NOTHING): a resent batch inserts nothing twice. Rows older than the retention are purged by the hourly cron.
import type { PurchaseRow, SessionRow } from "../domain/telemetry";
import { chunked, field as f } from "./json-batch";

const INSERT_SESSIONS = `
  INSERT INTO telemetry_sessions (session_id, player_id, start, duration_sec, ends_at, platform, received_at)
  SELECT ${["id", "playerId", "start", "durationSec", "endsAt", "platform", "receivedAt"].map(f).join(", ")}
  FROM json_each(?1) AS j WHERE true
  ON CONFLICT (session_id) DO NOTHING
  RETURNING session_id AS id`;

const INSERT_PURCHASES = `
  INSERT INTO telemetry_purchases (purchase_id, player_id, amount, currency, sku, event_id, at, received_at)
  SELECT ${["id", "playerId", "amount", "currency", "sku", "eventId", "at", "receivedAt"].map(f).join(", ")}
  FROM json_each(?1) AS j WHERE true
  ON CONFLICT (purchase_id) DO NOTHING
  RETURNING purchase_id AS id`;

/** The ids actually inserted (RETURNING lists no row the conflict clause skipped), so only those are mirrored. */
async function insert(d1: D1Database, sql: string, rows: unknown[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const results = await d1.batch<{ id: string }>(chunked(d1, sql, rows));
  return results.flatMap((r) => r.results.map((x) => x.id));
}

/** Stores new sessions; returns the ids that were new. */
export const insertSessions = (d1: D1Database, rows: SessionRow[]) => insert(d1, INSERT_SESSIONS, rows);

/** Stores new purchases; returns the ids that were new. */
export const insertPurchases = (d1: D1Database, rows: PurchaseRow[]) => insert(d1, INSERT_PURCHASES, rows);

/** Rows deleted per statement, so one purge never holds D1 for long; the purge loops until nothing is left. */
const PURGE_CHUNK = 5_000;

/**
 * Deletes telemetry older than `before` (sessions by start, purchases by purchase time), a chunk at a time, up to
 * `maxRounds` chunks per table per run (the next hourly run carries on). Returns the rows deleted.
 */
export async function purgeTelemetry(d1: D1Database, before: number, maxRounds = 40): Promise<{ sessions: number; purchases: number }> {
  const purge = async (sql: string) => {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const r = await d1.prepare(sql).bind(before, PURGE_CHUNK).run();
      total += r.meta.changes ?? 0;
      if ((r.meta.changes ?? 0) < PURGE_CHUNK) break;
    }
    return total;
  };
  return {
    sessions: await purge("DELETE FROM telemetry_sessions WHERE rowid IN (SELECT rowid FROM telemetry_sessions WHERE start < ?1 LIMIT ?2)"),
    purchases: await purge("DELETE FROM telemetry_purchases WHERE rowid IN (SELECT rowid FROM telemetry_purchases WHERE at < ?1 LIMIT ?2)"),
  };
}

/**
 * Privacy erasure: a player's telemetry stays, under their pseudonym, so the KPIs already reported (active players,
 * revenue, RPPU, conversion) keep their counts; nothing in it names them any more.
 */
export const eraseTelemetryStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  { name: "telemetry_sessions", statement: d1.prepare("UPDATE telemetry_sessions SET player_id = ?2 WHERE player_id = ?1").bind(playerId, pseudonym) },
  { name: "telemetry_purchases", statement: d1.prepare("UPDATE telemetry_purchases SET player_id = ?2 WHERE player_id = ?1").bind(playerId, pseudonym) },
];
