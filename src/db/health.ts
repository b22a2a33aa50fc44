// sync_health and response_histograms: the only module that writes them. Two cheap measurements the alert rules need
// and nothing else records: the progress shards' drain outcomes (one upsert riding in each drain's own D1 batch) and
// Worker response times (one histogram row per isolate per minute, off the response path).
import { total, type Histogram } from "../domain/histogram";
import { MINUTE_MS } from "../domain/time";

/**
 * A shard's drain outcomes added to its minute: a successful drain (drains 1) with the failed attempts not reported
 * yet, riding in the drain's own batch so it lands exactly when the drain does; or one failed attempt (drains 0,
 * failures 1), sent alone right after D1 refused the drain's batch, so an outage is visible while it lasts.
 */
export function syncHealthStatement(d1: D1Database, eventId: string, shard: number, drains: 0 | 1, failures: number, now: number): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO sync_health (event_id, shard, minute, drains, failures) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (event_id, shard, minute) DO UPDATE SET drains = drains + excluded.drains, failures = failures + excluded.failures`,
    )
    .bind(eventId, shard, Math.floor(now / MINUTE_MS) * MINUTE_MS, drains, failures);
}

/** One isolate's minute of response times, as bucket counts (src/domain/histogram.ts): one row, one statement. */
export async function insertResponseHistogram(d1: D1Database, isolate: string, minute: number, h: Histogram) {
  if (h.size === 0) return;
  await d1
    .prepare("INSERT INTO response_histograms (isolate, minute, samples, buckets) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(isolate, minute, total(h), JSON.stringify(Object.fromEntries(h)))
    .run();
}

/** The histograms of every isolate for minutes in [from, to], summed per bucket in SQL (at most ~140 rows back). */
export async function responseHistogram(d1: D1Database, from: number, to: number): Promise<Histogram> {
  const rows = await d1
    .prepare(
      `SELECT CAST(j.key AS INTEGER) AS b, SUM(j.value) AS n FROM response_histograms r, json_each(r.buckets) j
       WHERE r.minute >= ? AND r.minute <= ? GROUP BY b`,
    )
    .bind(from, to)
    .all<{ b: number; n: number }>();
  return new Map(rows.results.map((r) => [r.b, r.n]));
}

/** Rows deleted per statement, and statements per run: a purge never holds D1 for long, whatever piled up. */
export const PURGE_CHUNK = 500;
const PURGE_CHUNKS_PER_RUN = 4;

/**
 * Both tables only serve the alert windows (minutes): rows older than `keep` are deleted on every run, in bounded
 * chunks (a backlog goes over a few runs). Returns the rows deleted.
 */
export async function purgeHealth(d1: D1Database, now: number, keep: { syncMs: number; responseMs: number }): Promise<number> {
  let deleted = 0;
  for (const [table, column, before] of [
    ["sync_health", "minute", now - keep.syncMs],
    ["response_histograms", "minute", now - keep.responseMs],
  ] as const) {
    for (let i = 0; i < PURGE_CHUNKS_PER_RUN; i++) {
      const r = await d1
        .prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ?)`)
        .bind(before, PURGE_CHUNK)
        .run();
      deleted += r.meta.changes;
      if (r.meta.changes < PURGE_CHUNK) break;
    }
  }
  return deleted;
}
