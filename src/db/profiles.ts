// player_profiles (issue 15): the only writer. The hourly job finds the players D1 saw change since its watermark and
// recomputes their profiles from bounded aggregates (each statement binds one JSON list of at most CHUNK players and
// reads by the player indexes); a game server's level and needs are the other write. Reads: ops' profile view and the
// recommendation route's single batch (candidates + profile + weights).
import { isPseudonym } from "../lib/pseudonym";
import {
  PACE_BUCKETS,
  PACE_EVENTS,
  PROFILE_BATCH,
  PROFILE_WINDOW_DAYS,
  meanPace,
  pacePercentile,
  sessionsPerDay,
  skill,
  spendSegment,
  round,
  type PlayerProfile,
  type ProfileCursor,
  type ProfileNeeds,
  type TypeCounts,
} from "../domain/personalization";
import { DAY_MS, iso } from "../domain/time";
import type { EventTier, EventType, Milestone, RewardData } from "../domain/model";
import { weightsStatement } from "./settings";

/** Players per aggregate statement: one JSON parameter each, so D1's 100-parameter cap never applies. */
const CHUNK = 100;
/** A drain stamped just before the run may commit just after it: changes younger than this wait for the next run. */
export const SETTLE_MS = 60_000;
/** An ended event's histogram stored this long after its end is final: drains land within minutes of the end. */
const HISTOGRAM_FINAL_MS = DAY_MS;

const inList = "SELECT value FROM json_each(?1)";

/**
 * The players whose progress, sessions or purchases reached D1 after `since` and by `until`, in (time, player id)
 * order, at most PROFILE_BATCH rows per source. A whole telemetry batch or drain shares one time, so the position is
 * (time, player id), not time alone (keyset paging): when a source is cut off, `upTo` is the smallest last key seen,
 * and rows past it in any source wait for the next page. Rows of the same key not read are the same player at the same
 * time, already taken. `more` says a source was cut off.
 */
export async function touchedPlayers(d1: D1Database, since: ProfileCursor, until: number): Promise<{ players: string[]; upTo: ProfileCursor; more: boolean }> {
  const q = (table: string, column: string) =>
    d1
      .prepare(
        `SELECT player_id AS p, ${column} AS t FROM ${table} WHERE (${column}, player_id) > (?1, ?2) AND ${column} <= ?3 ORDER BY ${column}, player_id LIMIT ?4`,
      )
      .bind(since.at, since.player, until, PROFILE_BATCH);
  const results = await d1.batch<{ p: string; t: number }>([
    q("player_progress", "synced_at"),
    q("telemetry_sessions", "received_at"),
    q("telemetry_purchases", "received_at"),
  ]);
  // Is a past b? A null player is the end of its millisecond.
  const after = (a: ProfileCursor, b: ProfileCursor) =>
    a.at > b.at || (a.at === b.at && b.player !== null && (a.player === null || a.player > b.player));
  let upTo: ProfileCursor = { at: until, player: null };
  let more = false;
  for (const r of results) {
    if (r.results.length < PROFILE_BATCH) continue;
    more = true;
    const last = r.results[PROFILE_BATCH - 1];
    if (after(upTo, { at: last.t, player: last.p })) upTo = { at: last.t, player: last.p };
  }
  const players = new Set<string>();
  // An erased player's rows live on under their pseudonym (for the KPIs); no profile is ever built for one.
  for (const r of results) for (const row of r.results) if (!after({ at: row.t, player: row.p }, upTo) && !isPseudonym(row.p)) players.add(row.p);
  return { players: [...players].sort(), upTo, more };
}

/**
 * Did this progress row complete its event, on the report's definition (domain/analytics.ts): at least
 * COMPLETION_SHARE (3/4, so ⌈3n/4⌉ = (3n + 3) / 4 of n) of the required objectives (not optional, not clan-scoped)
 * reached against the event's own targets, so an adjusted player's lowered targets alone do not count. 0 without any.
 */
