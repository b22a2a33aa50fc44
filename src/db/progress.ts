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
export type FlagRow = { flagId: string; playerId: string; objectiveId: string; amount: string; reason: string; at: number };

/** Keeps each JSON parameter well under D1's per-value size limit. */
const ROWS_PER_STATEMENT = 250;

const UPSERT_PROGRESS = `
  INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq,
                               revision, is_synced, last_updated, created_at)
  SELECT ?1 || ':' || (j.value ->> '$.playerId'), j.value ->> '$.playerId', ?1, j.value ->> '$.objectives',
         j.value ->> '$.unlockedMilestones', j.value ->> '$.completion', j.value ->> '$.lastSeq', j.value ->> '$.revision',
         1, j.value ->> '$.lastUpdated', j.value ->> '$.createdAt'
  FROM json_each(?2) AS j WHERE true
  ON CONFLICT (player_id, event_id) DO UPDATE SET
    objectives = excluded.objectives, unlocked_milestones = excluded.unlocked_milestones, completion = excluded.completion,
    last_seq = excluded.last_seq, revision = excluded.revision, last_updated = excluded.last_updated
  WHERE excluded.revision > player_progress.revision`;

const INSERT_FLAGS = `
  INSERT OR IGNORE INTO progress_flags (flag_id, player_id, event_id, objective_id, amount, reason, at)
  SELECT j.value ->> '$.flagId', j.value ->> '$.playerId', ?1, j.value ->> '$.objectiveId', j.value ->> '$.amount',
         j.value ->> '$.reason', j.value ->> '$.at'
  FROM json_each(?2) AS j`;

/** Revision-guarded upserts of players' progress: a retried or reordered drain never rolls a record back. */
export const progressStatements = (d1: D1Database, eventId: string, rows: ProgressRow[]) => perEvent(d1, UPSERT_PROGRESS, eventId, rows);

/** Refused updates, for anti-cheat analysis; keyed by flag id, so a retried drain inserts nothing twice. */
export const flagStatements = (d1: D1Database, eventId: string, flags: FlagRow[]) => perEvent(d1, INSERT_FLAGS, eventId, flags);

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
