// Write-behind toward D1. An object's change is durable in its own SQLite first; what D1 still owes is either a row
// in the outbox table or a source the actor keeps itself (e.g. players whose revision is ahead of D1's). A flush
// turns everything pending into D1 statements, sends them as one batch, and only then marks exactly what was sent
// as written: a failed batch leaves everything for the retry, and a row changed while the batch was in flight
// stays pending (its revision moved on). D1 writes are idempotent upserts, so a repeated batch is harmless.

export const OUTBOX_TABLE = `CREATE TABLE IF NOT EXISTS outbox (topic TEXT NOT NULL, id TEXT NOT NULL, row TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (topic, id))`;

/** Something that owes D1 rows: the statements that write them, and how to mark exactly those as written. */
export type Pending = { count: number; statements: D1PreparedStatement[]; markWritten: () => void };
export type OutboxSource = (d1: D1Database, limit: number) => Pending;

/** D1 caps a batch's size; far below that, this keeps one drain's batch a sensible size. */
export const FLUSH_MAX_ROWS = 2000;

type Queued<T> = { id: string; row: T; revision: number };

export class Outbox {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** Queues a row for D1. Re-putting an id replaces the row and bumps its revision, so an in-flight copy stays pending. */
  put(topic: string, id: string, row: unknown): void {
    this.sql.exec(
      "INSERT INTO outbox (topic, id, row, revision) VALUES (?, ?, ?, 0) ON CONFLICT (topic, id) DO UPDATE SET row = excluded.row, revision = outbox.revision + 1",
      topic,
      id,
      JSON.stringify(row),
    );
  }

  /** Queues a row once: an id already pending is left as it is (for rows that never change, such as a fired notification). */
  add(topic: string, id: string, row: unknown): void {
    this.sql.exec("INSERT OR IGNORE INTO outbox (topic, id, row) VALUES (?, ?, ?)", topic, id, JSON.stringify(row));
  }

  count(topic?: string): number {
    return topic === undefined
      ? this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n
      : this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE topic = ?", topic).one().n;
  }

  /** A source for one topic: its queued rows through `write` (a db/ module's statement builder). */
  source<T>(topic: string, write: (d1: D1Database, rows: T[]) => D1PreparedStatement[]): OutboxSource {
    return (d1, limit) => {
      const queued = this.sql
        .exec<{ id: string; row: string; revision: number }>("SELECT id, row, revision FROM outbox WHERE topic = ? ORDER BY rowid LIMIT ?", topic, limit)
        .toArray()
        .map((r): Queued<T> => ({ id: r.id, row: JSON.parse(r.row), revision: r.revision }));
      return {
        count: queued.length,
        statements: queued.length ? write(d1, queued.map((q) => q.row)) : [],
        markWritten: () => {
          for (const q of queued) this.sql.exec("DELETE FROM outbox WHERE topic = ? AND id = ? AND revision = ?", topic, q.id, q.revision);
        },
      };
    };
  }

  /**
   * One flush of every source as a single D1 batch. Returns how many rows and statements it wrote; throws if D1
   * refused the batch (nothing is then marked written).
   */
  async flush(d1: D1Database, sources: OutboxSource[], limit = FLUSH_MAX_ROWS): Promise<{ rows: number; statements: number }> {
    const pending = sources.map((s) => s(d1, limit));
    const rows = pending.reduce((n, p) => n + p.count, 0);
    const statements = pending.flatMap((p) => p.statements);
    if (statements.length) await d1.batch(statements);
    this.storage.transactionSync(() => {
      for (const p of pending) p.markWritten();
    });
    return { rows, statements: statements.length };
  }
}

/**
 * Destinations that take the object's latest state rather than rows (the D1 projection of an event, its shards'
 * copies, the scheduler's copy of its window). Each remembers the last revision and transition seq it took; one that
 * is behind is pushed, and one that fails keeps its mark and is retried through the schedule ("sink", name) with
 * backoff. Every push is revision-guarded at the other end, so pushing twice is harmless.
 */
export const SINKS_TABLE = "CREATE TABLE IF NOT EXISTS sinks (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, last_seq INTEGER NOT NULL)";

/** The part of an object's Schedule that sinks use: their retry rows ("sink", name). */
export type SinkSchedule = {
  get(kind: "sink", key: string): { dueAt: number } | null;
  cancel(kind: "sink", key: string): void;
  failed(kind: "sink", key: string, now: number, err: unknown): unknown;
};

export class Sinks {
  private readonly sql: SqlStorage;

  constructor(
    storage: DurableObjectStorage,
    private readonly schedule: SinkSchedule,
  ) {
    this.sql = storage.sql;
  }

  private mark(name: string): { revision: number; last_seq: number } {
    return this.sql.exec<{ revision: number; last_seq: number }>("SELECT revision, last_seq FROM sinks WHERE name = ?", name).toArray()[0] ?? { revision: 0, last_seq: 0 };
  }

  /**
   * Pushes `revision` to `name` if it is behind and not backing off. `push` gets the last transition seq the sink
   * has and returns the one it has now. `force` ignores the backoff (the retry row itself is running).
   */
  async flush(name: string, revision: number, now: number, push: (lastSeq: number) => Promise<number>, force = false): Promise<void> {
    const mark = this.mark(name);
    if (mark.revision >= revision) return;
    const retry = this.schedule.get("sink", name);
    if (retry && retry.dueAt > now && !force) return;
    try {
      const lastSeq = await push(mark.last_seq);
      this.sql.exec("INSERT OR REPLACE INTO sinks (name, revision, last_seq) VALUES (?, ?, ?)", name, revision, lastSeq);
      this.schedule.cancel("sink", name);
    } catch (err) {
      if (force) throw err; // the schedule records the failure of its own row
      this.schedule.failed("sink", name, now, err);
    }
  }
}
