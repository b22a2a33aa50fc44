// Ops: personalization (issue 15). A player's profile (an admin's: it is profiling data, spend and habits included,
// like the export that carries it) and the recommendation weights (read by viewers, changed by admins, run-time
// settings in D1 like the alert thresholds).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { readProfile } from "../../db/profiles";
import { readRecommendationWeights, recommendationWeights, writeRecommendationWeights } from "../../db/settings";
import { DEFAULT_WEIGHTS, PlayerProfile, RecommendationSettings, RecommendationWeightsPatch } from "../../domain/personalization";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { logLine } from "../../lib/log";

const PlayerParam = z.object({ playerId: z.string().min(1).max(64).meta({ description: "The player's id: the `sub` of their tokens.", example: "player-42" }) });
const ops = { tags: ["Personalization"], security: OPERATOR };

async function settingsView(d1: D1Database) {
  const stored = await readRecommendationWeights(d1);
  return { weights: recommendationWeights(stored?.value), defaults: DEFAULT_WEIGHTS, updatedAt: stored ? iso(stored.updatedAt) : null, updatedBy: stored?.updatedBy ?? null };
}

export const adminPersonalizationRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/players/{playerId}/profile",
      summary: "A player's profile (admin: personal data)",
      description: "Recomputed hourly from progress, claims and telemetry; level and needs as a game server last posted them. README: Personalization.",
      request: { params: PlayerParam },
      responses: { 200: json(PlayerProfile, "The profile"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      const weights = recommendationWeights((await readRecommendationWeights(c.env.DB))?.value);
      const profile = await readProfile(c.env.DB, playerId, weights.levelForMaxSkill);
      if (!profile) throw new ApiError(404, "profile_not_found", `no profile for player "${playerId}" yet (profiles are recomputed hourly)`);
      return c.json(profile, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/personalization/settings",
      summary: "The recommendation weights in force, and the defaults",
      responses: { 200: json(RecommendationSettings, "The weights"), ...errors(401, 403) },
    }),
    async (c) => c.json(await settingsView(c.env.DB), 200),
  )
  .openapi(
    createRoute({
      ...ops,
      method: "put",
      path: "/personalization/settings",
      summary: "Change recommendation weights (admin)",
      description: "Only the weights given change; the next recommendation uses them.",
      request: { body: jsonRequest(RecommendationWeightsPatch) },
      responses: { 200: json(RecommendationSettings, "The weights after the change"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const stored = (await readRecommendationWeights(c.env.DB))?.value ?? {};
      const patch = c.req.valid("json");
      await writeRecommendationWeights(c.env.DB, { ...stored, ...patch }, c.var.operator, Date.now());
      logLine("info", "analytics", "recommendation weights changed", { actor: c.var.operator, patch });
      return c.json(await settingsView(c.env.DB), 200);
    },
  );
