// Personalization (issue 15): the player profile's derived figures and the seed's recommendation score, pure. The
// hourly job (src/jobs/profiles.ts) gathers the aggregates from D1 and stores a profile per player; GET
// /v1/events/recommended scores the eligible candidates against it with the weights ops set. Every formula here is
// the README's (Personalization), so a designer can recompute a breakdown by hand.
import { z } from "zod";
import { EVENT_TYPES, REWARD_TYPES, type EventTier, type EventType, type RewardData } from "./model-base";
import { DAY_MS } from "./time";
import { isKnownZone } from "./local-time";

// ---- the profile --------------------------------------------------------------------------------------------------

/** Sessions and purchases count over this trailing window (telemetry's own retention may be shorter). */
export const PROFILE_WINDOW_DAYS = 30;
/** Pace is judged on the player's most recent ended events, at most this many. */
export const PACE_EVENTS = 10;
/** Completion histograms have this many buckets: a percentile is exact to 1/PACE_BUCKETS within an event. */
export const PACE_BUCKETS = 20;
/** Changed rows read per source per page of the profile job (a run takes pages up to its budget). */
export const PROFILE_BATCH = 500;

/**
 * Where the profile job stands: every change at or before (at, player) in (time, player id) order is in a profile; a
 * null player means all of `at` (SQL's (t, p) > (at, NULL) holds only for t > at).
 */
export type ProfileCursor = { at: number; player: string | null };

export const SPEND_SEGMENTS = ["non_payer", "minnow", "dolphin", "whale"] as const;
export type SpendSegment = (typeof SPEND_SEGMENTS)[number];
/** Upper bounds (exclusive) of minnow and dolphin, in reporting-currency units over the profile window. */
export const SPEND_BOUNDS = { minnow: 20, dolphin: 100 } as const;

export function spendSegment(total: number): SpendSegment {
  if (!(total > 0)) return "non_payer";
  if (total < SPEND_BOUNDS.minnow) return "minnow";
  if (total < SPEND_BOUNDS.dolphin) return "dolphin";
  return "whale";
}

/** Sessions per day over the window, counted from the first session seen in it (a new player is not diluted). */
export function sessionsPerDay(count: number, firstStart: number | null, now: number): number {
  if (!count || firstStart === null) return 0;
  const days = Math.min(PROFILE_WINDOW_DAYS, Math.max(1, (now - firstStart) / DAY_MS));
  return round(count / days);
}

/** The completion bucket of a value in [0, 1] (1 falls in the last bucket). */
export const paceBucket = (completion: number) => Math.min(PACE_BUCKETS - 1, Math.max(0, Math.floor(completion * PACE_BUCKETS)));

/**
 * The player's pace percentile in one ended event: the share of its participants who got less far in the same window,
 * plus half of those in the player's own bucket (mid-rank). Everyone had the same window, so how far a player got is
 * their pace. `histogram[b]` counts participants per bucket; null when the event has no participants.
 */
export function pacePercentile(completion: number, histogram: readonly number[]): number | null {
  const n = histogram.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const b = paceBucket(completion);
  let below = 0;
  for (let i = 0; i < b; i++) below += histogram[i] ?? 0;
  return round((below + 0.5 * (histogram[b] ?? 0)) / n);
}

/** Mean of the per-event percentiles that exist; null when none do. */
export function meanPace(percentiles: readonly (number | null)[]): number | null {
  const known = percentiles.filter((p): p is number => p !== null);
  return known.length ? round(known.reduce((a, b) => a + b, 0) / known.length) : null;
}

/**
 * Skill in [0, 1]: the mean of the parts known. The level part is level / levelForMaxSkill (capped at 1; level 1 is
 * 0); the pace part is the pace percentile. Null when neither is known.
 */
export function skill(level: number | null, pace: number | null, levelForMaxSkill: number): number | null {
  const parts: number[] = [];
  if (level !== null) parts.push(Math.min(1, Math.max(0, (level - 1) / Math.max(1, levelForMaxSkill - 1))));
  if (pace !== null) parts.push(pace);
  return parts.length ? round(parts.reduce((a, b) => a + b, 0) / parts.length) : null;
}

const TypeCounts = z.object({ joined: z.number().int().min(0), completed: z.number().int().min(0) });
export type TypeCounts = z.infer<typeof TypeCounts>;

/** What a game server may post about a player's wants: reward types and item ids (POST /v1/server/players/:id/profile). */
export const ProfileNeeds = z
  .strictObject({
    rewardTypes: z.array(z.enum(REWARD_TYPES)).max(5).default([]).meta({ description: "Reward types the player needs now." }),
    itemIds: z.array(z.string().trim().min(1).max(100)).max(50).default([]).meta({ description: "Item ids the player needs now (a reward's itemId)." }),
  })
  .meta({ id: "ProfileNeeds" });
export type ProfileNeeds = z.infer<typeof ProfileNeeds>;

