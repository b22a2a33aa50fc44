// The event object's hook into statistical anti-cheat: a rate pass, booked as the "anticheat" schedule row every
// interval while the event is active and once more as it expires (before its boards and clans finalize), or run by
// ops. Two rounds over the shards that players reached: each sends its partial moments per objective (one small RPC,
// off the progress path), the partials are merged here (Chan et al., exact in any order), and each shard judges its
// own players against the merged population. Settings come from config (ANTICHEAT_*).
import { readConfig } from "../../config";
import { mergePopulations, stddev, type Population } from "../../domain/anticheat";
import type { RatePassT, FlagViewT } from "../../domain/anticheat-views";
import type { EventInstance } from "../../domain/model";
import type { ReviewState } from "../../domain/review";
import { iso } from "../../domain/time";
import { progressShardActor } from "../stubs";

/**
 * A pass while the event runs; the one at expiry catches what the last interval missed (none when no player ever
 * reached a shard: there is nothing to judge).
 */
export function anticheatDue(before: EventInstance | null | undefined, after: EventInstance, now: number, intervalMs: number, anyShard: boolean): number | null {
  if (after.state === "active" && before?.state !== "active") return now + intervalMs;
  if (after.state === "expired" && before?.state !== "expired" && anyShard) return now;
  return null;
}

/** A pass's rounds are run again this often when a shard lost the rates it sent (it restarted between them). */
const PASS_TRIES = 3;

/**
 * One pass. Each shard keeps the rates it sent under the pass's id and judges against exactly those; each also gets
 * the other shards' partials merged, for an exact leave-one-out when a removal cancels. Throws if a shard cannot
 * answer (the schedule row retries; a repeated pass is harmless).
 */
export async function ratePass(env: Env, instance: EventInstance, shardNos: number[], now: number): Promise<RatePassT> {
  const cfg = readConfig(env).anticheat;
  const shards = shardNos.map((n) => progressShardActor(env, instance.eventId, n));
  const objectiveIds = instance.objectives.map((o) => o.objectiveId);
  const settings = { minSample: cfg.minSample, sigma: cfg.sigma, reviewAfterMs: cfg.reviewAfterMs };
  const moved: { flagged: number; escalated: number; dismissed: number }[] = [];
  let population: Population = {};
  for (let attempt = 1; ; attempt++) {
    const passId = crypto.randomUUID();
    const partials = await Promise.all(shards.map((s) => s.ratePartial(objectiveIds, passId)));
    population = mergePopulations(partials);
    const judged = await Promise.all(shards.map((s, i) => s.judgeRates(passId, population, mergePopulations(partials.filter((_, j) => j !== i)), settings)));
    for (const m of judged) if (m) moved.push(m);
    if (judged.every((m) => m)) break;
    if (attempt >= PASS_TRIES) throw new Error("a shard lost its rate partial between the pass's rounds, every try");
  }
  const sum = (k: "flagged" | "escalated" | "dismissed") => moved.reduce((a, m) => a + m[k], 0);
  return {
    evaluatedAt: iso(now),
    shards: shards.length,
    population: Object.entries(population).map(([objectiveId, m]) => ({ objectiveId, n: m.n, mean: m.mean, sd: stddev(m) })),
    flagged: sum("flagged"),
    escalated: sum("escalated"),
    dismissed: sum("dismissed"),
  };
}

/** Every attached shard's flags, oldest first, at most `limit`. */
export async function listFlags(env: Env, eventId: string, shardNos: number[], state: ReviewState | null, limit: number): Promise<FlagViewT[]> {
  const parts = await Promise.all(shardNos.map((n) => progressShardActor(env, eventId, n).flags(state, limit)));
  return parts
    .flat()
    .sort((a, b) => a.flaggedAt.localeCompare(b.flaggedAt) || a.playerId.localeCompare(b.playerId))
    .slice(0, limit);
}
