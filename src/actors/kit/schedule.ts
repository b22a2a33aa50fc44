// One schedule table behind the object's single alarm (the idea of cloudflare/agents' schedule table, small).
// A row is (kind, key) → due_at, attempt. The alarm always points at the earliest row; a tick runs the due rows one
// at a time. A row whose handler throws is retried with the domain's backoff, and its attempt count is stored, so a
// restart or eviction does not forget how long it has been failing. Alarms are at-least-once and may come late, so
// handlers are written to be re-run.
import { backoff, type BackoffPolicy } from "../../domain/backoff";
import { iso } from "../../domain/time";

export const SCHEDULE_TABLE = `CREATE TABLE IF NOT EXISTS schedule (kind TEXT NOT NULL, key TEXT NOT NULL DEFAULT '',
  due_at INTEGER NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, key))`;

/** The table as objects created it before the kit existed; step 1 of their schema, so old storage is adopted. */
export const LEGACY_SCHEDULE_TABLE = "CREATE TABLE IF NOT EXISTS schedule (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempt INTEGER NOT NULL DEFAULT 0)";

/**
 * A migration step for objects whose storage predates the kit: their one-column `schedule (kind PRIMARY KEY, due_at,
 * attempt)` becomes the kit's table, each old kind mapped to (kind, key). Pending rows keep their time and attempts.
 */
export function adoptLegacySchedule(sql: SqlStorage, map: (oldKind: string) => { kind: string; key: string }): void {
  const old = sql.exec<{ kind: string; due_at: number; attempt: number }>("SELECT kind, due_at, attempt FROM schedule").toArray();
  sql.exec("DROP TABLE schedule");
  sql.exec(SCHEDULE_TABLE);
  for (const r of old) {
    const { kind, key } = map(r.kind);
    sql.exec("INSERT OR REPLACE INTO schedule (kind, key, due_at, attempt) VALUES (?, ?, ?, ?)", kind, key, r.due_at, r.attempt);
  }
}

/** For a migration step, which runs before the object's Schedule exists: books a row (if none is there yet). */
export function bookInMigration(sql: SqlStorage, kind: string, dueAt: number, key = ""): void {
  sql.exec("INSERT OR IGNORE INTO schedule (kind, key, due_at, attempt) VALUES (?, ?, ?, 0)", kind, key, dueAt);
}

export type ScheduleRow<K extends string = string> = { kind: K; key: string; dueAt: number; attempt: number };
type Raw = { kind: string; key: string; due_at: number; attempt: number };
const row = <K extends string>(r: Raw): ScheduleRow<K> => ({ kind: r.kind as K, key: r.key, dueAt: r.due_at, attempt: r.attempt });

/** The runtime refuses alarm times <= 0; any past instant means "as soon as possible", so ring those at 1. */
const alarmTime = (at: number) => Math.max(at, 1);

/** A tick runs at most this many rows; the rest are due at once and re-arm the alarm immediately. */
const ROWS_PER_TICK = 25;

