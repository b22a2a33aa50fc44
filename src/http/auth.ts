// Two kinds of caller. Ops hold ADMIN_TOKEN. Players hold an HS256 JWT minted by the game's own auth server.
import type { MiddlewareHandler } from "hono";
import { verifyHs256 } from "../lib/jwt";
import { ApiError } from "./errors";
import type { Player } from "../domain/model";

export type { Player };

export type AppEnv = { Bindings: Env; Variables: { player: Player; operator: string } };

function bearer(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/** Constant-time comparison, so the admin token cannot be guessed byte by byte from response timing. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export async function verifyPlayerToken(token: string, secret: string): Promise<Player | null> {
  try {
    // exp is mandatory, so a leaked token cannot live forever.
    const claims = await verifyHs256(token, secret, Math.floor(Date.now() / 1000));
    if (!claims) return null;
    if (typeof claims.sub !== "string" || claims.sub.length === 0 || claims.sub.length > 64) return null;
    // A malformed level must not quietly become 0 or 1 and pass eligibility checks it should not.
    const level = claims.lvl === undefined ? 1 : claims.lvl;
    if (typeof level !== "number" || !Number.isInteger(level) || level < 0) return null;
    const clan = typeof claims.clan === "string" && claims.clan.length > 0 ? claims.clan : null;
    return { playerId: claims.sub, level, clan };
  } catch {
    return null;
  }
}

/** The operator name of a request let in by the calendar feed token; the calendar route serves such a request as a feed. */
export const CALENDAR_FEED_OPERATOR = "calendar-feed";

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("Authorization"));
  // Calendar apps cannot send headers. A separate read-only secret in the URL lets them subscribe to the ICS feed
  // without putting the admin token into anyone's calendar settings. Some apps probe the URL with HEAD first.
  const feedToken = c.req.query("token");
  const read = c.req.method === "GET" || c.req.method === "HEAD";
  if (!token && feedToken && c.env.CALENDAR_FEED_TOKEN && read && c.req.path === "/v1/admin/calendar") {
    if (!(await sameSecret(feedToken, c.env.CALENDAR_FEED_TOKEN))) throw new ApiError(401, "unauthorized", "invalid calendar feed token");
    c.set("operator", CALENDAR_FEED_OPERATOR);
    return next();
  }
  if (!token) throw new ApiError(401, "unauthorized", "missing bearer token");
  if (!c.env.ADMIN_TOKEN || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
    const player = c.env.PLAYER_TOKEN_SECRET ? await verifyPlayerToken(token, c.env.PLAYER_TOKEN_SECRET) : null;
    if (player) throw new ApiError(403, "forbidden", "player tokens cannot call admin routes");
    throw new ApiError(401, "unauthorized", "invalid admin token");
  }
  // One shared admin token cannot tell ops apart; X-Operator names who acted in the audit log.
  const operator = c.req.header("X-Operator")?.trim().slice(0, 100);
  c.set("operator", operator ? `ops:${operator}` : "ops");
  await next();
};

export const requirePlayer: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("Authorization"));
  if (!token) throw new ApiError(401, "unauthorized", "missing bearer token");
  const player = await verifyPlayerToken(token, c.env.PLAYER_TOKEN_SECRET);
  if (!player) throw new ApiError(401, "unauthorized", "invalid or expired player token");
  c.set("player", player);
  await next();
};
