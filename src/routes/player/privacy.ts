// A player's own data export (the right of access): the same export ops get, of the caller and no one else.
import { createRoute } from "@hono/zod-openapi";
import { privacyActor } from "../../actors/stubs";
import { PlayerExport } from "../../domain/privacy-views";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { PLAYER, errors, json, openApiApp } from "../../http/openapi";
import { privacySalt, pseudonym } from "../../lib/pseudonym";

export const playerPrivacyRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["Privacy"],
    security: PLAYER,
    method: "post",
    path: "/export",
    summary: "Everything held about the calling player (their token's `sub`), from D1 and every object that holds them",
    description: "At most one a minute per player (else 429 with Retry-After); each also counts against the player's read budget.",
    responses: { 200: json(PlayerExport, "The player's rows, by source and table"), ...errors(401, 429, 503) },
  }),
  async (c) => {
    const { playerId } = c.var.player;
    const stub = privacyActor(c.env, await pseudonym(privacySalt(c.env), playerId));
    const answer = await stub.exportOwn(playerId);
    if (!answer.ok) {
      c.header("Retry-After", String(answer.retryAfterSec));
      throw new ApiError(429, "rate_limited", "one export a minute per player; wait Retry-After seconds", { retryAfter: answer.retryAfterSec });
    }
    return c.json(answer.export, 200);
  },
);
