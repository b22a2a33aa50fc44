// What the statistical anti-cheat routes answer (README "Statistical anti-cheat"), as zod schemas like views.ts.
import { z } from "zod";
import { REVIEW_STATES } from "./review";

const Iso = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0);

export const ReviewStateSchema = z.enum(REVIEW_STATES).meta({ id: "FlagReviewState" });

export const FlagHistoryEntry = z.object({
  at: Iso,
  from: ReviewStateSchema.nullable(),
  to: ReviewStateSchema,
  cause: z.string(),
  actor: z.string().meta({ description: "`system`, or the operator" }),
  reason: z.string().nullable(),
});

export const FlagView = z
  .object({
    playerId: z.string(),
    state: ReviewStateSchema,
    objectiveId: z.string().meta({ description: "The objective of the verdict that raised (or last moved) the flag" }),
    rate: z.number().meta({ description: "The player's progress per active minute on it" }),
    z: z.number().meta({ description: "Standard deviations above the other players' mean" }),
    mean: z.number(),
    sd: z.number(),
    n: Count.meta({ description: "How many other players the rate was compared with" }),
    flaggedAt: Iso,
    updatedAt: Iso,
    history: z.array(FlagHistoryEntry),
  })
  .meta({ id: "StatisticalFlag" });

export const FlagList = z.object({ flags: z.array(FlagView) }).meta({ id: "StatisticalFlagList" });

export const FlagDecision = z
  .object({
    flag: FlagView,
    released: Count.meta({ description: "Held milestone or rank rewards granted now (cleared after the claim window: auto-claimed)" }),
    board: z.enum(["cleared", "banned", "none"]).meta({ description: "What the player's leaderboard entry got" }),
    clans: Count.meta({ description: "Clans told: cleared, their held clan rewards are released; confirmed, their contribution leaves the clan totals" }),
  })
  .meta({ id: "StatisticalFlagDecision" });

export const RatePass = z
  .object({
    evaluatedAt: Iso,
    shards: Count,
    population: z.array(z.object({ objectiveId: z.string(), n: Count, mean: z.number(), sd: z.number() })),
    flagged: Count,
    escalated: Count,
    dismissed: Count,
  })
  .meta({ id: "RatePass" });

export type FlagViewT = z.infer<typeof FlagView>;
export type RatePassT = z.infer<typeof RatePass>;
export type FlagDecisionT = z.infer<typeof FlagDecision>;
