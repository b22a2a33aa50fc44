// Players: the top of their board (their cohort's, or the global one) with cursor pagination, and their own place
// with N neighbours each side. The event's board definition (memoized per isolate), the caller's cohort (from their
// shard), then one read of the board.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { leaderboardActor } from "../../actors/stubs";
import { GLOBAL_COHORT } from "../../domain/leaderboard";
import { BoardMe, BoardPage } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { ApiError, unwrap } from "../../http/errors";
import { eventMechanics } from "../../http/event-cache";
import { checkEventId } from "../../http/ids";
import { shardFor } from "../../http/shards";
import { EventIdParam, PLAYER, errors, json, openApiApp } from "../../http/openapi";

const EventPath = z.object({ eventId: EventIdParam });
const TopQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(300).optional().meta({ description: "nextCursor of the previous page" }),
});
const MeQuery = z.strictObject({ around: z.coerce.number().int().min(0).max(50).default(5) });

const players = { tags: ["Leaderboards"], security: PLAYER };

/**
 * The caller's board: the event must have one; null until the caller's first score places them in a cohort. The event
 * comes from the isolate's short memo and the cohort from the caller's own shard, so no read goes to an object every
 * player of the event shares.
 */
async function boardOf(env: Env, rawEventId: string, playerId: string): Promise<{ eventId: string; cohortId: string | null }> {
  const eventId = checkEventId(rawEventId);
  const def = (await eventMechanics(env, eventId)).leaderboard;
  if (!def) throw new ApiError(404, "leaderboard_not_found", "this event has no leaderboard");
  return { eventId, cohortId: def.cohortSize === 0 ? GLOBAL_COHORT : await (await shardFor(env, eventId, playerId)).boardCohort(playerId) };
}

export const playerLeaderboardRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}/leaderboard",
      summary: "The top of the caller's board (their cohort, or the global board)",
      request: { params: EventPath, query: TopQuery },
      responses: { 200: json(BoardPage, "A page of the board, best first"), ...errors(400, 401, 404, 429) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const { eventId, cohortId } = await boardOf(c.env, c.req.valid("param").eventId, c.var.player.playerId);
      if (!cohortId) return c.json({ cohortId: null, total: 0, finalized: false, entries: [], nextCursor: null }, 200);
      return c.json(unwrap(await leaderboardActor(c.env, eventId, cohortId).top(limit, cursor ?? null)), 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}/leaderboard/me",
      summary: "The caller's rank, score and percentile, with N neighbours each side",
      request: { params: EventPath, query: MeQuery },
      responses: { 200: json(BoardMe, "The caller's place (rank null: not on the board yet)"), ...errors(400, 401, 404, 429) },
    }),
    async (c) => {
      const { around } = c.req.valid("query");
      const { eventId, cohortId } = await boardOf(c.env, c.req.valid("param").eventId, c.var.player.playerId);
      if (!cohortId) return c.json({ cohortId: null, total: 0, finalized: false, rank: null, score: null, percentile: null, neighbours: [] }, 200);
      return c.json(await leaderboardActor(c.env, eventId, cohortId).me(c.var.player.playerId, around), 200);
    },
  );
