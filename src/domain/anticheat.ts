// Statistical anti-cheat: each objective's population of progress rates as streaming moments (Welford), kept per
// progress shard and merged across shards (Chan et al.), and the test that flags a player whose rate is more than
// `sigma` standard deviations above everyone else's. Pure: the shard computes, the event object merges, both call here.
import { MINUTE_MS } from "./time";

/** Streaming moments of one population: count, mean and the sum of squared deviations (M2). Mergeable. */
export type Moments = { n: number; mean: number; m2: number };
/** Per objective id. */
export type Population = Record<string, Moments>;

export type AnticheatSettings = {
  /** Below this many other players with a rate on the objective, nobody is flagged on it. */
  minSample: number;
  /** How many standard deviations above the others' mean is an outlier. */
  sigma: number;
};

export const EMPTY: Moments = { n: 0, mean: 0, m2: 0 };

/**
 * A player's progress rate on one objective: their progress on it per minute of **active time**, never counted as less
 * than one minute (so a burst in the first seconds is not divided by ~0). Active time is the sum of the gaps between
 * the player's consecutive accepted updates (the first gap from their admission), each gap capped (`activeGain`): a
 * pause between sessions counts at most the cap, so a first-day player and a two-week veteran playing at the same
 * pace have the same rate (wall-clock time since joining spread a veteran's play over days and made newcomers outliers).
 * Null when the player has no progress on the objective: they are not in its population.
 */
export function progressRate(amount: number | undefined, activeMs: number): number | null {
  if (amount === undefined || !Number.isFinite(amount) || amount <= 0) return null;
  const minutes = Math.max(1, activeMs / MINUTE_MS);
  return amount / minutes;
}

/** What one accepted update adds to the player's active time: the gap since their previous one, at most `capMs`. */
export function activeGain(previousAt: number, now: number, capMs: number): number {
  return Math.min(Math.max(0, now - previousAt), capMs);
}

/** Welford's update: one more sample. */
export function addSample(m: Moments, x: number): Moments {
  const n = m.n + 1;
  const delta = x - m.mean;
  const mean = m.mean + delta / n;
  return { n, mean, m2: m.m2 + delta * (x - mean) };
}

