// The seed's Progression System: applies a player's progress updates to their state, exactly once per client seq,
// with anti-cheat limits, and derives completion and milestone unlocks. This is the hot path (every progress
// request of every shard), so it works in one pass over the batch and allocates only what the new state needs.
import type { LocalTime } from "./local-time";
import type { BoardDefinition, ClanDefinition } from "./model";
import type { Milestone, Objective } from "./model";
import { MINUTE_MS, iso } from "./time";

export type ProgressState = {
  objectives: Record<string, number>;
  /** Ascending, unique; never shrinks, so a later change to thresholds cannot take a reward back. */
  unlockedMilestones: number[];
  /** High-water mark of applied client seqs: the exactly-once guarantee under client retries. */
  lastSeq: number;
  /** Accepted deltas of the last 60 s, only for objectives with a maxPerMinute. */
  recent: Record<string, Array<[number, number]>>;
  joinedAt: number;
  lastUpdated: number;
};
/** `clan`: a cooperative event's clan-scoped objectives count toward the clan (domain/clan.ts), not the player's completion. */
export type Mechanics = { objectives: Objective[]; milestones: Milestone[]; clan?: { objectiveIds: string[] } | null };
export type ProgressUpdate = { objectiveId: string; amount: number; seq: number };
/** Why an update was refused, as a fixed vocabulary: what anti-cheat flags are counted by (the reason's text varies). */
export const REJECTION_CODES = ["invalid_seq", "unknown_objective", "not_a_number", "not_positive", "too_large", "max_per_update", "max_per_minute"] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];
export type Rejection = { seq: number; objectiveId: string; amount: number; code: RejectionCode; reason: string };
export type ApplyResult =
  | {
      ok: true;
      state: ProgressState;
      applied: number[];
      duplicates: number[];
      newMilestones: number[];
      /** Completion of the returned state: computed once here, so the caller never recomputes it. */
      completion: number;
    }
  | { ok: false; code: "implausible_progress" | "unknown_objective"; rejections: Rejection[] };
export type ProgressSnapshot = {
  objectives: Record<string, { currentValue: number; targetValue: number; isCompleted: boolean }>;
  completion: number;
  unlockedMilestones: number[];
  lastUpdated: string;
  lastSeq: number;
};

/** No single legitimate update is this large; anything above is a client bug or a forged request. */
export const MAX_AMOUNT = 1e9;

/**
 * A client-sent value as text, for messages and the anti-cheat record. Never throws: `amount` is whatever JSON the
 * client sent, and String() on an object such as {"toString":1} would.
 */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v).slice(0, 64);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  try {
    return (JSON.stringify(v) ?? typeof v).slice(0, 64);
  } catch {
    return typeof v;
  }
}
/**
 * Flags for objective ids the event does not have are counted under this one id. The client picks those ids freely,
 * so a row per id would let one player write anti-cheat rows without bound; the latest id is kept in the sample.
 */
export const UNKNOWN_OBJECTIVE = "*";

/** Anti-cheat counts from one refused request: one per (objective, reason), its sample the last rejection of that kind. */
export type FlagCount = { objectiveId: string; reason: RejectionCode; count: number; sampleAmount: string; sampleDetail: string };

export function flagCounts(rejections: Rejection[], mechanics: Pick<Mechanics, "objectives">): FlagCount[] {
  const index = objectiveIndex(mechanics.objectives);
  const counts = new Map<string, FlagCount>();
  for (const r of rejections) {
    const objectiveId = typeof r.objectiveId === "string" && index.has(r.objectiveId) ? r.objectiveId : UNKNOWN_OBJECTIVE;
    const key = `${objectiveId}\n${r.code}`;
    const sampleAmount = typeof r.amount === "string" ? (r.amount as string).slice(0, 64) : describeValue(r.amount);
    const sampleDetail = r.reason.slice(0, 200);
    const held = counts.get(key);
    if (held) counts.set(key, { ...held, count: held.count + 1, sampleAmount, sampleDetail });
    else counts.set(key, { objectiveId, reason: r.code, count: 1, sampleAmount, sampleDetail });
  }
  return [...counts.values()];
}

