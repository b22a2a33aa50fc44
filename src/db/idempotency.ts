// The Idempotency-Key store of admin creates (src/http/idempotency.ts). D1 rather than the scheduler object: every
// isolate sees the same rows, they outlive any one object, and the primary key (scope, key) makes "who got here first"
// one atomic INSERT, so two concurrent duplicates cannot both go ahead. Template creates never touch the scheduler,
// and should not start queueing behind it for this.

export type StoredAnswer = { route: string; bodyHash: string; status: number | null; response: string | null; createdAt: number };

/**
 * Claims (scope, key) for a request, first dropping rows older than `keepMs`. Returns null if this request now holds
 * the key, or the row that another request left. An unanswered row is never dropped early: its request may have
 * created something before it died (src/http/idempotency.ts answers such a key with "outcome unknown").
 */
export async function reserve(
  d1: D1Database,
  r: { scope: string; key: string; route: string; bodyHash: string },
  now: number,
  keepMs: number,
  attempt = 0,
): Promise<StoredAnswer | null> {
  const [, inserted] = await d1.batch([
    d1.prepare("DELETE FROM idempotency_keys WHERE created_at < ?").bind(now - keepMs),
    d1
      .prepare("INSERT INTO idempotency_keys (scope, key, route, body_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .bind(r.scope, r.key, r.route, r.bodyHash, now),
  ]);
  if (inserted.meta.changes === 1) return null;
  const held = await lookup(d1, r.scope, r.key);
  // Gone between the two statements (expired, or released by a refused request): try once more rather than answer "in use".
  if (held || attempt > 0) return held ?? { ...r, status: null, response: null, createdAt: now };
  return reserve(d1, r, now, keepMs, attempt + 1);
}

export async function lookup(d1: D1Database, scope: string, key: string): Promise<StoredAnswer | null> {
  return d1
    .prepare("SELECT route, body_hash AS bodyHash, status, response, created_at AS createdAt FROM idempotency_keys WHERE scope = ? AND key = ?")
    .bind(scope, key)
    .first<StoredAnswer>();
}

/** The answer to replay, or (a 5xx status, no response) the mark of a request whose outcome is unknown. */
export async function complete(d1: D1Database, scope: string, key: string, status: number, response: string | null): Promise<void> {
  await d1.prepare("UPDATE idempotency_keys SET status = ?, response = ? WHERE scope = ? AND key = ?").bind(status, response, scope, key).run();
}

/** A refused request (4xx) changed nothing, so its key is released: the client may fix the body and retry with it. */
export async function release(d1: D1Database, scope: string, key: string): Promise<void> {
  await d1.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status IS NULL").bind(scope, key).run();
}