export const ProfileNeedsBody = z
  .strictObject({
    needs: ProfileNeeds.optional(),
    level: z.number().int().min(1).max(100_000).optional().meta({ description: "The player's level in the game, as the server knows it." }),
    // Refused rather than stored: a zone the runtime does not know would open the player's windows hours off.
    timeZone: z
      .string()
      .max(64)
      .refine(isKnownZone, "must be an IANA time zone this server knows (such as Europe/London)")
      .nullable()
      .optional()
      .meta({ description: "The player's IANA zone, for local-time events when their token has no tz claim; null clears it.", example: "Asia/Kolkata" }),
  })
  .refine((v) => v.needs !== undefined || v.level !== undefined || v.timeZone !== undefined, "give needs, level or timeZone (any of them)")
  .meta({ id: "ProfileNeedsBody" });

/** The stored profile, as ops read it (GET /v1/admin/players/:id/profile). */
export const PlayerProfile = z
  .object({
    playerId: z.string(),
    level: z.number().int().nullable().meta({ description: "The level a game server last posted; null when none did." }),
    participation: z.record(z.string(), TypeCounts).meta({ description: "Events joined and completed (completion 1), per event type." }),
    eventsJoined: z.number().int().min(0),
    eventsCompleted: z.number().int().min(0),
    claims: z.number().int().min(0).meta({ description: "Milestone rewards claimed (claims, auto-claims, rank and clan rewards)." }),
    pacePercentile: z.number().min(0).max(1).nullable().meta({ description: "Mean pace percentile over the player's last 10 ended events." }),
    skill: z.number().min(0).max(1).nullable().meta({ description: "Mean of the level part and the pace percentile (README Personalization)." }),
    sessionsPerDay: z.number().min(0),
    avgSessionMinutes: z.number().min(0).nullable(),
    spendTotal: z.number().min(0),
    spendSegment: z.enum(SPEND_SEGMENTS),
    needs: ProfileNeeds.nullable(),
    timeZone: z.string().nullable().meta({ description: "The zone a game server last posted; null when none did (README Local-time events)." }),
    computedAt: z.string().nullable().meta({ description: "When the hourly job last recomputed it; null before its first run for this player." }),
    updatedAt: z.string(),
  })
  .meta({ id: "PlayerProfile" });
export type PlayerProfile = z.infer<typeof PlayerProfile>;

// ---- the score ----------------------------------------------------------------------------------------------------

export const RecommendationWeights = z
  .object({
    typeAffinity: z.number().min(0).max(100),
    difficultyMatch: z.number().min(0).max(100),
    timeCommitment: z.number().min(0).max(100),
    rewardRelevance: z.number().min(0).max(100),
    levelForMaxSkill: z.number().int().min(2).max(100_000).meta({ description: "The level whose level part of skill is 1." }),
  })
  .meta({ id: "RecommendationWeights" });
export type RecommendationWeights = z.infer<typeof RecommendationWeights>;
export const RecommendationWeightsPatch = RecommendationWeights.partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, "give at least one setting")
  .meta({ id: "RecommendationWeightsPatch" });
export const DEFAULT_WEIGHTS: RecommendationWeights = { typeAffinity: 1, difficultyMatch: 1, timeCommitment: 1, rewardRelevance: 1, levelForMaxSkill: 50 };

/** Minutes of play an event of each tier asks for, to weigh against the player's habits. */
export const TIER_DEMAND_MINUTES: Record<EventTier, number> = { daily: 30, mini: 60, standard: 240, major: 600 };

/** A neutral part for what is unknown (no history, no difficulty, no sessions): it orders nothing. */
export const NEUTRAL = 0.5;

/** Laplace-smoothed share of the player's joins and completions that were of this type: (j + c + 1) / (J + C + 5). */
export function typeAffinity(type: EventType, participation: Record<string, TypeCounts>): number {
  let all = 0;
  for (const t of Object.values(participation)) all += t.joined + t.completed;
  const own = participation[type] ? participation[type].joined + participation[type].completed : 0;
  return round((own + 1) / (all + EVENT_TYPES.length));
}

/** An event's difficulty in [0, 1]: the template's 1–5 rating, else one minus its historical completion rate. */
export function eventDifficulty(rating: number | null, averageCompletionRate: number | null): number | null {
  if (rating !== null) return round((rating - 1) / 4);
  if (averageCompletionRate !== null) return round(1 - Math.min(1, Math.max(0, averageCompletionRate)));
  return null;
}

/** 1 − |difficulty − skill|: 1 for a perfect match; neutral when either is unknown. */
export const difficultyMatch = (difficulty: number | null, playerSkill: number | null) =>
  difficulty === null || playerSkill === null ? NEUTRAL : round(1 - Math.abs(difficulty - playerSkill));

/**
 * Minutes the player's habits give the event (sessions per day × average session × days left in its window) over the
 * minutes its tier asks for, capped at 1; neutral without session data.
 */
