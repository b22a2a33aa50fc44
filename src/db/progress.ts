// player_progress and progress_flags, written behind the progress shards. A shard's drain puts these statements in
// its one D1 batch (one transaction): rows travel as a single JSON parameter expanded with json_each, so a statement
// stays far under D1's 100-bound-parameter limit however many players it carries, and D1 sees a handful of
// statements per drain instead of one per update.

export type ProgressRow = {
  playerId: string;
  objectives: string; // JSON
  unlockedMilestones: string; // JSON
  completion: number;
  lastSeq: number;
  revision: number;
  lastUpdated: number;
  createdAt: number;
};
/** A shard's running count for one (player, objective, reason): absolute, so writing it twice adds nothing twice. */
export type FlagRow = {
  playerId: string;
  objectiveId: string;
  reason: string;
  /** Everything this shard has counted for the key, ever. */
  count: number;
  firstSeen: number;
  lastSeen: number;
  sampleAmount: string;
  sampleDetail: string;
};

/** Keeps each JSON parameter well under D1's per-value size limit. */
const ROWS_PER_STATEMENT = 250;

/**
 * D1's own clock at the write, in ms: synced_at - last_updated is how long the shard's latest accepted update took to
 * reach D1 (the progress-sync latency of the analytics report). Measured here, not passed in by the shard, so the
 * figure includes the drain's wait, its retries and the batch itself.
 */
const D1_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

const UPSERT_PROGRESS = `
  INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq,
                               revision, is_synced, last_updated, created_at, synced_at)
  SELECT ?1 || ':' || (j.value ->> '$.playerId'), j.value ->> '$.playerId', ?1, j.value ->> '$.objectives',
         j.value ->> '$.unlockedMilestones', j.value ->> '$.completion', j.value ->> '$.lastSeq', j.value ->> '$.revision',
         1, j.value ->> '$.lastUpdated', j.value ->> '$.createdAt', ${D1_NOW_MS}
  FROM json_each(?2) AS j WHERE true
  ON CONFLICT (player_id, event_id) DO UPDATE SET
    objectives = excluded.objectives, unlocked_milestones = excluded.unlocked_milestones, completion = excluded.completion,
    last_seq = excluded.last_seq, revision = excluded.revision, last_updated = excluded.last_updated, synced_at = excluded.synced_at
  WHERE excluded.revision > player_progress.revision`;

// count moves by how far the shard's total moved since D1 last saw it, so rows aggregated by migration 0006 keep their
// part, and a drain that is retried after it landed (its reply lost) finds the same total and changes nothing.
const UPSERT_FLAGS = `
  INSERT INTO progress_flags (event_id, player_id, objective_id, reason, count, shard_total, first_seen, last_seen, sample_amount, sample_detail)
  SELECT ?1, j.value ->> '$.playerId', j.value ->> '$.objectiveId', j.value ->> '$.reason', j.value ->> '$.count', j.value ->> '$.count',
         j.value ->> '$.firstSeen', j.value ->> '$.lastSeen', j.value ->> '$.sampleAmount', j.value ->> '$.sampleDetail'
  FROM json_each(?2) AS j WHERE true
  ON CONFLICT (event_id, player_id, objective_id, reason) DO UPDATE SET
    count = progress_flags.count + excluded.shard_total - progress_flags.shard_total,
    shard_total = excluded.shard_total,
    first_seen = MIN(progress_flags.first_seen, excluded.first_seen),
    last_seen = MAX(progress_flags.last_seen, excluded.last_seen),
    sample_amount = CASE WHEN excluded.last_seen >= progress_flags.last_seen THEN excluded.sample_amount ELSE progress_flags.sample_amount END,
    sample_detail = CASE WHEN excluded.last_seen >= progress_flags.last_seen THEN excluded.sample_detail ELSE progress_flags.sample_detail END
  WHERE excluded.shard_total > progress_flags.shard_total`;

/** Revision-guarded upserts of players' progress: a retried or reordered drain never rolls a record back. */
export const progressStatements = (d1: D1Database, eventId: string, rows: ProgressRow[]) => perEvent(d1, UPSERT_PROGRESS, eventId, rows);

/** Refused updates, for anti-cheat analysis: counts per (player, objective, reason); a retried drain adds nothing twice. */
export const flagStatements = (d1: D1Database, eventId: string, flags: FlagRow[]) => perEvent(d1, UPSERT_FLAGS, eventId, flags);

function perEvent(d1: D1Database, sql: string, eventId: string, rows: unknown[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) statements.push(d1.prepare(sql).bind(eventId, JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))));
  return statements;
}

/** Per-objective sums over every player of an event, as D1 holds them: the number to check ingest against. */
export async function progressTotals(d1: D1Database, eventId: string): Promise<{ players: number; totals: Record<string, number> }> {
  const [players, sums] = await d1.batch<{ n?: number; objective?: string; total?: number }>([
    d1.prepare("SELECT COUNT(*) AS n FROM player_progress WHERE event_id = ?").bind(eventId),
    d1
      .prepare("SELECT o.key AS objective, SUM(o.value) AS total FROM player_progress p, json_each(p.objectives) o WHERE p.event_id = ? GROUP BY o.key")
      .bind(eventId),
  ]);
  const totals: Record<string, number> = {};
  for (const r of sums.results) totals[r.objective!] = r.total!;
  return { players: players.results[0]?.n ?? 0, totals };
}

/**
 * Privacy erasure: anti-cheat flags go; a progress row stays, under the pseudonym, as the telemetry does
 * (db/telemetry.ts), so the event's KPIs keep their counts: the erased participant is still a participant, active
 * and joined, a completer, a payer (a deleted row would make them active-not-joined on the report's next refresh).
 * Nothing in it names them. UPDATE OR REPLACE: a row kept by an earlier erase, for the same event, gives way.
 */
export const eraseProgressStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  {
    name: "player_progress",
    statement: d1.prepare("UPDATE OR REPLACE player_progress SET player_id = ?2, progress_id = event_id || ':' || ?2 WHERE player_id = ?1").bind(playerId, pseudonym),
  },
  { name: "progress_flags", statement: d1.prepare("DELETE FROM progress_flags WHERE player_id = ?").bind(playerId) },
];
