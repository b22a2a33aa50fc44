// Game servers, with a server key: pull a player's built-in inventory ledger, acknowledge what they took into the
// game (which frees the slots), report progress a player made on the server's side, and post a player's level and
// current needs for recommendations. Each route's scope is in
// SERVER_POLICY (src/domain/access.ts), which the app's guard applies.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { playerInventoryActor } from "../../actors/stubs";
import { readConfig } from "../../config";
import { ProgressUpdates } from "../../domain/model";
import { ProfileNeedsBody } from "../../domain/personalization";
import { writeNeeds } from "../../db/profiles";
import { InventoryAck, InventoryPage, ProgressAck } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { unwrap } from "../../http/errors";
import { eventIdParam } from "../../http/ids";
import { errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { shardFor } from "../../http/shards";

const SERVER = [{ serverBearer: [] }];
const PlayerId = z.string().min(1).max(64).meta({ description: "The player's id: the `sub` of their tokens.", example: "player-42" });
const PlayerParam = z.object({ playerId: PlayerId });

const InventoryQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0).meta({ description: "Entries after this cursor (the nextCursor of the previous page)." }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const AckBody = z.strictObject({ upTo: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).meta({ description: "The last cursor taken into the game." }) });

/**
 * The player's own progress body, plus what the server knows about the player that a token would otherwise carry:
 * an event with a level or clan rule checks them (level 1 and no clan when left out, as for a token without them).
 */
const ServerProgressBody = z.strictObject({
  updates: ProgressUpdates,
  level: z.number().int().min(0).optional().meta({ description: "The player's level (default 1), for events with a minimum level." }),
  clan: z.string().min(1).max(64).nullable().optional().meta({ description: "The player's clan, for clan-only events." }),
});

export const serverPlayerRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/players/{playerId}/inventory",
      tags: ["Server"],
      security: SERVER,
      summary: "Read a player's inventory ledger (inventory:read)",
      description: "Read only: paging never frees a slot. Acknowledge with POST …/inventory/ack.",
      request: { params: PlayerParam, query: InventoryQuery },
      responses: { 200: json(InventoryPage, "A page of ledger entries"), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      const q = c.req.valid("query");
      return c.json(await playerInventoryActor(c.env, playerId).inventory(q.since, q.limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/players/{playerId}/inventory/ack",
      tags: ["Server"],
      security: SERVER,
      summary: "Acknowledge ledger entries taken into the game (inventory:ack)",
      description: "Frees the slots of every entry up to `upTo`. Idempotent: acknowledgement never moves back.",
      request: { params: PlayerParam, body: jsonRequest(AckBody) },
      responses: { 200: json(InventoryAck, "The acknowledged cursor and the slots now used"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      const { upTo } = c.req.valid("json");
      return c.json(await playerInventoryActor(c.env, playerId).acknowledge(upTo), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/players/{playerId}/profile",
      tags: ["Server"],
      security: SERVER,
      summary: "Post a player's level, current needs and time zone (profile:write)",
      description: "What the player wants now (reward types, item ids) and their level, for recommendations, and their IANA time zone for local-time events (used when their token has no tz claim). Only what is given changes; needs replace the previous needs; a timeZone of null clears it.",
      request: { params: PlayerParam, body: jsonRequest(ProfileNeedsBody) },
      responses: { 204: { description: "Stored" }, ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      await writeNeeds(c.env.DB, playerId, c.req.valid("json"), Date.now());
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/events/{eventId}/players/{playerId}/progress",
      tags: ["Server"],
      security: SERVER,
      summary: "Report progress for a player (progress:write)",
      description: "Server-reported progress: the same body, limits and shard as the player's own POST /v1/events/{eventId}/progress.",
      request: {
        params: z.object({ eventId: z.string(), playerId: PlayerId }),
        body: jsonRequest(ServerProgressBody, { maxBytes: (ctx) => readConfig(ctx.env).progressMaxBytes }),
      },
      responses: { 200: json(ProgressAck, "What was applied"), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
    }),
    async (c) => {
      const eventId = eventIdParam(c);
      const { playerId } = c.req.valid("param");
      const body = c.req.valid("json");
      const shard = await shardFor(c.env, eventId, playerId);
      const result = await shard.progress({ playerId, level: body.level ?? 1, clan: body.clan ?? null }, body.updates as never);
      if (!result.ok && result.code === "rate_limited") c.header("Retry-After", String((result.details as { retryAfter: number }).retryAfter));
      return c.json(unwrap(result), 200);
    },
  );
