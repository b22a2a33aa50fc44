// Players: their clan's progress in a cooperative event: the clan total, clan milestones, the member ranking and their
// own share (with how much more they need to reach the reward threshold). The clan is the one the caller's token names.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { clanActor } from "../../actors/stubs";
import { MAX_CLAN_ID, clanIdOf } from "../../domain/clan";
import { ClanView } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { clanInfo } from "../../http/clans";
import { ApiError } from "../../http/errors";
import { EventIdParam, PLAYER, errors, json, openApiApp } from "../../http/openapi";

const EventPath = z.object({ eventId: EventIdParam });

export const playerClanRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["Clans"],
    security: PLAYER,
    method: "get",
    path: "/{eventId}/clan",
    summary: "The caller's clan: total, milestones, member ranking and the caller's own share",
    request: { params: EventPath },
    responses: { 200: json(ClanView, "The clan as of now (me: null until the caller contributes)"), ...errors(400, 401, 403, 404, 429) },
  }),
  async (c) => {
    const info = await clanInfo(c.env, c.req.valid("param").eventId);
    const { playerId } = c.var.player;
    const clan = clanIdOf(c.var.player);
    if (!clan) throw new ApiError(403, "no_clan", `your token names no clan (a clan claim of 1–${MAX_CLAN_ID} characters)`);
    return c.json(await clanActor(c.env, info.eventId, clan).view(info, playerId), 200);
  },
);
