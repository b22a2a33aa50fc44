// GET /v1/events/:eventId/live: the WebSocket. The Worker checks the token (from Sec-WebSocket-Protocol or ?token=,
// since browsers cannot set headers on a socket) and forwards the upgrade to the player's shard, which accepts it
// with the Hibernation API. Hono's upgradeWebSocket would accept() here in the Worker and never hibernate.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { socketCredentials } from "../actors/shard/live";
import { ClientFrame, LIVE_PROTOCOL, ServerFrame } from "../domain/live";
import type { AppEnv } from "../http/auth";
import { ApiError } from "../http/errors";
import { checkEventId } from "../http/ids";
import { EventIdParam, PLAYER, errors, openApiApp } from "../http/openapi";
import { shardFor } from "../http/shards";
import { verifyPlayer } from "../http/player-tokens";

/** `since`: the last `seq` the client saw, to replay what it missed. `token` is read by socketCredentials. */
const LiveQuery = z.object({
  since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().meta({ description: "The last seq seen: the frames missed since are replayed first." }),
  token: z.string().optional().meta({ description: "The player JWT, for clients that cannot send it in Sec-WebSocket-Protocol." }),
});

const route = createRoute({
  tags: ["Live channel"],
  security: PLAYER,
  method: "get",
  path: "/{eventId}/live",
  summary: "The live channel (WebSocket)",
  description:
    `Upgrade with \`Sec-WebSocket-Protocol: ${LIVE_PROTOCOL}, <jwt>\` (the player JWT itself as the second protocol; or \`?token=<jwt>\`). Frames are JSON: the client sends ` +
    "`LiveClientFrame`s and receives `LiveServerFrame`s (see components). The README's Live channel section lists every frame, error and close code.",
  request: { params: z.object({ eventId: EventIdParam }), query: LiveQuery },
  responses: { 101: { description: "Switching Protocols: the socket is open and its first frame is an event_state snapshot" }, ...errors(400, 401, 404, 426) },
});

export const liveRoutes = openApiApp<AppEnv>().openapi(route, async (c) => {
  const eventId = checkEventId(c.req.valid("param").eventId);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError(426, "upgrade_required", "this route speaks WebSocket only");
  const { token, protocol } = socketCredentials(c.req.raw);
  const verified = token ? await verifyPlayer(token, c.env) : null;
  if (!verified) throw new ApiError(401, "unauthorized", "missing, invalid or expired player token (send it in Sec-WebSocket-Protocol or ?token=)");
  const { since } = c.req.valid("query");
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
});

// The frames travel over the socket, not HTTP, so no route refers to them: registered so generated clients get both
// discriminated unions (on `type`).
liveRoutes.openAPIRegistry.register("LiveClientFrame", ClientFrame);
liveRoutes.openAPIRegistry.register("LiveServerFrame", ServerFrame);
