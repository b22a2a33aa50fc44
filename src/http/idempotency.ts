// Idempotency-Key on admin creates (POST /v1/admin/events, POST /v1/admin/templates), with the claims' semantics:
// the same key with the same body answers what the first request answered (status and body, plus
// `Idempotent-Replayed: true`); the same key with a different body is 422 idempotency_key_reused. Keys belong to the
// operator key that sent them and are kept 24 h. The header is optional; without it nothing here happens.
// The store is D1 (src/db/idempotency.ts says why): the first request reserves the key with one INSERT, so of two
// concurrent duplicates exactly one creates; the other waits for its answer and replays it.
// As with Stripe, a key is spent once its request may have changed something: only a refusal (4xx) frees it. After a
// 5xx, or a holder that went silent, nobody knows whether the event exists, so the key answers 409
// idempotency_outcome_unknown rather than risk creating it twice.
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { complete, release, reserve, type StoredAnswer } from "../db/idempotency";
import { DAY_MS } from "../domain/time";
import type { AppEnv } from "./auth";
import { ApiError } from "./errors";
import { sha256Hex } from "./operators";

/** A reservation whose request has not answered after this is taken to have died, with an unknown outcome. */
const STALE_MS = 60_000;
/** How long a duplicate waits for the first request's answer before telling the client to retry. */
const WAIT_MS = 10_000;
const POLL_MS = 100;
/** The hash covers at most this much body; larger bodies are refused by the route's own limit anyway. */
const MAX_HASHED_BYTES = 256 * 1024;

/** A copy of the body, read without consuming the request the route will read. */
async function bodyText(req: Request): Promise<string> {
  const declared = Number(req.headers.get("Content-Length") ?? 0);
  if (declared > MAX_HASHED_BYTES || !req.body) return "";
  const reader = req.clone().body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    size += step.value.byteLength;
    if (size > MAX_HASHED_BYTES) {
      reader.cancel().catch(() => {});
      return "";
    }
    chunks.push(step.value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

const replay = (status: number, body: string) =>
  new Response(body, { status, headers: { "Content-Type": "application/json; charset=UTF-8", "Idempotent-Replayed": "true" } });

/** The status an error thrown by the route becomes (src/app.ts onError): its own if it has one, else 500. */
const statusOf = (err: unknown) => (err instanceof ApiError || err instanceof HTTPException ? err.status : 500);

const reused = (held: StoredAnswer) =>
  new ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request; use a new key for a new request", {
    firstUsedAt: new Date(held.createdAt).toISOString(),
  });

const outcomeUnknown = (held: StoredAnswer) =>
  new ApiError(
    409,
    "idempotency_outcome_unknown",
    "the first request with this Idempotency-Key failed without an answer, so it may or may not have created something; check (e.g. list events) before sending it again with a new key",
    { firstUsedAt: new Date(held.createdAt).toISOString() },
  );

export const idempotentCreate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (!key) return next();
  if (key.length > 200) throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be at most 200 characters");
  const route = `${c.req.method} ${c.req.path}`;
  // Same bytes, same request: a client retrying resends what it sent. An oversized body hashes as empty and is then
  // refused by the route's limit, which releases the key again.
  const bodyHash = await sha256Hex(await bodyText(c.req.raw));
  const scope = c.var.idempotencyScope;
  const db = c.env.DB;
  const request = { scope, key, route, bodyHash };
  let held = await reserve(db, request, Date.now(), DAY_MS);
  for (let waited = 0; held; waited += POLL_MS) {
    // Checked on every look, not only the first: while this request waited, the first may have been refused and have
    // released the key, and a different request may now hold it. Its answer is not this request's.
    if (held.route !== route || held.bodyHash !== bodyHash) throw reused(held);
    if (held.status !== null && held.status < 500) return replay(held.status, held.response ?? "");
    // A 5xx, or a holder silent for STALE_MS (its isolate died, or it created and then failed to record the answer):
    // the create may have happened. Running it again could make a second event, so the key stays spent.
    if (held.status !== null || Date.now() - held.createdAt > STALE_MS) throw outcomeUnknown(held);
    if (waited >= WAIT_MS) {
      c.header("Retry-After", "1");
      throw new ApiError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed; retry shortly");
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    // The first request was refused and released the key meanwhile, and this one now holds it (null): carry on as the first.
    held = await reserve(db, request, Date.now(), DAY_MS);
  }
  let status: number;
  try {
    await next();
    status = c.res.status;
  } catch (err) {
    // A refusal changed nothing and frees the key; anything else may have changed something, like a 5xx answer.
    if (statusOf(err) < 500) await release(db, scope, key);
    else await complete(db, scope, key, statusOf(err), null);
    throw err;
  }
  // Successes are replayed; a refusal (4xx) changed nothing, so the same key may be retried once the cause is fixed.
  if (status >= 200 && status < 300) await complete(db, scope, key, status, await c.res.clone().text());
  else if (status < 500) await release(db, scope, key);
  else await complete(db, scope, key, status, null);
};