export class Schedule<K extends string> {
  private readonly sql: SqlStorage;
  /** Mirror of the stored alarm so hot paths need not ask storage; undefined until known. */
  private armedAt: number | null | undefined;
  /**
   * What ensure() knows is booked, so a hot path that asks on every request reads storage only when something may
   * have changed. Every other write of a row updates or forgets its entry; a tick forgets them all. (Callers must not
   * ensure() inside a transaction that may roll back, or the memo would remember a row that was never written.)
   */
  private readonly booked = new Map<string, { dueAt: number; backingOff: boolean }>();
  private running: Promise<unknown> = Promise.resolve();
  /**
   * The row a tick is running, and the earliest time anyone asked for it meanwhile (ensure(), or set() without an
   * attempt). The tick deletes a row whose handler returned without moving it; a request that landed during the
   * handler (new work that the running handler may already have missed) would be deleted with it, so the tick books
   * the row again instead.
   */
  private current: { id: string; again: number | null } | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    /** Backoff per kind for rows whose handler threw. */
    private readonly policy: (kind: K) => BackoffPolicy,
    /** Names the object in failure logs. */
    private readonly label: () => string = () => ctx.id.name ?? ctx.id.toString(),
  ) {
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.armedAt = await ctx.storage.getAlarm();
      // Rows with no alarm behind them (storage adopted by a migration, or an alarm the runtime gave up retrying)
      // would otherwise wait for a hot path that may never come: ring at the earliest.
      const earliest = this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM schedule").one().at;
      if (earliest !== null && (this.armedAt === null || this.armedAt > earliest)) {
        await ctx.storage.setAlarm(alarmTime(earliest));
        this.armedAt = earliest;
      }
    });
  }

  get(kind: K, key = ""): ScheduleRow<K> | null {
    const r = this.sql.exec<Raw>("SELECT kind, key, due_at, attempt FROM schedule WHERE kind = ? AND key = ?", kind, key).toArray()[0];
    return r ? row<K>(r) : null;
  }

  list(kind?: K): ScheduleRow<K>[] {
    const rows = kind === undefined ? this.sql.exec<Raw>("SELECT * FROM schedule ORDER BY due_at, kind, key") : this.sql.exec<Raw>("SELECT * FROM schedule WHERE kind = ? ORDER BY due_at, key", kind);
    return rows.toArray().map((r) => row<K>(r));
  }

  /** Books or moves a row. A moved row keeps its attempt count unless one is given. Call `arm()` after. */
  set(kind: K, dueAt: number, key = "", attempt?: number): void {
    const id = `${kind}\u0000${key}`;
    this.booked.delete(id);
    // The running row moved (or re-asked for at its own time) by anyone but failed(): a request, as for ensure().
    if (attempt === undefined) this.askAgain(id, dueAt);
    this.sql.exec(
      `INSERT INTO schedule (kind, key, due_at, attempt) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, attempt = COALESCE(?, schedule.attempt)`,
      kind,
      key,
      dueAt,
      attempt ?? 0,
      attempt ?? null,
    );
  }

  /**
   * Books a row unless one is already due no later, or is backing off after a failure (pulling it earlier would
   * defeat the backoff). Arms the alarm without awaiting. The cheap call for hot paths: one read, and a write only
   * when something changes.
   */
  ensure(kind: K, dueAt: number, key = ""): void {
    const id = `${kind}\u0000${key}`;
    if (this.askAgain(id, dueAt)) return;
    let held = this.booked.get(id);
    if (!held) {
      const row = this.get(kind, key);
      held = row ? { dueAt: row.dueAt, backingOff: row.attempt > 0 } : undefined;
    }
    if (held && (held.backingOff || held.dueAt <= dueAt)) {
      this.booked.set(id, held);
      this.armNoLaterThan(held.dueAt);
      return;
    }
    this.set(kind, dueAt, key);
    this.booked.set(id, { dueAt, backingOff: false });
    this.armNoLaterThan(dueAt);
  }

  /** If `id` is the row being run, remembers the earliest time it was asked for again; true if it was. */
  private askAgain(id: string, dueAt: number): boolean {
    if (this.current?.id !== id) return false;
    this.current.again = Math.min(this.current.again ?? dueAt, dueAt);
    return true;
  }

  /** Moves the alarm earlier if it would ring after `dueAt` (or is not set), without awaiting. */
  private armNoLaterThan(dueAt: number) {
    if (this.armedAt === undefined || this.armedAt === null || dueAt < this.armedAt) {
      this.armedAt = dueAt;
      void this.ctx.storage.setAlarm(alarmTime(dueAt));
    }
  }

  cancel(kind: K, key?: string): void {
    for (const id of this.booked.keys()) if (id.startsWith(`${kind}\u0000`) && (key === undefined || id === `${kind}\u0000${key}`)) this.booked.delete(id);
    if (key === undefined) this.sql.exec("DELETE FROM schedule WHERE kind = ?", kind);
    else this.sql.exec("DELETE FROM schedule WHERE kind = ? AND key = ?", kind, key);
  }

  clear(): void {
    this.booked.clear();
    this.sql.exec("DELETE FROM schedule");
  }

  /** Records a failure of (kind, key): one more attempt, due after the backoff for that many. Creates the row if needed. */
  failed(kind: K, key: string, now: number, err: unknown): ScheduleRow<K> {
    const attempt = (this.get(kind, key)?.attempt ?? 0) + 1;
    const dueAt = now + backoff(attempt, this.policy(kind));
    this.set(kind, dueAt, key, attempt);
    console.error(JSON.stringify({ msg: `${kind}${key ? `:${key}` : ""} failed`, object: this.label(), attempt, retryAt: iso(dueAt), error: String(err) }));
    return { kind, key, dueAt, attempt };
  }

  /**
   * Runs the due rows one at a time, then `after` (write-behind that runs on every tick), then re-arms the alarm.
   * Ticks never overlap: a command arriving while one awaits must not run the same rows again. A handler that
   * returns normally has its row deleted, unless it moved the row itself (e.g. to retry later on its own terms);
   * one that throws is retried with backoff.
   */
  tick(now: number, run: (row: ScheduleRow<K>) => Promise<void> | void, after?: () => Promise<void>): Promise<void> {
    const next = this.running.then(() => this.tickOnce(now, run, after));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Points the alarm at the earliest row, or clears it. */
  async arm(): Promise<void> {
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM schedule").one().at;
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== next) {
      await this.ctx.storage.setAlarm(alarmTime(next));
    }
    this.armedAt = next;
  }

  private async tickOnce(now: number, run: (row: ScheduleRow<K>) => Promise<void> | void, after?: () => Promise<void>) {
    // The alarm that brought us here is gone, and rows are about to run and go: until arm() runs, hot paths must not
    // trust either mirror.
    this.armedAt = undefined;
    this.booked.clear();
    for (let n = 0; n < ROWS_PER_TICK; n++) {
      const raw = this.sql.exec<Raw>("SELECT kind, key, due_at, attempt FROM schedule WHERE due_at <= ? ORDER BY due_at, kind, key LIMIT 1", now).toArray()[0];
      if (!raw) break;
      const due = row<K>(raw);
      const running = { id: `${due.kind}\u0000${due.key}`, again: null as number | null };
      this.current = running;
      try {
        await run(due);
        this.current = null;
        const still = this.get(due.kind, due.key);
        // Asked for again while it ran: not in this tick (a handler that re-asks every time would spin), but next;
        // and no later than asked if the handler moved its row further out. A cancelled row stays cancelled.
        const again = running.again === null ? null : Math.max(running.again, now + 1);
        if (still && still.dueAt === due.dueAt && still.attempt === due.attempt) {
          if (again !== null) this.set(due.kind, again, due.key, 0);
          else this.cancel(due.kind, due.key);
        } else if (still && again !== null && still.attempt === 0 && again < still.dueAt) this.set(due.kind, again, due.key);
      } catch (err) {
        this.current = null;
        this.failed(due.kind, due.key, now, err);
      }
    }
    try {
      if (after) await after();
    } finally {
      await this.arm();
    }
  }
}
