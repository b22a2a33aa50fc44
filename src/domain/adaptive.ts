// Adaptive difficulty (issue 15), pure: when a player is struggling in a running event, the seed's adjustment for that
// player alone (objective targets × 0.8, an assistance reward on their first unclaimed milestone), once per event; a
// deterministic holdout never adjusted, so the event report can measure whether the adjustment helped. The progress
// shard (actors/shard/adaptive.ts) asks these questions on each accepted update and on its "adapt" schedule row.
import { z } from "zod";
import type { Milestone, Objective, RewardData } from "./model-base";
import { completion, milestonesReached, type Mechanics } from "./progress";
import { fnv1a } from "./sharding";
import { MINUTE_MS } from "./time";

export type AdaptiveSettings = {
  enabled: boolean;
  /** Objective targets are multiplied by this (rounded up, never below progress made, never above the original). */
  targetFactor: number;
  /** No verdict before the player has been in the event this long: their first seconds say nothing about pace. */
  minElapsedMs: number;
  /** Stuck: no milestone for this long (since joining or the last one) while playing. */
  stallMs: number;
  /** Playing: an update arrived within this long. */
  playingMs: number;
  /** How often the shard's "adapt" row looks at its playing players. */
  checkEveryMs: number;
  /** The assistance reward's item (type booster). */
  assistItem: string;
  /** Share of players, 0–1, in the control group: never adjusted. */
  holdoutShare: number;
};

export const DEFAULT_ADAPTIVE: AdaptiveSettings = {
  enabled: true,
  targetFactor: 0.8,
  minElapsedMs: 10 * MINUTE_MS,
  stallMs: 30 * MINUTE_MS,
  playingMs: 5 * MINUTE_MS,
  checkEveryMs: 5 * MINUTE_MS,
  assistItem: "booster",
  holdoutShare: 0.1,
};

/** Fixed: a player's group must not move between events or deploys, or treated and control would mix. */
export const HOLDOUT_SALT = "adaptive-holdout-v1";
const HOLDOUT_SCALE = 10_000;

/** Is this player in the control group? fnv1a(playerId + salt) mod 10,000 below the share × 10,000. */
export const inControl = (playerId: string, share: number) => fnv1a(`${playerId}:${HOLDOUT_SALT}`) % HOLDOUT_SCALE < Math.round(share * HOLDOUT_SCALE);

export type StruggleReason = "pace" | "stalled";
export type Verdict = { struggling: false } | { struggling: true; reason: StruggleReason; pace: number; projected: number; nextThreshold: number };

export type PlayerMoment = {
  completion: number;
  unlocked: readonly number[];
  joinedAt: number;
  lastUpdated: number;
  /** When their last milestone unlocked; null: none yet (the stall clock runs from joining). */
  lastMilestoneAt: number | null;
};

/**
 * Struggling, at `now`, in an event ending at `endTime`:
 * - pace: completion per ms since joining, projected to endTime, falls short of the next milestone's threshold;
 * - stalled: playing (an update within playingMs) with no milestone for stallMs.
 * Never before minElapsedMs in the event, never once the last milestone is reached, never after the end.
 */
export function struggle(p: PlayerMoment, milestones: readonly Pick<Milestone, "index" | "progressThreshold">[], endTime: number, now: number, s: AdaptiveSettings): Verdict {
  const elapsed = now - p.joinedAt;
  if (elapsed < s.minElapsedMs || now >= endTime) return { struggling: false };
  const next = milestones.filter((m) => !p.unlocked.includes(m.index)).sort((a, b) => a.progressThreshold - b.progressThreshold)[0];
  if (!next) return { struggling: false };
  const pace = p.completion / elapsed;
  const projected = p.completion + pace * (endTime - now);
  const base = { pace: pace * 3_600_000, projected: Math.min(1, projected), nextThreshold: next.progressThreshold };
  if (projected < next.progressThreshold - 1e-9) return { struggling: true, reason: "pace", ...base };
  const playing = now - p.lastUpdated <= s.playingMs;
  if (playing && now - (p.lastMilestoneAt ?? p.joinedAt) >= s.stallMs) return { struggling: true, reason: "stalled", ...base };
  return { struggling: false };
}

/** One objective's personal target: ⌈target × factor⌉, never below what the player has done, never above the target. */
export function scaledTarget(target: number, done: number, factor: number): number {
  const scaled = Math.ceil(target * factor - 1e-9);
  return Math.min(target, Math.max(scaled, done));
}

export type Adjustment = {
  factor: number;
  /** objectiveId → the player's target. Clan objectives (the clan's target) are left as they are. */
  targets: Record<string, number>;
  /** objectiveId → the player's progress when adjusted: their targets never drop below it, whatever an edit does. */
  floors?: Record<string, number> | null;
  /** The milestone the assistance reward was added to, and the reward; null when every milestone was claimed. */
  assist: { milestoneIndex: number; reward: RewardData } | null;
};

