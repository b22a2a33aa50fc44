// GET /v1/events/:eventId/live: the WebSocket. The Worker checks the token (from Sec-WebSocket-Protocol or ?token=,
// since browsers cannot set headers on a socket) and forwards the upgrade to the player's shard, which accepts it
// with the Hibernation API. Hono's upgradeWebSocket would accept() here in the Worker and never hibernate.
import type { Handler } from "hono";
import { z } from "zod";
import { socketCredentials } from "../actors/shard/live";
import type { AppEnv } from "../http/auth";
import { ApiError } from "../http/errors";
import { eventIdParam } from "../http/ids";
import { shardFor } from "../http/shards";
import { query } from "../http/validate";
import { verifyPlayer } from "../http/player-tokens";

/** `since`: the last `seq` the client saw, to replay what it missed. `token` is read by socketCredentials. */
const LiveQuery = z.object({ since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(), token: z.string().optional() });

export const liveSocket: Handler<AppEnv> = async (c) => {
  const eventId = eventIdParam(c);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError(426, "upgrade_required", "this route speaks WebSocket only");
  const { token, protocol } = socketCredentials(c.req.raw);
  const verified = token ? await verifyPlayer(token, c.env) : null;
  if (!verified) throw new ApiError(401, "unauthorized", "missing, invalid or expired player token (send it in Sec-WebSocket-Protocol or ?token=)");
  const { since } = query(c, LiveQuery);
  const { player } = verified;
  const shard = await shardFor(c.env, eventId, player.playerId);
  const headers = new Headers(c.req.raw.headers);
  headers.set("X-Live-Player", JSON.stringify(player));
  // The shard closes the socket when the token stops being accepted: exp plus the configured leeway.
  headers.set("X-Live-Expires", String(verified.usableUntil));
  if (since !== undefined) headers.set("X-Live-Since", String(since));
  else headers.delete("X-Live-Since");
  if (protocol) headers.set("X-Live-Protocol", protocol);
  else headers.delete("X-Live-Protocol");
  return shard.fetch(new Request(c.req.url, { headers }));
};
