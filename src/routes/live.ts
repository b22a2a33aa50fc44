// GET /v1/events/:eventId/live: the WebSocket. The Worker checks the token (from Sec-WebSocket-Protocol or ?token=,
// since browsers cannot set headers on a socket) and forwards the upgrade to the player's shard, which accepts it
// with the Hibernation API. Hono's upgradeWebSocket would accept() here in the Worker and never hibernate.
import type { Handler } from "hono";
import { socketCredentials } from "../actors/shard/live";
import { verifyPlayerToken, type AppEnv } from "../http/auth";
import { ApiError } from "../http/errors";
import { eventIdParam } from "../http/ids";
import { shardFor } from "../http/shards";

export const liveSocket: Handler<AppEnv> = async (c) => {
  const eventId = eventIdParam(c);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError(426, "upgrade_required", "this route speaks WebSocket only");
  const { token, protocol } = socketCredentials(c.req.raw);
  const player = token ? await verifyPlayerToken(token, c.env.PLAYER_TOKEN_SECRET) : null;
  if (!player) throw new ApiError(401, "unauthorized", "missing, invalid or expired player token (send it in Sec-WebSocket-Protocol or ?token=)");
  const shard = await shardFor(c.env, eventId, player.playerId);
  const headers = new Headers(c.req.raw.headers);
  headers.set("X-Live-Player", JSON.stringify(player));
  if (protocol) headers.set("X-Live-Protocol", protocol);
  else headers.delete("X-Live-Protocol");
  return shard.fetch(new Request(c.req.url, { headers }));
};