const COMPLETED = `(SELECT COUNT(*) > 0 AND SUM(coalesce(v.value, 0) >= o.value ->> '$.targetValue') >= (COUNT(*) * 3 + 3) / 4
    FROM json_each(i.document, '$.objectives') o LEFT JOIN json_each(pp.objectives) v ON v.key = o.value ->> '$.objectiveId'
    WHERE NOT coalesce(o.value ->> '$.isOptional', 0)
      AND o.value ->> '$.objectiveId' NOT IN (SELECT value FROM json_each(coalesce(i.document -> '$.clan.objectiveIds', '[]'))))`;

type Aggregates = {
  participation: Array<{ p: string; t: string; joined: number; completed: number }>;
  claims: Array<{ p: string; n: number }>;
  sessions: Array<{ p: string; n: number; avg: number | null; first: number | null }>;
  purchases: Array<{ p: string; total: number }>;
  recent: Array<{ p: string; e: string; c: number }>;
};

async function aggregates(d1: D1Database, players: string[], now: number): Promise<Aggregates> {
  const list = JSON.stringify(players);
  const from = now - PROFILE_WINDOW_DAYS * DAY_MS;
  const [participation, claims, sessions, purchases, recent] = await d1.batch([
    d1
      .prepare(
        `SELECT pp.player_id AS p, i.event_type AS t, COUNT(*) AS joined, SUM(${COMPLETED}) AS completed
         FROM player_progress pp JOIN instances i ON i.event_id = pp.event_id
         WHERE pp.player_id IN (${inList}) GROUP BY pp.player_id, i.event_type`,
      )
      .bind(list),
    d1.prepare(`SELECT player_id AS p, COUNT(*) AS n FROM rewards_claimed WHERE player_id IN (${inList}) GROUP BY player_id`).bind(list),
    d1
      .prepare(
        `SELECT player_id AS p, COUNT(*) AS n, AVG(duration_sec) AS avg, MIN(start) AS first FROM telemetry_sessions
         WHERE player_id IN (${inList}) AND start >= ?2 GROUP BY player_id`,
      )
      .bind(list, from),
    d1.prepare(`SELECT player_id AS p, SUM(amount) AS total FROM telemetry_purchases WHERE player_id IN (${inList}) AND at >= ?2 GROUP BY player_id`).bind(list, from),
    // Each player's last PACE_EVENTS ended events and how far they got in them.
    d1
      .prepare(
        `SELECT p, e, c FROM (
           SELECT pp.player_id AS p, pp.event_id AS e, pp.completion AS c,
                  ROW_NUMBER() OVER (PARTITION BY pp.player_id ORDER BY i.end_time DESC, pp.event_id) AS rn
           FROM player_progress pp JOIN instances i ON i.event_id = pp.event_id
           WHERE pp.player_id IN (${inList}) AND i.state IN ('expired', 'archived'))
         WHERE rn <= ?2`,
      )
      .bind(list, PACE_EVENTS),
  ]);
  return {
    participation: participation.results as Aggregates["participation"],
    claims: claims.results as Aggregates["claims"],
    sessions: sessions.results as Aggregates["sessions"],
    purchases: purchases.results as Aggregates["purchases"],
    recent: recent.results as Aggregates["recent"],
  };
}

/**
 * Completion histograms (PACE_BUCKETS buckets) of ended events: from pace_histograms when stored at least a day after
 * the event's end (final: no drain lands that late), else counted from player_progress once per run and stored, so an
 * event's rows are read a few times in all, not every run for every player who took part.
 */
