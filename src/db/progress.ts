// The progress shards' write-behind into D1. Each drain is one D1 batch (one transaction): rows travel as a single
// JSON parameter expanded with json_each, so a statement stays far under D1's 100-bound-parameter limit however
// many players it carries, and D1 sees a handful of statements per drain instead of one per update.

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

/** Counts come from the record itself, so shards never have to agree with each other on a total. */
const REFRESH_COUNTS = `
  UPDATE instances SET
    participant_count = (SELECT COUNT(*) FROM player_progress WHERE event_id = ?1),
    completion_count = (SELECT COUNT(*) FROM player_progress WHERE event_id = ?1 AND completion >= ?2)
  WHERE event_id = ?1`;

/** Writes one drain; returns the number of D1 statements it took. Throws (and writes nothing) if D1 fails. */
export async function writeProgressBatch(
  d1: D1Database,
  eventId: string,
  rows: ProgressRow[],
  flags: FlagRow[],
  completionThreshold: number,
  extra: D1PreparedStatement[] = [],
): Promise<number> {
  const statements: D1PreparedStatement[] = [...extra];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(d1.prepare(UPSERT_PROGRESS).bind(eventId, JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))));
  }
  for (let i = 0; i < flags.length; i += ROWS_PER_STATEMENT) {
    statements.push(d1.prepare(INSERT_FLAGS).bind(eventId, JSON.stringify(flags.slice(i, i + ROWS_PER_STATEMENT))));
  }
  if (rows.length) statements.push(d1.prepare(REFRESH_COUNTS).bind(eventId, completionThreshold));
  if (statements.length) await d1.batch(statements);
  return statements.length;
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
