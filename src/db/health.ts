// sync_health and response_samples: the only module that writes them. Two cheap measurements the alert rules need
// and nothing else records: the progress shards' drain outcomes (one upsert riding in each drain's own D1 batch) and
// sampled Worker response times (a batch per isolate every few seconds, off the response path).
import { DAY_MS, MINUTE_MS } from "../domain/time";

/**
 * One successful drain of a shard, and the failed attempts before it (the kit Schedule's stored attempt count for
 * the drain row), added to the shard's minute. Sent inside the drain's batch, so it lands exactly when the drain does.
 */
export function syncHealthStatement(d1: D1Database, eventId: string, shard: number, failedAttempts: number, now: number): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO sync_health (event_id, shard, minute, drains, failures) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (event_id, shard, minute) DO UPDATE SET drains = drains + 1, failures = failures + excluded.failures`,
    )
    .bind(eventId, shard, Math.floor(now / MINUTE_MS) * MINUTE_MS, failedAttempts);
}

/** A batch of (at, ms) samples as one statement (one JSON parameter). */
export async function insertResponseSamples(d1: D1Database, samples: { at: number; ms: number }[]) {
  if (samples.length === 0) return;
  await d1
    .prepare("INSERT INTO response_samples (at, ms) SELECT json_extract(value, '$.at'), json_extract(value, '$.ms') FROM json_each(?)")
    .bind(JSON.stringify(samples))
    .run();
}

/** Both tables only serve the alert windows (minutes): a day is plenty. */
export async function purgeHealth(d1: D1Database, now: number) {
  await d1.batch([
    d1.prepare("DELETE FROM sync_health WHERE minute < ?").bind(now - DAY_MS),
    d1.prepare("DELETE FROM response_samples WHERE at < ?").bind(now - DAY_MS),
  ]);
}
