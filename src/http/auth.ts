// Three kinds of caller, one guard each. Ops hold an operator API key with a role (or the bootstrap ADMIN_TOKEN);
// game servers hold a server key with scopes; players hold a JWT from the game's own auth (src/http/player-tokens.ts).
// Who may call what is decided by the policy tables in src/domain/access.ts, applied here and nowhere else.
import type { Context, MiddlewareHandler } from "hono";
import { BOOTSTRAP_ACTOR, BOOTSTRAP_SCOPES, SERVER_POLICY, TELEMETRY_POLICY, below, eventBodyNeeds, keyActor, parseKey, requiredRole, requiredScope, roleAtLeast, serverAccess, type Role } from "../domain/access";
import type { Player } from "../domain/model";
import { ApiError, noRoute } from "./errors";
import { sameSecret, verifyKey, type KeyHolder } from "./operators";
import { verifyPlayer } from "./player-tokens";

export type { Player };

export type AppEnv = {
  Bindings: Env;
  Variables: {
    player: Player;
    /** The audit log's actor: `bootstrap`, `key:<keyId>:<name>`, or the calendar feed. */
    operator: string;
    role: Role;
    /** Whose Idempotency-Keys these are: one operator key's never collide with another's. */
    idempotencyScope: string;
    server: KeyHolder;
  };
};

function bearer(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/** The player a token proves, or null. Kept for callers that only need the player (the socket route uses verifyPlayer). */
export async function verifyPlayerToken(token: string, env: Env): Promise<Player | null> {
  return (await verifyPlayer(token, env))?.player ?? null;
}

/** The operator name of a request let in by the calendar feed token; the calendar route serves such a request as a feed. */
export const CALENDAR_FEED_OPERATOR = "calendar-feed";

/** Who is calling an admin route, and with which role; refuses with 401 (not a credential) or 403 (not an ops one). */
async function identifyOperator(c: Context<AppEnv>): Promise<{ actor: string; role: Role; scope: string }> {
  const token = bearer(c.req.header("Authorization"));
  // Calendar apps cannot send headers. A separate read-only secret in the URL lets them subscribe to the ICS feed
  // without putting an ops key into anyone's calendar settings. Some apps probe the URL with HEAD first.
  const feedToken = c.req.query("token");
  const read = c.req.method === "GET" || c.req.method === "HEAD";
  if (!token && feedToken && c.env.CALENDAR_FEED_TOKEN && read && c.req.path === "/v1/admin/calendar") {
    if (!(await sameSecret(feedToken, c.env.CALENDAR_FEED_TOKEN))) throw new ApiError(401, "unauthorized", "invalid calendar feed token");
    return { actor: CALENDAR_FEED_OPERATOR, role: "viewer", scope: CALENDAR_FEED_OPERATOR };
  }
  if (!token) throw new ApiError(401, "unauthorized", "missing bearer token");
  if (c.env.ADMIN_TOKEN && (await sameSecret(token, c.env.ADMIN_TOKEN))) return { actor: BOOTSTRAP_ACTOR, role: "admin", scope: BOOTSTRAP_ACTOR };
  if (parseKey(token)) {
    const key = await verifyKey(c.env, token);
    if (!key) throw new ApiError(401, "unauthorized", "unknown or revoked API key");
    if (key.kind !== "operator" || !key.role) throw new ApiError(403, "forbidden", "server keys cannot call admin routes");
    return { actor: keyActor(key.keyId, key.name), role: key.role, scope: `key:${key.keyId}` };
  }
  if (await verifyPlayer(token, c.env)) throw new ApiError(403, "forbidden", "player tokens cannot call admin routes");
  throw new ApiError(401, "unauthorized", "invalid admin credential");
}

/**
 * The admin app's guard: authenticates, then applies ADMIN_POLICY (403 `forbidden` naming the role needed). The
 * audit actor is the authenticated operator, never a header.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const who = await identifyOperator(c);
  const need = requiredRole(c.req.method, below("/v1/admin", c.req.path));
  if (!roleAtLeast(who.role, need)) throw new ApiError(403, "forbidden", `this needs the ${need} role; this caller has ${who.role}`, { required: need, role: who.role });
  c.set("operator", who.actor);
  c.set("role", who.role);
  c.set("idempotencyScope", who.scope);
  await next();
};

/**
 * The part of the admin policy that depends on the body: an operator may schedule an event, but content overrides and
 * `force` need an admin (eventBodyNeeds). 403 `forbidden` naming the role and the fields.
 */
export function requireEventBodyRole(c: Context<AppEnv>, body: Record<string, unknown>) {
  const { need, fields } = eventBodyNeeds(body);
  if (roleAtLeast(c.var.role, need)) return;
  throw new ApiError(403, "forbidden", `${fields.join(", ")} in this request need the ${need} role; this caller has ${c.var.role}`, { required: need, role: c.var.role, fields });
}

/** The server app's guard: a live server key holding the scope SERVER_POLICY names for the route. */
export const requireServer: MiddlewareHandler<AppEnv> = (c, next) => serverGuard(c, next, "/v1/server", SERVER_POLICY);

/**
 * The telemetry app's guard: a server key with the scope TELEMETRY_POLICY names (analytics:write), or the bootstrap
 * ADMIN_TOKEN (backfills and tests from ops tooling).
 */
export const requireTelemetryWriter: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("Authorization"));
  if (token && c.env.ADMIN_TOKEN && (await sameSecret(token, c.env.ADMIN_TOKEN))) {
    c.set("operator", BOOTSTRAP_ACTOR);
    return next();
  }
  return serverGuard(c, next, "/v1/telemetry", TELEMETRY_POLICY);
};

