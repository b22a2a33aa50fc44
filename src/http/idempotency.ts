// Idempotency-Key on admin creates (POST /v1/admin/events, POST /v1/admin/templates), with the claims' semantics:
// the same key with the same body answers what the first request answered (status and body, plus
// `Idempotent-Replayed: true`); the same key with a different body is 422 idempotency_key_reused. Keys belong to the
// operator key that sent them and are kept 24 h. The header is optional; without it nothing here happens.
// The store is D1 (src/db/idempotency.ts says why): the first request reserves the key with one INSERT, so of two
// concurrent duplicates exactly one creates; the other waits for its answer and replays it.
import type { MiddlewareHandler } from "hono";
import { complete, release, reserve } from "../db/idempotency";
import { DAY_MS } from "../domain/time";
import type { AppEnv } from "./auth";
import { ApiError } from "./errors";
import { sha256Hex } from "./operators";

/** A reservation whose request never answered (its isolate died) is given up after this. */
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
  let held = await reserve(db, { scope, key, route, bodyHash }, Date.now(), DAY_MS, STALE_MS);
  if (held) {
    if (held.route !== route || held.bodyHash !== bodyHash) {
      throw new ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request; use a new key for a new request", {
        firstUsedAt: new Date(held.createdAt).toISOString(),
      });
    }
    for (let waited = 0; held && held.status === null && waited < WAIT_MS; waited += POLL_MS) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      held = await reserve(db, { scope, key, route, bodyHash }, Date.now(), DAY_MS, STALE_MS);
    }
    // The first request failed and released the key meanwhile, and this one now holds it: carry on as the first.
    if (held && held.status !== null) return replay(held.status, held.response ?? "");
    if (held) {
      c.header("Retry-After", "1");
      throw new ApiError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still being processed; retry shortly");
    }
  }
  try {
    await next();
  } catch (err) {
    await release(db, scope, key);
    throw err;
  }
  // Only a success is remembered: a refusal changed nothing, so the same key may be retried once the cause is fixed.
  if (c.res.status >= 200 && c.res.status < 300) await complete(db, scope, key, c.res.status, await c.res.clone().text());
  else await release(db, scope, key);
};