async function histograms(d1: D1Database, eventIds: string[], cache: Map<string, number[]>, now: number): Promise<void> {
  const missing = eventIds.filter((e) => !cache.has(e));
  for (let i = 0; i < missing.length; i += CHUNK) {
    const ids = missing.slice(i, i + CHUNK);
    const stored = await d1
      .prepare(
        `SELECT h.event_id AS e, h.buckets AS b FROM pace_histograms h JOIN instances i ON i.event_id = h.event_id
         WHERE h.event_id IN (${inList}) AND h.computed_at >= i.end_time + ?2`,
      )
      .bind(JSON.stringify(ids), HISTOGRAM_FINAL_MS)
      .all<{ e: string; b: string }>();
    for (const r of stored.results) cache.set(r.e, JSON.parse(r.b) as number[]);
    const count = ids.filter((e) => !cache.has(e));
    if (!count.length) continue;
    const { results } = await d1
      .prepare(
        `SELECT event_id AS e, MIN(CAST(completion * ${PACE_BUCKETS} AS INTEGER), ${PACE_BUCKETS - 1}) AS b, COUNT(*) AS n
         FROM player_progress WHERE event_id IN (${inList}) GROUP BY event_id, b`,
      )
      .bind(JSON.stringify(count))
      .all<{ e: string; b: number; n: number }>();
    for (const id of count) cache.set(id, new Array<number>(PACE_BUCKETS).fill(0));
    for (const r of results) cache.get(r.e)![Math.max(0, r.b)] += r.n;
    await d1
      .prepare(
        `INSERT INTO pace_histograms (event_id, buckets, computed_at) SELECT value ->> '$.e', value ->> '$.b', ?2 FROM json_each(?1) WHERE true
         ON CONFLICT (event_id) DO UPDATE SET buckets = excluded.buckets, computed_at = excluded.computed_at`,
      )
      .bind(JSON.stringify(count.map((e) => ({ e, b: JSON.stringify(cache.get(e)) }))), now)
      .run();
  }
}

type Computed = Omit<PlayerProfile, "level" | "needs" | "timeZone" | "skill" | "computedAt" | "updatedAt">;

/**
 * Recomputes and stores the profiles of `players` (level, needs and time zone stay as posted), of those D1 still has rows of.
 * Returns how many were written.
 */
export async function recomputeProfiles(d1: D1Database, players: string[], now: number, cache = new Map<string, number[]>()): Promise<number> {
  let written = 0;
  for (let i = 0; i < players.length; i += CHUNK) {
    const chunk = players.slice(i, i + CHUNK);
    const a = await aggregates(d1, chunk, now);
    await histograms(d1, [...new Set(a.recent.map((r) => r.e))], cache, now);
    const byPlayer = new Map<string, Computed>(
      chunk.map((p) => [p, { playerId: p, participation: {}, eventsJoined: 0, eventsCompleted: 0, claims: 0, pacePercentile: null, sessionsPerDay: 0, avgSessionMinutes: null, spendTotal: 0, spendSegment: "non_payer" }]),
    );
    for (const r of a.participation) {
      const p = byPlayer.get(r.p)!;
      p.participation[r.t] = { joined: r.joined, completed: r.completed ?? 0 } satisfies TypeCounts;
      p.eventsJoined += r.joined;
      p.eventsCompleted += r.completed ?? 0;
    }
    for (const r of a.claims) byPlayer.get(r.p)!.claims = r.n;
    for (const r of a.sessions) {
      const p = byPlayer.get(r.p)!;
      p.sessionsPerDay = sessionsPerDay(r.n, r.first, now);
      p.avgSessionMinutes = r.avg === null ? null : round(r.avg / 60);
    }
    for (const r of a.purchases) {
      const p = byPlayer.get(r.p)!;
      p.spendTotal = round(r.total ?? 0);
      p.spendSegment = spendSegment(p.spendTotal);
    }
    const paces = new Map<string, (number | null)[]>();
    for (const r of a.recent) paces.set(r.p, [...(paces.get(r.p) ?? []), pacePercentile(r.c, cache.get(r.e)!)]);
    for (const [p, list] of paces) byPlayer.get(p)!.pacePercentile = meanPace(list);
    const rows = [...byPlayer.values()];
    const res = await d1
      .prepare(
        `INSERT INTO player_profiles (player_id, participation, events_joined, events_completed, claims, pace_percentile,
           sessions_per_day, avg_session_minutes, spend_total, spend_segment, computed_at, updated_at)
         SELECT j.value ->> '$.playerId', j.value -> '$.participation', j.value ->> '$.eventsJoined', j.value ->> '$.eventsCompleted',
           j.value ->> '$.claims', j.value ->> '$.pacePercentile', j.value ->> '$.sessionsPerDay', j.value ->> '$.avgSessionMinutes',
           j.value ->> '$.spendTotal', j.value ->> '$.spendSegment', ?2, ?2
         FROM json_each(?1) j
         -- Only a player D1 still holds rows of: an erase that renamed them between the reads above and this write
         -- (statements run one at a time) leaves nothing to rebuild a profile under the raw id from.
         WHERE EXISTS (SELECT 1 FROM player_progress WHERE player_id = j.value ->> '$.playerId')
            OR EXISTS (SELECT 1 FROM telemetry_sessions WHERE player_id = j.value ->> '$.playerId')
            OR EXISTS (SELECT 1 FROM telemetry_purchases WHERE player_id = j.value ->> '$.playerId')
            OR EXISTS (SELECT 1 FROM rewards_claimed WHERE player_id = j.value ->> '$.playerId')
         ON CONFLICT (player_id) DO UPDATE SET participation = excluded.participation, events_joined = excluded.events_joined,
           events_completed = excluded.events_completed, claims = excluded.claims, pace_percentile = excluded.pace_percentile,
           sessions_per_day = excluded.sessions_per_day, avg_session_minutes = excluded.avg_session_minutes,
           spend_total = excluded.spend_total, spend_segment = excluded.spend_segment, computed_at = excluded.computed_at,
           updated_at = excluded.updated_at`,
      )
      .bind(JSON.stringify(rows), now)
      .run();
    written += res.meta.changes ?? 0;
  }
  return written;
}