/**
 * The code for a reason recorded before reasons had codes (free text such as "amount 51 exceeds maxPerUpdate 50 for
 * gems"), for storage written by older code; text that matches none is kept as it is. D1 migration 0006 maps the same
 * phrases in SQL.
 */
export function legacyReasonCode(reason: string): string {
  if (reason.startsWith("seq must be")) return "invalid_seq";
  if (reason.startsWith("unknown objective")) return "unknown_objective";
  if (reason.startsWith("amount must be a finite number")) return "not_a_number";
  if (reason.startsWith("amount must be greater than 0")) return "not_positive";
  if (/^amount .* exceeds the maximum of /.test(reason)) return "too_large";
  if (/ exceeds maxPerUpdate /.test(reason)) return "max_per_update";
  if (/^would make .* in the last minute /.test(reason)) return "max_per_minute";
  return reason;
}

/** The seed counts a player as having completed the event at 75% of its objectives. */
export const COMPLETION_THRESHOLD = 0.75;

const WINDOW_MS = MINUTE_MS;
// Averages of fractions carry float noise (e.g. 0.1 + 0.2); a threshold missed by less than this counts as met.
const EPS = 1e-9;

// Mechanics are fixed per event and reused by the shard for every request, so index them once per array.
const indexCache = new WeakMap<Objective[], Map<string, Objective>>();
function objectiveIndex(objectives: Objective[]): Map<string, Objective> {
  let index = indexCache.get(objectives);
  if (!index) {
    index = new Map(objectives.map((o) => [o.objectiveId, o]));
    indexCache.set(objectives, index);
  }
  return index;
}

// Slugs like "constructor" are valid objective ids; a plain lookup would find Object.prototype members.
function valueOf(values: Record<string, number>, id: string): number {
  return Object.hasOwn(values, id) ? values[id] : 0;
}

function exceeds(value: number, limit: number): boolean {
  return value - limit > EPS * Math.max(1, limit);
}

function windowSum(entries: Array<[number, number]> | undefined, cutoff: number): number {
  let sum = 0;
  if (entries) for (const [at, delta] of entries) if (at > cutoff) sum += delta;
  return sum;
}

export function newProgress(now: number): ProgressState {
  return { objectives: {}, unlockedMilestones: [], lastSeq: 0, recent: {}, joinedAt: now, lastUpdated: now };
}

/**
 * Applies `updates` in order, all or nothing. Never mutates `state`; on `ok: false` the caller keeps it.
 * Plausibility is judged as if the rejected updates were absent, so the rejections list exactly what to drop.
 */
