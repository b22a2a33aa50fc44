// Ops: the clan ranking across a cooperative event (its clan leaderboard, README "Clans"), one clan's view, and clearing a
// flagged member (which releases their held clan rewards once the clan is final), with a reason kept in its audit log.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { clanActor, clanDirectory } from "../../actors/stubs";
import { ClanFlagCleared, ClanRanking, ClanView } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { clanInfo } from "../../http/clans";
import { unwrap } from "../../http/errors";
import { EventIdParam, OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";

const EventPath = z.object({ eventId: EventIdParam });
const ClanId = z.string().min(1).max(64).meta({ description: "The clan id, as players' tokens carry it in `clan`" });
const ClanPath = z.object({ eventId: EventIdParam, clanId: ClanId });
const MemberPath = z.object({ eventId: EventIdParam, clanId: ClanId, playerId: z.string().min(1).max(64) });
const RankingQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(300).optional().meta({ description: "nextCursor of the previous page" }),
});
const MembersQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: "Members listed, best first" }) });
const Reason = z.strictObject({ reason: z.string().trim().min(1).max(500) }).meta({ id: "ClanClearReason" });

const ops = { tags: ["Clans (ops)"], security: OPERATOR };

export const adminClanRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/clans",
      summary: "Clan ranking across the event (the final clan standings once recorded), highest total first",
      request: { params: EventPath, query: RankingQuery },
      responses: { 200: json(ClanRanking, "Clans by total"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const info = await clanInfo(c.env, c.req.valid("param").eventId);
      const { limit, cursor } = c.req.valid("query");
      return c.json(unwrap(await clanDirectory(c.env, info.eventId).ranking(limit, cursor ?? null, null)), 200);
    },
  )
  .openapi(
    createRoute({ ...ops, method: "get", path: "/{eventId}/clans/{clanId}", summary: "One clan's total, milestones and member ranking (the top `limit` members)", request: { params: ClanPath, query: MembersQuery }, responses: { 200: json(ClanView, "The clan"), ...errors(400, 401, 403, 404) } }),
    async (c) => {
      const { eventId, clanId } = c.req.valid("param");
      const info = await clanInfo(c.env, eventId);
      return c.json(await clanActor(c.env, info.eventId, clanId).view(info, null, c.req.valid("query").limit), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{eventId}/clans/{clanId}/members/{playerId}/clear-flag",
      summary: "Clear a flagged clan member (their held clan rewards are released if the clan is final)",
      request: { params: MemberPath, body: jsonRequest(Reason) },
      responses: { 200: json(ClanFlagCleared, "Cleared, and recorded in the clan's audit log"), ...errors(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const { eventId, clanId, playerId } = c.req.valid("param");
      const info = await clanInfo(c.env, eventId);
      const { reason } = c.req.valid("json");
      const { released } = unwrap(await clanActor(c.env, info.eventId, clanId).clearFlag(playerId, { actor: c.var.operator, reason }));
      return c.json({ playerId, clanId, released }, 200);
    },
  );