type ProfileRow = {
  player_id: string;
  level: number | null;
  participation: string;
  events_joined: number;
  events_completed: number;
  claims: number;
  pace_percentile: number | null;
  sessions_per_day: number;
  avg_session_minutes: number | null;
  spend_total: number;
  spend_segment: string;
  needs: string | null;
  time_zone: string | null;
  computed_at: number | null;
  updated_at: number;
};

/** The row as ops read it; `skill` uses the level part scaled by levelForMaxSkill (a setting). */
function view(r: ProfileRow, levelForMaxSkill: number): PlayerProfile {
  return {
    playerId: r.player_id,
    level: r.level,
    participation: JSON.parse(r.participation) as Record<string, TypeCounts>,
    eventsJoined: r.events_joined,
    eventsCompleted: r.events_completed,
    claims: r.claims,
    pacePercentile: r.pace_percentile,
    skill: skill(r.level, r.pace_percentile, levelForMaxSkill),
    sessionsPerDay: r.sessions_per_day,
    avgSessionMinutes: r.avg_session_minutes,
    spendTotal: r.spend_total,
    spendSegment: r.spend_segment as PlayerProfile["spendSegment"],
    needs: r.needs ? (JSON.parse(r.needs) as ProfileNeeds) : null,
    timeZone: r.time_zone ?? null,
    computedAt: r.computed_at === null ? null : iso(r.computed_at),
    updatedAt: iso(r.updated_at),
  };
}

export const profileStatement = (d1: D1Database, playerId: string) => d1.prepare("SELECT * FROM player_profiles WHERE player_id = ?").bind(playerId);

export async function readProfile(d1: D1Database, playerId: string, levelForMaxSkill: number): Promise<PlayerProfile | null> {
  const row = await profileStatement(d1, playerId).first<ProfileRow>();
  return row ? view(row, levelForMaxSkill) : null;
}

/**
 * A game server's post: only what it gives changes (a `timeZone` of null clears the zone, left out keeps it). A player
 * the job has not seen yet gets an empty profile row.
 */