/** Two partials as one (Chan et al.): exact, in any order, so shards' partials can be combined anywhere. */
export function merge(a: Moments, b: Moments): Moments {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** The population without one sample that is in it (Welford's update run backwards); M2 never goes below 0. */
export function removeSample(m: Moments, x: number): Moments {
  if (m.n <= 1) return EMPTY;
  const n = m.n - 1;
  const mean = (m.n * m.mean - x) / n;
  return { n, mean, m2: Math.max(0, m.m2 - (x - mean) * (x - m.mean)) };
}

/** Sample standard deviation (M2 / (n − 1)); 0 for fewer than two samples. */
export const stddev = (m: Moments): number => (m.n < 2 ? 0 : Math.sqrt(m.m2 / (m.n - 1)));

export function mergePopulations(parts: Iterable<Population>): Population {
  const out: Population = {};
  for (const part of parts) for (const [id, m] of Object.entries(part)) out[id] = merge(out[id] ?? EMPTY, m);
  return out;
}

export type PlayerRates = { objectives: Record<string, number>; activeMs: number };
/** A player's rate per objective they have progress on. */
export type Rates = Record<string, number>;

export function ratesOf(p: PlayerRates, objectiveIds: readonly string[]): Rates {
  const out: Rates = {};
  for (const id of objectiveIds) {
    const x = progressRate(p.objectives[id], p.activeMs);
    if (x !== null) out[id] = x;
  }
  return out;
}

/** A population of players' rates (one shard's partial, or any subset of it). */
export function partialOfRates(all: Iterable<Rates>): Population {
  const out: Population = {};
  for (const rates of all) for (const [id, x] of Object.entries(rates)) out[id] = addSample(out[id] ?? EMPTY, x);
  return out;
}

/** One shard's partial: every player's rate on every objective they have progress on. */
export function partialOf(players: Iterable<PlayerRates>, objectiveIds: readonly string[]): Population {
  const out: Population = {};
  for (const p of players) for (const [id, x] of Object.entries(ratesOf(p, objectiveIds))) out[id] = addSample(out[id] ?? EMPTY, x);
  return out;
}

export type Verdict = { objectiveId: string; rate: number; mean: number; sd: number; n: number; z: number };

/**
 * Below this share of the whole population's M2, the others' M2 found by removing one sample is mostly rounding: a
 * removed extreme value (99 rates near 10 and one at 1e9) cancels all the digits the rest had, leaving 0 or noise.
 */
export const CANCELLATION_RATIO = 1e-8;

export type JudgeOptions = {
  /** False for a player left out of the population (a held flag): the population already is the others. */
  inPopulation?: boolean;
  /** The others on one objective computed exactly (not by subtraction), for when the removal lost its precision. */
  exactOthers?: (objectiveId: string) => Moments;
};

/**
 * The player's strongest outlier among the objectives, or null. Each rate is compared with the other players' rates
 * on that objective (the player's own sample removed from the population, so a cheater cannot mask themselves by
 * widening the spread): an outlier has at least `minSample` others, a non-zero spread, and
 * z = (rate − others' mean) / others' standard deviation > sigma.
 */
export function judge(player: PlayerRates, population: Population, settings: AnticheatSettings, opts: JudgeOptions = {}): Verdict | null {
  return judgeRates(ratesOf(player, Object.keys(population)), population, settings, opts);
}

/** `judge` on rates already computed (a pass judges against exactly the rates its partial was made of). */
export function judgeRates(rates: Rates, population: Population, settings: AnticheatSettings, opts: JudgeOptions = {}): Verdict | null {
  let worst: Verdict | null = null;
  const inPopulation = opts.inPopulation !== false;
  for (const [id, all] of Object.entries(population)) {
    const rate = Object.hasOwn(rates, id) ? rates[id] : undefined;
    if (rate === undefined) continue;
    // The cheap refusals first, so the exact leave-one-out (a scan of the shard) runs only for a real candidate:
    // identical rates (M2 = 0) hold no outlier, and a rate at or below the mean is at or below the others' mean too.
    if (!(all.m2 > 0) || rate <= all.mean) continue;
    if ((inPopulation ? all.n - 1 : all.n) < settings.minSample) continue;
    let others = inPopulation ? removeSample(all, rate) : all;
    if (inPopulation && opts.exactOthers && others.m2 <= all.m2 * CANCELLATION_RATIO) others = opts.exactOthers(id);
    if (others.n < settings.minSample) continue;
    const sd = stddev(others);
    if (!(sd > 0)) continue;
    const z = (rate - others.mean) / sd;
    if (z > settings.sigma && (!worst || z > worst.z)) worst = { objectiveId: id, rate, mean: others.mean, sd, n: others.n, z };
  }
  return worst;
}

/** What one shard sent for a pass: every player's rates then, and who was left out of its partial (held). */
export type SentRates = { rates: ReadonlyMap<string, Rates>; held: ReadonlySet<string> };

/**
 * A shard's half of a pass: each of its players judged against the merged population (`rest`: the other shards'
 * partials merged, for the exact leave-one-out). Returns the outliers, and how many exact leave-one-outs ran (each a
 * scan of the shard's rates: a pass must stay linear in its players, so only a cancelled removal asks for one).
 */
export function judgePass(sent: SentRates, population: Population, rest: Population, settings: AnticheatSettings): { verdicts: Map<string, Verdict>; exactRecomputes: number } {
  const verdicts = new Map<string, Verdict>();
  let exactRecomputes = 0;
  for (const [playerId, rates] of sent.rates) {
    const exactOthers = (id: string) => {
      exactRecomputes++;
      return merge(rest[id] ?? EMPTY, localWithout(sent, id, playerId));
    };
    const verdict = judgeRates(rates, population, settings, { inPopulation: !sent.held.has(playerId), exactOthers });
    if (verdict) verdicts.set(playerId, verdict);
  }
  return { verdicts, exactRecomputes };
}

/** One objective's moments over the shard's sent rates, without the held players and `except`. */
function localWithout(sent: SentRates, objectiveId: string, except: string): Moments {
  let m = EMPTY;
  for (const [playerId, r] of sent.rates) if (playerId !== except && !sent.held.has(playerId) && Object.hasOwn(r, objectiveId)) m = addSample(m, r[objectiveId]);
  return m;
}