export function applyUpdates(state: ProgressState, updates: ProgressUpdate[], mechanics: Mechanics, now: number): ApplyResult {
  const index = objectiveIndex(mechanics.objectives);
  const cutoff = now - WINDOW_MS;
  const applied: number[] = [];
  const duplicates: number[] = [];
  const rejections: Rejection[] = [];
  let unknown = false;
  let highWater = state.lastSeq;
  // Only objectives this batch touches: working value and, if rate-limited, usage of the window and the gain to record.
  const values = new Map<string, number>();
  const windowUsed = new Map<string, number>();
  const gained = new Map<string, number>();

  for (const u of updates) {
    const { seq, objectiveId: id, amount } = u;
    const reject = (code: RejectionCode, reason: string) => rejections.push({ seq, objectiveId: id, amount, code, reason });
    // Checked before the duplicate test: a seq of 0, -1 or NaN must not be silently swallowed as a replay.
    if (!Number.isSafeInteger(seq) || seq <= 0) {
      if (!index.has(id)) unknown = true;
      reject("invalid_seq", `seq must be a positive safe integer, got ${describeValue(seq)}`);
      continue;
    }
    if (seq <= highWater) {
      duplicates.push(seq);
      continue;
    }
    highWater = seq;
    const objective = index.get(id);
    if (!objective) {
      unknown = true;
      reject("unknown_objective", `unknown objective ${typeof id === "string" ? id.slice(0, 64) : describeValue(id)}`);
      continue;
    }
    if (typeof amount !== "number" || !Number.isFinite(amount)) {
      reject("not_a_number", `amount must be a finite number, got ${describeValue(amount)}`);
      continue;
    }
    if (amount <= 0) {
      reject("not_positive", `amount must be greater than 0, got ${amount}`);
      continue;
    }
    if (amount > MAX_AMOUNT) {
      reject("too_large", `amount ${amount} exceeds the maximum of ${MAX_AMOUNT}`);
      continue;
    }

    const current = values.get(id) ?? valueOf(state.objectives, id);
    const reach = objective.type === "reach";
    // A reach update reports a level, not a gain: only the increase it causes is progress (and is rate-limited).
    const delta = reach ? Math.max(0, amount - current) : amount;
    if (objective.maxPerUpdate !== undefined && exceeds(delta, objective.maxPerUpdate)) {
      reject("max_per_update", `${reach ? "increase" : "amount"} ${delta} exceeds maxPerUpdate ${objective.maxPerUpdate} for ${id}`);
      continue;
    }
    if (objective.maxPerMinute !== undefined && delta > 0) {
      const earlier = windowUsed.get(id) ?? windowSum(Object.hasOwn(state.recent, id) ? state.recent[id] : undefined, cutoff);
      const used = earlier + delta;
      if (exceeds(used, objective.maxPerMinute)) {
        reject("max_per_minute", `would make ${used} in the last minute for ${id}; maxPerMinute is ${objective.maxPerMinute}`);
        continue;
      }
      windowUsed.set(id, used);
      gained.set(id, (gained.get(id) ?? 0) + delta);
    }
    values.set(id, current + delta);
    applied.push(seq);
  }

  if (rejections.length > 0) {
    // An unknown objective means the client runs against other mechanics: that, not cheating, is the story to tell.
    return { ok: false, code: unknown ? "unknown_objective" : "implausible_progress", rejections };
  }
  if (applied.length === 0) {
    return { ok: true, state, applied, duplicates, newMilestones: [], completion: completion(state.objectives, mechanics) };
  }

  const objectives = { ...state.objectives };
  for (const [id, v] of values) objectives[id] = v;
  const done = completion(objectives, mechanics);
  const reached = milestonesReached(done, mechanics);
  const newMilestones = reached.filter((i) => !state.unlockedMilestones.includes(i));
  const unlockedMilestones =
    newMilestones.length === 0 ? state.unlockedMilestones : [...state.unlockedMilestones, ...newMilestones].sort((a, b) => a - b);

  return {
    ok: true,
    state: {
      objectives,
      unlockedMilestones,
      lastSeq: highWater,
      recent: nextRecent(state.recent, gained, cutoff, now),
      joinedAt: state.joinedAt,
      lastUpdated: now,
    },
    applied,
    duplicates,
    newMilestones,
    completion: done,
  };
}

// Arrays and tuples of the old state are shared when unchanged and replaced (never mutated) when not. When nothing
// expired and nothing rate-limited was gained, the old record itself is returned, so the shard can skip writing it.
function nextRecent(prev: ProgressState["recent"], gained: Map<string, number>, cutoff: number, now: number): ProgressState["recent"] {
  const ids = Object.keys(prev);
  const expired = ids.some((id) => prev[id].some(([at]) => at <= cutoff));
  if (!expired && gained.size === 0) return prev;
  const out: ProgressState["recent"] = {};
  for (const id of ids) {
    const entries = prev[id];
    const kept = entries.some(([at]) => at <= cutoff) ? entries.filter(([at]) => at > cutoff) : entries;
    if (kept.length > 0) out[id] = kept;
  }
  for (const [id, delta] of gained) {
    const entries = Object.hasOwn(out, id) ? out[id] : [];
    const last = entries[entries.length - 1];
    // One entry per call (and per instant) bounds the state by request rate, not by batch size.
    out[id] =
      last && last[0] === now ? [...entries.slice(0, -1), [now, last[1] + delta]] : [...entries, [now, delta]];
  }
  return out;
}

