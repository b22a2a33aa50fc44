// The seed's building blocks (Objective, Milestone, Reward Data, the enums) and the field rules they share, apart
// from model.ts so that the competitive and cooperative mechanics (model-mechanics.ts) can build on them while
// model.ts builds templates and events from both.
import { z } from "zod";

export const EVENT_TYPES = ["seasonal", "competitive", "cooperative", "crossover", "gacha"] as const;
export const EVENT_TIERS = ["major", "standard", "mini", "daily"] as const;
export const OBJECTIVE_TYPES = ["collect", "complete", "defeat", "reach", "participate"] as const;
export const REWARD_TYPES = ["currency", "item", "character", "cosmetic", "booster"] as const;
export const RARITIES = ["common", "uncommon", "rare", "epic", "legendary"] as const;

export const EventType = z.enum(EVENT_TYPES);
export const EventTier = z.enum(EVENT_TIERS);
export type EventType = z.infer<typeof EventType>;
/**
 * A verified caller from the game: who, at what level, in which clan, in which IANA zone (from their token; the zone
 * falls back to DEFAULT_PLAYER_TIME_ZONE, and is absent only on callers built outside the token path). `tzClaimed`
 * says the zone is the token's own `tz` claim: without it, a local-time event looks for the zone the player's
 * profile holds before the fallback.
 */
export type Player = { playerId: string; level: number; clan: string | null; tz?: string; tzClaimed?: true };
export type EventTier = z.infer<typeof EventTier>;

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, "must be a slug: 1-50 of a-z, 0-9, '-' or '_', starting with a letter or digit");
export const text = (max: number) => z.string().trim().min(1).max(max);
/** Free-form JSON config (theme, layout). Bounded so one template cannot bloat every instance row. */
export const freeJson = z
  .record(z.string(), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16_384, "must serialise to at most 16 KB of JSON");
export const positiveFinite = z.number().finite().positive();

export const RewardData = z.strictObject({
  rewardId: slug,
  type: z.enum(REWARD_TYPES),
  itemId: text(100),
  quantity: z.number().int().min(1).max(1_000_000_000),
  rarity: z.enum(RARITIES).default("common"),
  isExclusive: z.boolean().default(false),
}).meta({ id: "RewardData" });
export type RewardData = z.infer<typeof RewardData>;

export const Objective = z.strictObject({
  objectiveId: slug,
  description: text(500),
  type: z.enum(OBJECTIVE_TYPES),
  targetValue: positiveFinite,
  trackingKey: text(100),
  isOptional: z.boolean().default(false),
  maxPerUpdate: positiveFinite.optional(),
  maxPerMinute: positiveFinite.optional(),
}).meta({ id: "Objective" });
export type Objective = z.infer<typeof Objective>;

export const Milestone = z.strictObject({
  index: z.number().int().min(0),
  progressThreshold: z.number().gt(0).lte(1),
  rewards: z.array(RewardData).max(50).default([]),
  unlockMessage: z.string().max(500).default(""),
  celebrationAnimation: z.string().max(100).optional(),
}).meta({ id: "Milestone" });
export type Milestone = z.infer<typeof Milestone>;

export type Issue = { path: (string | number)[]; message: string };

/** Cross-field rules the seed implies: unique ids, milestone indexes 0..n-1, thresholds strictly ascending. */
export function mechanicsIssues(objectives: Objective[] | undefined, milestones: Milestone[] | undefined): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  objectives?.forEach((o, i) => {
    if (seen.has(o.objectiveId)) issues.push({ path: ["objectives", i, "objectiveId"], message: `duplicates "${o.objectiveId}"` });
    seen.add(o.objectiveId);
  });
  if (objectives && objectives.length > 0 && objectives.every((o) => o.isOptional)) {
    issues.push({ path: ["objectives"], message: "must contain at least one required (non-optional) objective" });
  }
  milestones?.forEach((m, i) => {
    if (m.index !== i) issues.push({ path: ["milestones", i, "index"], message: `must be ${i} (milestones are listed in index order)` });
    if (i > 0 && m.progressThreshold <= milestones[i - 1].progressThreshold) {
      issues.push({ path: ["milestones", i, "progressThreshold"], message: `must be greater than milestones[${i - 1}]` });
    }
  });
  return issues;
}
