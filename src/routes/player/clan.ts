// Players: their clan's progress in a cooperative event: the clan total, clan milestones, the member ranking and their
// own share (with how much more they need to reach the reward threshold). The clan is the one the caller's token names.
// And the clan ranking across the event (the clan leaderboard), a page at a time, with the caller's clan's own place.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { clanActor, clanDirectory } from "../../actors/stubs";
import { CLAN_MEMBERS_DEFAULT, MAX_CLAN_ID, clanIdOf } from "../../domain/clan";
import { ClanRanking, ClanView } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { clanInfo } from "../../http/clans";
import { ApiError, unwrap } from "../../http/errors";
import { EventIdParam, PLAYER, errors, json, openApiApp } from "../../http/openapi";

const EventPath = z.object({ eventId: EventIdParam });
const MembersQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(CLAN_MEMBERS_DEFAULT).meta({ description: "Members listed, best first" }) });
const RankingQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(300).optional().meta({ description: "nextCursor of the previous page" }),
});

export const playerClanRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      tags: ["Clans"],
      security: PLAYER,
      method: "get",
      path: "/{eventId}/clan",
      summary: "The caller's clan: total, milestones, member ranking and the caller's own share",
      request: { params: EventPath, query: MembersQuery },
      responses: { 200: json(ClanView, "The clan as of now: the top `limit` members, and the caller's own line with its rank (me: null until the caller contributes)"), ...errors(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const info = await clanInfo(c.env, c.req.valid("param").eventId);
      const { playerId } = c.var.player;
      const clan = clanIdOf(c.var.player);
      if (!clan) throw new ApiError(403, "no_clan", `your token names no clan (a clan claim of 1–${MAX_CLAN_ID} characters)`);
      return c.json(await clanActor(c.env, info.eventId, clan).view(info, playerId, c.req.valid("query").limit), 200);
    },
  )
  .openapi(
    createRoute({
      tags: ["Clans"],
      security: PLAYER,
      method: "get",
      path: "/{eventId}/clans",
      summary: "The clan ranking (clan leaderboard): clans by total, a page at a time, and the caller's clan's place",
      request: { params: EventPath, query: RankingQuery },
      responses: { 200: json(ClanRanking, "A page of the ranking, best first (the final standings once recorded)"), ...errors(400, 401, 404, 429) },
    }),
    async (c) => {
      const info = await clanInfo(c.env, c.req.valid("param").eventId);
      const { limit, cursor } = c.req.valid("query");
      return c.json(unwrap(await clanDirectory(c.env, info.eventId).ranking(limit, cursor ?? null, clanIdOf(c.var.player))), 200);
    },
  );