export function timeCommitment(tier: EventTier, window: { startTime: number; endTime: number }, habits: { sessionsPerDay: number; avgSessionMinutes: number | null }, now: number): number {
  if (habits.avgSessionMinutes === null || habits.sessionsPerDay === 0) return NEUTRAL;
  const days = Math.max(0, window.endTime - Math.max(now, window.startTime)) / DAY_MS;
  return round(Math.min(1, (habits.sessionsPerDay * habits.avgSessionMinutes * days) / TIER_DEMAND_MINUTES[tier]));
}

/** Share of the player's needs (each item id, each reward type) that the event's rewards meet; 0 without needs. */
export function rewardRelevance(rewards: readonly Pick<RewardData, "type" | "itemId">[], needs: ProfileNeeds | null): number {
  const wanted = (needs?.itemIds.length ?? 0) + (needs?.rewardTypes.length ?? 0);
  if (!needs || wanted === 0) return 0;
  const items = new Set(rewards.map((r) => r.itemId));
  const types = new Set<string>(rewards.map((r) => r.type));
  const met = needs.itemIds.filter((i) => items.has(i)).length + needs.rewardTypes.filter((t) => types.has(t)).length;
  return round(met / wanted);
}

export type Candidate = {
  eventId: string;
  type: EventType;
  tier: EventTier;
  startTime: number;
  endTime: number;
  rewards: Pick<RewardData, "type" | "itemId">[];
  difficulty: number | null;
};
export type ScoringProfile = {
  participation: Record<string, TypeCounts>;
  skill: number | null;
  sessionsPerDay: number;
  avgSessionMinutes: number | null;
  needs: ProfileNeeds | null;
};
export type Breakdown = { typeAffinity: number; difficultyMatch: number; timeCommitment: number; rewardRelevance: number };
export type Scored = { eventId: string; score: number; breakdown: Breakdown };

/** The seed's CalculateEngagementScore: each part weighted, the breakdown as weighted, the score their sum. */
export function scoreEvent(e: Candidate, p: ScoringProfile, w: RecommendationWeights, now: number): Scored {
  const breakdown: Breakdown = {
    typeAffinity: round(w.typeAffinity * typeAffinity(e.type, p.participation)),
    difficultyMatch: round(w.difficultyMatch * difficultyMatch(e.difficulty, p.skill)),
    timeCommitment: round(w.timeCommitment * timeCommitment(e.tier, e, p, now)),
    rewardRelevance: round(w.rewardRelevance * rewardRelevance(e.rewards, p.needs)),
  };
  const score = round(breakdown.typeAffinity + breakdown.difficultyMatch + breakdown.timeCommitment + breakdown.rewardRelevance);
  return { eventId: e.eventId, score, breakdown };
}

/** The top `n` by score, ties broken by event id: the same profile at the same instant always gets the same list. */
export function recommend(candidates: readonly Candidate[], p: ScoringProfile, w: RecommendationWeights, now: number, n = 5): Scored[] {
  return candidates
    .map((e) => scoreEvent(e, p, w, now))
    .sort((a, b) => b.score - a.score || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
    .slice(0, n);
}

const BreakdownSchema = z
  .object({ typeAffinity: z.number(), difficultyMatch: z.number(), timeCommitment: z.number(), rewardRelevance: z.number() })
  .meta({ id: "RecommendationBreakdown", description: "Each part already multiplied by its weight; score is their sum." });

export const Recommendation = z
  .object({
    eventId: z.string(),
    name: z.string(),
    type: z.enum(EVENT_TYPES),
    tier: z.enum(["major", "standard", "mini", "daily"]),
    state: z.enum(["scheduled", "active"]),
    startTime: z.string(),
    endTime: z.string(),
    score: z.number(),
    breakdown: BreakdownSchema,
  })
  .meta({ id: "Recommendation" });
export const RecommendationList = z
  .object({
    generatedAt: z.string(),
    profileComputedAt: z.string().nullable().meta({ description: "When the player's profile was last recomputed; null: no profile yet (every part neutral or from the token)." }),
    skill: z.number().nullable().meta({ description: "The skill the difficulty match used (the token's level and the stored pace)." }),
    events: z.array(Recommendation).max(5),
  })
  .meta({ id: "RecommendationList" });

export const RecommendationSettings = z
  .object({ weights: RecommendationWeights, defaults: RecommendationWeights, updatedAt: z.string().nullable(), updatedBy: z.string().nullable() })
  .meta({ id: "RecommendationSettings" });

/** A profile for a player the hourly job has not seen: every part unknown, so only the event decides. */
export const EMPTY_SCORING_PROFILE: ScoringProfile = { participation: {}, skill: null, sessionsPerDay: 0, avgSessionMinutes: null, needs: null };

/** Four decimals: scores and parts stay readable and compare equal across runs. */
export function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