export function assistReward(item: string): RewardData {
  return { rewardId: "adaptive-assist", type: "booster", itemId: item, quantity: 1, rarity: "common", isExclusive: false };
}

/** The adjustment for this player: scaled targets, and the assist on the first milestone they have not claimed. */
export function adjustment(mechanics: Mechanics, progress: Record<string, number>, claimed: (index: number) => boolean, s: AdaptiveSettings): Adjustment {
  const shared = new Set(mechanics.clan?.objectiveIds ?? []);
  const targets: Record<string, number> = {};
  const floors: Record<string, number> = {};
  for (const o of mechanics.objectives) {
    if (shared.has(o.objectiveId)) continue;
    floors[o.objectiveId] = Object.hasOwn(progress, o.objectiveId) ? progress[o.objectiveId] : 0;
    targets[o.objectiveId] = scaledTarget(o.targetValue, floors[o.objectiveId], s.targetFactor);
  }
  const first = [...mechanics.milestones].sort((a, b) => a.index - b.index).find((m) => !claimed(m.index));
  return { factor: s.targetFactor, targets, floors, assist: first ? { milestoneIndex: first.index, reward: assistReward(s.assistItem) } : null };
}

/**
 * The adjustment under the event's current version: ops may edit objectives or milestones mid-run. Each of the
 * player's targets is the factor applied to the current target, never below their progress when adjusted (a row from
 * before floors were kept: its stored target, capped at the current one); an objective added since is scaled too,
 * clan objectives never. Milestones have no identity but their index: the assist stays on its index while that
 * milestone exists, else moves to the next one after it (or the last), and goes when there are none.
 */
export function currentAdjustment(mechanics: Mechanics, a: Pick<Adjustment, "factor" | "targets" | "floors" | "assist">): Pick<Adjustment, "targets" | "assist"> {
  const shared = new Set(mechanics.clan?.objectiveIds ?? []);
  const targets: Record<string, number> = {};
  for (const o of mechanics.objectives) {
    if (shared.has(o.objectiveId)) continue;
    if (a.floors) targets[o.objectiveId] = scaledTarget(o.targetValue, a.floors[o.objectiveId] ?? 0, a.factor);
    else targets[o.objectiveId] = Object.hasOwn(a.targets, o.objectiveId) ? Math.min(o.targetValue, a.targets[o.objectiveId]) : scaledTarget(o.targetValue, 0, a.factor);
  }
  let assist = a.assist;
  if (assist && !mechanics.milestones.some((m) => m.index === assist!.milestoneIndex)) {
    const sorted = [...mechanics.milestones].sort((x, y) => x.index - y.index);
    const next = sorted.find((m) => m.index > assist!.milestoneIndex) ?? sorted.at(-1);
    assist = next ? { milestoneIndex: next.index, reward: assist.reward } : null;
  }
  return { targets, assist };
}

/** The event as this player sees it after the adjustment: their targets, and the assist among that milestone's rewards. */
export function personalMechanics<M extends Mechanics>(mechanics: M, a: Pick<Adjustment, "targets" | "assist">): M {
  const objectives: Objective[] = mechanics.objectives.map((o) => (Object.hasOwn(a.targets, o.objectiveId) ? { ...o, targetValue: a.targets[o.objectiveId] } : o));
  const milestones: Milestone[] = a.assist
    ? mechanics.milestones.map((m) => (m.index === a.assist!.milestoneIndex ? { ...m, rewards: [...m.rewards, a.assist!.reward] } : m))
    : mechanics.milestones;
  return { ...mechanics, objectives, milestones };
}

/** After the adjustment: the completion under the player's own targets, and the milestones that newly count as reached. */
export function reevaluate(progress: Record<string, number>, unlocked: readonly number[], personal: Mechanics): { completion: number; newMilestones: number[] } {
  const done = completion(progress, personal);
  return { completion: done, newMilestones: milestonesReached(done, personal).filter((i) => !unlocked.includes(i)) };
}

/** What the player's progress view shows (`adjusted`), and the shard records. */
export const AdjustedView = z
  .object({
    at: z.string(),
    reason: z.enum(["pace", "stalled"]),
    factor: z.number(),
    targets: z.record(z.string(), z.number()),
    assist: z.object({ milestoneIndex: z.number().int(), reward: z.record(z.string(), z.unknown()) }).nullable(),
  })
  .meta({ id: "AdjustedView", description: "Adaptive difficulty lowered this player's targets (README Personalization); null when it did not." });
export type AdjustedView = z.infer<typeof AdjustedView>;
