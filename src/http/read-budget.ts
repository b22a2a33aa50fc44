// Each player's reads, counted by the Workers Rate Limiting binding keyed by player id (not by connection or address):
// a client polling in a loop is refused with 429 before it reaches an object, so it cannot take an event's, a
// board's or a shard's time from the other players. Writes have their own budgets where the work is (progress in its
// shard, claims per minute). The binding counts per Cloudflare location and is eventually consistent: a budget, not an
// exact quota. Without the binding (a deployment that removed it), reads are not limited.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./auth";
import { ApiError } from "./errors";

/** The binding's window in seconds (wrangler.toml `simple.period`): the longest a refused reader must wait. */
const WINDOW_SECONDS = 10;

/** Reads sent as POST: a player's own export (the costliest read there is; it has its own per-minute limit too). */
const READ_POSTS = /^\/v1\/me\/export\/?$/;

const isRead = (method: string, path: string) => method === "GET" || method === "HEAD" || (method === "POST" && READ_POSTS.test(path));

export const playerReadBudget: MiddlewareHandler<AppEnv> = async (c, next) => {
  const limiter = c.env.PLAYER_READS as RateLimit | undefined;
  if (limiter && isRead(c.req.method, c.req.path)) {
    const { success } = await limiter.limit({ key: c.var.player.playerId });
    if (!success) {
      c.header("Retry-After", String(WINDOW_SECONDS));
      throw new ApiError(429, "rate_limited", "too many reads by this player; wait Retry-After seconds", { retryAfter: WINDOW_SECONDS });
    }
  }
  await next();
};