export async function writeNeeds(d1: D1Database, playerId: string, post: { needs?: ProfileNeeds; level?: number; timeZone?: string | null }, now: number): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO player_profiles (player_id, level, participation, needs, time_zone, updated_at) VALUES (?1, ?2, '{}', ?3, ?6, ?4)
       ON CONFLICT (player_id) DO UPDATE SET level = coalesce(?2, level), needs = coalesce(?3, needs),
         time_zone = CASE WHEN ?5 THEN ?6 ELSE time_zone END, updated_at = ?4`,
    )
    .bind(playerId, post.level ?? null, post.needs ? JSON.stringify(post.needs) : null, now, post.timeZone !== undefined ? 1 : 0, post.timeZone ?? null)
    .run();
}

/** The zone a game server posted for the player, or null (none, or no profile): one read by the primary key. */
export async function profileTimeZone(d1: D1Database, playerId: string): Promise<string | null> {
  const row = await d1.prepare("SELECT time_zone FROM player_profiles WHERE player_id = ?").bind(playerId).first<{ time_zone: string | null }>();
  return row?.time_zone ?? null;
}

/** Erasure: the profile is derived data about the player, so it goes (the job rebuilds one under the pseudonym). */
export const eraseProfileStatements = (d1: D1Database, playerId: string) => [
  { name: "player_profiles", statement: d1.prepare("DELETE FROM player_profiles WHERE player_id = ?").bind(playerId) },
];

export type CandidateRow = {
  eventId: string;
  name: string;
  type: EventType;
  tier: EventTier;
  state: "scheduled" | "active";
  startTime: number;
  endTime: number;
  minimumPlayerLevel: number;
  requiresClan: boolean;
  eligibleClanIds: string[];
  rewards: Pick<RewardData, "type" | "itemId">[];
  difficultyRating: number | null;
  averageCompletionRate: number | null;
};

/** At most this many candidates per request: the soonest the player is eligible for. */
export const MAX_CANDIDATES = 200;

/**
 * One D1 round trip for a recommendation: the active events and those starting by `horizon` that the player may join
 * (level and clan checked in SQL, before the limit, so events closed to them never crowd out those open to them;
 * columns only, with their template's difficulty and completion rate), the player's profile, and the weights.
 */
export async function recommendationInputs(d1: D1Database, playerId: string, now: number, horizon: number, player: { level: number; clan: string | null }) {
  const [events, profile, weights] = await d1.batch([
    d1
      .prepare(
        `SELECT i.event_id, i.custom_name, i.event_type, i.tier, i.state, i.start_time, i.end_time, i.minimum_player_level,
           i.document ->> '$.requiresClan' AS requires_clan, i.eligible_clan_ids, i.milestones, i.reward_pool,
           t.difficulty, t.average_completion_rate
         FROM instances i LEFT JOIN templates t ON t.template_id = i.template_id
         WHERE ((i.state = 'active' AND i.end_time > ?1) OR (i.state = 'scheduled' AND i.start_time <= ?2))
           AND i.minimum_player_level <= ?4
           AND (NOT coalesce(i.document ->> '$.requiresClan', 0) OR EXISTS (SELECT 1 FROM json_each(i.eligible_clan_ids) WHERE value = ?5))
         ORDER BY i.start_time, i.event_id LIMIT ?3`,
      )
      .bind(now, horizon, MAX_CANDIDATES, player.level, player.clan),
    profileStatement(d1, playerId),
    weightsStatement(d1),
  ]);
  const candidates: CandidateRow[] = (events.results as Record<string, unknown>[]).map((r) => {
    const milestones = JSON.parse(r.milestones as string) as Milestone[];
    const pool = JSON.parse(r.reward_pool as string) as RewardData[];
    return {
      eventId: r.event_id as string,
      name: r.custom_name as string,
      type: r.event_type as EventType,
      tier: r.tier as EventTier,
      state: r.state as "scheduled" | "active",
      startTime: r.start_time as number,
      endTime: r.end_time as number,
      minimumPlayerLevel: r.minimum_player_level as number,
      requiresClan: Boolean(r.requires_clan),
      eligibleClanIds: JSON.parse(r.eligible_clan_ids as string) as string[],
      rewards: [...milestones.flatMap((m) => m.rewards), ...pool].map((x) => ({ type: x.type, itemId: x.itemId })),
      difficultyRating: (r.difficulty as number | null) ?? null,
      averageCompletionRate: (r.average_completion_rate as number | null) ?? null,
    };
  });
  const row = (profile.results[0] as ProfileRow | undefined) ?? null;
  const stored = (weights.results[0] as { value: string } | undefined)?.value;
  return { candidates, profile: row ? view(row, 2) : null, storedWeights: stored ? (JSON.parse(stored) as Record<string, number>) : null };
}