/**
 * Share of the required objectives done, each capped at 1 so overshooting one cannot stand in for another. A clan
 * objective's target is the clan's, so it is left out of the player's own completion.
 */
export function completion(objectives: Record<string, number>, mechanics: Mechanics): number {
  let sum = 0;
  let required = 0;
  const shared = mechanics.clan?.objectiveIds;
  for (const o of mechanics.objectives) {
    if (o.isOptional || (shared && shared.includes(o.objectiveId))) continue;
    required++;
    sum += Math.min(valueOf(objectives, o.objectiveId) / o.targetValue, 1);
  }
  if (required === 0) return 0;
  const c = sum / required;
  return c >= 1 - EPS ? 1 : Math.max(0, c);
}

/** Indexes of every milestone whose threshold `completion` meets (not only new ones), ascending. */
export function milestonesReached(completion: number, mechanics: Mechanics): number[] {
  const reached: number[] = [];
  for (const m of mechanics.milestones) if (completion >= m.progressThreshold - EPS) reached.push(m.index);
  return reached.sort((a, b) => a - b);
}

/** The API's view of a player's progress. Pass `done` when it is already known (applyUpdates returns it). */
export function snapshot(state: ProgressState, mechanics: Mechanics, done = completion(state.objectives, mechanics)): ProgressSnapshot {
  const objectives: ProgressSnapshot["objectives"] = {};
  for (const o of mechanics.objectives) {
    const currentValue = valueOf(state.objectives, o.objectiveId);
    objectives[o.objectiveId] = { currentValue, targetValue: o.targetValue, isCompleted: currentValue >= o.targetValue };
  }
  return {
    objectives,
    completion: done,
    unlockedMilestones: state.unlockedMilestones.slice(),
    lastUpdated: iso(state.lastUpdated),
    lastSeq: state.lastSeq,
  };
}

/** Distribution of completions over [0, 1]; 1 falls in the last bucket, out-of-range values are clamped, NaN skipped. */
export function histogram(values: number[], buckets = 10): Array<{ from: number; to: number; count: number }> {
  if (!Number.isSafeInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    const clamped = Math.min(1, Math.max(0, v));
    counts[Math.min(buckets - 1, Math.floor(clamped * buckets))]++;
  }
  // i / buckets rather than a running sum of 1 / buckets, so edges are the exact decimals (0.3, not 0.30000000000000004).
  return counts.map((count, i) => ({ from: i / buckets, to: (i + 1) / buckets, count }));
}

/** What a progress shard needs to know about its event; pushed by the EventActor on every change. */
export type EventInfo = Mechanics & {
  eventId: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number;
  minimumPlayerLevel: number;
  requiresClan: boolean;
  eligibleClanIds: string[];
  shardCount: number;
  revision: number;
  /** The event's board, if it has one: what score changes the shard pushes, and to whom. */
  board?: { eventId: string; templateId: string; endTime: number; definition: BoardDefinition } | null;
  /** The event's clan definition, if it is cooperative: what the shard pushes to the clans (domain/clan.ts). */
  clan?: ClanDefinition | null;
  /** A local-time event's wall-clock window: each player makes progress only inside their own zone's reading of it. */
  localTime?: LocalTime | null;
};

/**
 * Progress is accepted only while the event is active *and* inside its window: a shard that missed the expiry
 * message must still refuse progress after endTime, so the clock is checked as well as the state.
 */
export function progressGate(info: Pick<EventInfo, "state" | "startTime" | "endTime">, now: number): { open: true } | { open: false; state: string } {
  if (info.state === "active" && now >= info.endTime) return { open: false, state: "expired" };
  if (info.state !== "active") return { open: false, state: info.state };
  return { open: true };
}
