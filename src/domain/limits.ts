// Per-player limits. One player must never be able to slow the others, so every budget here is per player, never per
// connection: all of a player's HTTP progress and all of their sockets for an event land on the same progress shard
// (fnv1a(playerId) mod shardCount), which keeps these budgets in memory and asks these functions. Pure: the clock is
// passed in.
import { SECOND_MS } from "./time";

/** A token bucket: `tokens` as of `at`. Refilled lazily, so an idle player costs nothing. */
export type Bucket = { tokens: number; at: number };
export type Rate = { perSecond: number; burst: number };

/**
 * A player's progress budget. Requests (HTTP posts and socket frames alike) and the updates they carry are counted
 * separately because each bounds a different cost: a request is a round trip into the shard and a durable write
 * whatever it holds, an update is work inside it. Counting requests alone lets 100-update batches through at full
 * rate; counting updates alone lets a flood of one-update requests through at a hundred times the request rate.
 */
export type ProgressBudget = { requests: Bucket; updates: Bucket };
export type ProgressPolicy = { requests: Rate; updates: Rate };

/** How many seconds of the steady rate a player may spend at once (a reconnect's resend, a burst of play). */
export const BURST_SECONDS = 2;
/** The largest progress request holds this many updates; the update bucket always holds at least one such request. */
export const MAX_UPDATES_PER_REQUEST = 100;

export function progressPolicy(requestsPerSecond: number, updatesPerSecond: number): ProgressPolicy {
  return {
    requests: { perSecond: requestsPerSecond, burst: Math.max(1, requestsPerSecond * BURST_SECONDS) },
    updates: { perSecond: updatesPerSecond, burst: Math.max(MAX_UPDATES_PER_REQUEST, updatesPerSecond * BURST_SECONDS) },
  };
}

function refill(bucket: Bucket | undefined, rate: Rate, now: number): Bucket {
  if (!bucket) return { tokens: rate.burst, at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(rate.burst, bucket.tokens + (elapsed * rate.perSecond) / SECOND_MS), at: now };
}

/** Milliseconds until `bucket` holds `cost` tokens (0 if it already does). */
function waitFor(bucket: Bucket, cost: number, rate: Rate): number {
  return bucket.tokens >= cost ? 0 : Math.ceil(((cost - bucket.tokens) * SECOND_MS) / rate.perSecond);
}

export type Spend = { ok: true; budget: ProgressBudget } | { ok: false; budget: ProgressBudget; retryAfterMs: number };

/**
 * Charges one progress request of `updates` updates. All or nothing: a refused request spends nothing, so a client
 * that waits `retryAfterMs` is let through, and one that keeps hammering only ever pays for a memory read.
 */
export function spendProgress(budget: ProgressBudget | undefined, updates: number, policy: ProgressPolicy, now: number): Spend {
  const requests = refill(budget?.requests, policy.requests, now);
  const upd = refill(budget?.updates, policy.updates, now);
  const cost = Math.min(updates, policy.updates.burst);
  const wait = Math.max(waitFor(requests, 1, policy.requests), waitFor(upd, cost, policy.updates));
  if (wait > 0) return { ok: false, budget: { requests, updates: upd }, retryAfterMs: wait };
  return { ok: true, budget: { requests: { tokens: requests.tokens - 1, at: now }, updates: { tokens: upd.tokens - cost, at: now } } };
}

/** True once a budget has refilled completely: forgetting it then changes nothing, so the shard may drop it. */
export function isRested(budget: ProgressBudget, policy: ProgressPolicy, now: number): boolean {
  return refill(budget.requests, policy.requests, now).tokens >= policy.requests.burst && refill(budget.updates, policy.updates, now).tokens >= policy.updates.burst;
}

/** Whole seconds for a Retry-After header (at least 1: "0" would invite an immediate retry that is refused again). */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / SECOND_MS));

/**
 * The sockets to close so that one more fits under `max` per player: the oldest first. A client that reconnects
 * without closing its old socket (a page reload, a flaky network) keeps working, and a token shared by many clients
 * cannot hold more than `max` sockets open on the shard.
 */
export function socketsToSupersede<S extends { connectedAt: number }>(open: S[], max: number): S[] {
  const excess = open.length - Math.max(0, max - 1);
  if (excess <= 0) return [];
  return [...open].sort((a, b) => a.connectedAt - b.connectedAt).slice(0, excess);
}

/**
 * True if a text frame is larger than `maxBytes` of UTF-8. Decided from the length where that settles it (a UTF-16
 * unit is 1 to 3 bytes), so an oversized frame is refused without being encoded, let alone parsed.
 */
export function textExceeds(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return new TextEncoder().encode(text).byteLength > maxBytes;
}

/**
 * True if a parsed JSON value nests deeper than `maxDepth` (a scalar is depth 0, `[1]` depth 1). Iterative, so a
 * value nested thousands deep is measured without a stack overflow; it stops at the first path that is too deep.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== "object") return false;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}