/** A live server key holding the scope `rules` name for the path below `mount`; unlisted paths are a 404. */
async function serverGuard(c: Context<AppEnv>, next: () => Promise<void>, mount: string, rules: typeof SERVER_POLICY) {
  const token = bearer(c.req.header("Authorization"));
  if (!token) throw new ApiError(401, "unauthorized", "missing bearer token");
  // The bootstrap ADMIN_TOKEN may call the few server routes ops tooling backfills (BOOTSTRAP_SCOPES); elsewhere it is
  // refused below like any credential that is not a server key.
  if (c.env.ADMIN_TOKEN && !parseKey(token) && (await sameSecret(token, c.env.ADMIN_TOKEN))) {
    const need = requiredScope(c.req.method, below(mount, c.req.path), rules);
    if (need !== null && BOOTSTRAP_SCOPES.includes(need)) {
      c.set("operator", BOOTSTRAP_ACTOR);
      return next();
    }
  }
  const key = parseKey(token) ? await verifyKey(c.env, token) : null;
  if (!key) {
    if (parseKey(token)) throw new ApiError(401, "unauthorized", "unknown or revoked API key");
    throw new ApiError(401, "unauthorized", "server routes take a server key (lek_srv_…)");
  }
  if (key.kind !== "server") throw new ApiError(403, "forbidden", "only server keys can call server routes");
  const access = serverAccess(c.req.method, below(mount, c.req.path), key.scopes, rules);
  if (!access.allow && access.need === null) throw noRoute(c);
  if (!access.allow) throw new ApiError(403, "forbidden", `this needs the ${access.need} scope`, { required: access.need, scopes: key.scopes });
  c.set("server", key);
  c.set("operator", keyActor(key.keyId, key.name));
  await next();
}

export const requirePlayer: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("Authorization"));
  if (!token) throw new ApiError(401, "unauthorized", "missing bearer token");
  const why: { refused?: string } = {};
  const verified = await verifyPlayer(token, c.env, Date.now(), why);
  if (!verified) throw new ApiError(401, "unauthorized", why.refused ? `player token refused: ${why.refused}` : "invalid or expired player token");
  c.set("player", verified.player);
  await next();
};
