// Players: GET /v1/events/recommended (issue 15), the seed's personalized recommendations. One D1 batch reads the
// candidates (active events and those starting within the horizon, columns only), the player's profile and the
// weights; the eligibility rules are the feed's (domain/instance isEligible on the token's level and clan); the score
// is domain/personalization's. No object is called, so it costs one round trip however many events there are.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { recommendationInputs } from "../../db/profiles";
import { recommendationWeights } from "../../db/settings";
import { isEligible } from "../../domain/instance";
import { EMPTY_SCORING_PROFILE, RecommendationList, eventDifficulty, recommend, skill } from "../../domain/personalization";
import { HOUR_MS, iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { PLAYER, errors, json, openApiApp } from "../../http/openapi";

const RecommendedQuery = z.strictObject({
  withinHours: z.coerce.number().min(0).max(24 * 90).default(24 * 7).meta({ description: "Upcoming events starting within this many hours (default 168); active ones always count." }),
});

export const playerRecommendationRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["Events (players)"],
    security: PLAYER,
    method: "get",
    path: "/recommended",
    summary: "The five events best suited to the calling player, with why",
    description:
      "Active and upcoming events the player is eligible for, scored as typeAffinity + difficultyMatch + timeCommitment + rewardRelevance (weights: GET /v1/admin/personalization/settings). Deterministic for a given profile and time; ties go to the smaller event id. README: Personalization.",
    request: { query: RecommendedQuery },
    responses: { 200: json(RecommendationList, "The top 5, best first"), ...errors(400, 401, 429) },
  }),
  async (c) => {
    const now = Date.now();
    const player = c.var.player;
    const { withinHours } = c.req.valid("query");
    const input = await recommendationInputs(c.env.DB, player.playerId, now, now + withinHours * HOUR_MS, { level: player.level, clan: player.clan });
    const weights = recommendationWeights(input.storedWeights);
    const p = input.profile;
    // The token's level is the freshest; a level a game server posted counts when it is higher.
    const level = Math.max(player.level, p?.level ?? 0);
    const playerSkill = skill(level, p?.pacePercentile ?? null, weights.levelForMaxSkill);
    const profile = p
      ? { participation: p.participation, skill: playerSkill, sessionsPerDay: p.sessionsPerDay, avgSessionMinutes: p.avgSessionMinutes, needs: p.needs }
      : { ...EMPTY_SCORING_PROFILE, skill: playerSkill };
    const eligible = input.candidates.filter((e) => isEligible(e, player));
    const byId = new Map(eligible.map((e) => [e.eventId, e]));
    const top = recommend(
      eligible.map((e) => ({ ...e, difficulty: eventDifficulty(e.difficultyRating, e.averageCompletionRate) })),
      profile,
      weights,
      now,
    );
    // Personal: never shared by a cache between players.
    c.header("Cache-Control", "private, no-store");
    return c.json(
      {
        generatedAt: iso(now),
        profileComputedAt: p?.computedAt ?? null,
        skill: playerSkill,
        events: top.map((s) => {
          const e = byId.get(s.eventId)!;
          return { eventId: e.eventId, name: e.name, type: e.type, tier: e.tier, state: e.state, startTime: iso(e.startTime), endTime: iso(e.endTime), score: s.score, breakdown: s.breakdown };
        }),
      },
      200,
    );
  },
);
