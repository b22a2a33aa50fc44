// EventActor: one Durable Object per event instance, the single writer of its lifecycle.
// Its own SQLite holds the instance, the transition log and a schedule table; the one alarm always points at the
// earliest pending schedule row. D1 is a projection written behind that storage and retried until it lands.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../../config";
import { projectEvent } from "../../db/projection";
import {
  TIMER_ACTION,
  activationRetry,
  allowedActions,
  lifecycleTimers,
  transition,
  type LifecycleAction,
  type TimerKind,
  type TransitionRecord,
} from "../../domain/lifecycle";
import { EventInstance, type EventState } from "../../domain/model";
import { fail, invalid, ok, type Result } from "../../lib/result";
import { rescheduleProblems, type InstanceProblem, type WindowChange } from "../../domain/instance";
import { schedulerActor, progressShardActor } from "../stubs";
import type { Audit, EventActorRpc, EventView, OpsCommand, ProgressShardActorRpc } from "../contracts";
import { EventNotifications, NOTIFY_PREFIX, type FiredType } from "./notifications";
import { notificationPlanStatements } from "../../db/notifications";
import type { EventInfo } from "../../domain/progress";
import { MAX_SINK_BACKOFF_MS, SINK_NAMES, calendarWindow, eventInfo, flushSink, type SinkName } from "./sinks";





/**
 * Besides lifecycle timers, schedule rows retry a sink (D1 projection, calendar window, shard push) that failed,
 * and carry the notification timetable ("notify:<type>").
 */
type ScheduleKind = TimerKind | SinkName | `${typeof NOTIFY_PREFIX}${FiredType}`;
const SINKS: readonly string[] = SINK_NAMES;
const LIFECYCLE_KINDS: readonly TimerKind[] = ["activate", "expire", "archive"];
const CAUSES: Record<LifecycleAction, string> = {
  activate: "start_time_reached",
  expire: "end_time_reached",
  archive: "grace_period_elapsed",
  pause: "ops_pause",
  resume: "ops_resume",
  cancel: "ops_cancel",
  end_now: "ops_end_now",
  fail_activation: "activation_failed",
  retry_activation: "ops_retry_activation",
};

export class EventActor extends DurableObject<Env> implements EventActorRpc {
  private readonly sql: SqlStorage;
  private readonly notes: EventNotifications;
  private ticking: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS doc (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, revision INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, from_state TEXT, to_state TEXT NOT NULL, at INTEGER NOT NULL,
        cause TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, details TEXT);
      CREATE TABLE IF NOT EXISTS schedule (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempt INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS shards (shard_no INTEGER PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS sinks (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, last_seq INTEGER NOT NULL,
        failures INTEGER NOT NULL);
    `);
    this.notes = new EventNotifications(this.sql, env);
  }

  // ---- RPC surface -------------------------------------------------------------------------------------------

  async create(instance: EventInstance, audit: Audit): Promise<Result<EventView>> {
    const existing = this.load();
    if (existing) {
      // A retried create with the same id is the same request: answer it again instead of failing.
      return existing.instance.eventId === instance.eventId ? ok(this.view()!) : fail(409, "event_exists", "event id already in use");
    }
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.save({ ...instance, state: "scheduled", updatedAt: now });
      this.logTransition(null, "scheduled", now, "created", audit);
      this.syncLifecycleTimers();
      this.notes.sync(this.load()!.instance, now);
    });
    // "now" events activate in this call rather than one alarm round-trip later.
    await this.tick(now);
    return ok(this.view()!);
  }

  async get(): Promise<EventView | null> {
    return this.view();
  }

  async command(cmd: OpsCommand, audit: Audit, opts: { endTime?: number; maxWindowDays?: number } = {}): Promise<Result<EventView>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    const now = Date.now();
    const step = transition(current.instance.state, cmd);
    if (!step.ok) return fail(409, "illegal_transition", step.message, { state: step.from, allowed: allowedActions(step.from) });
    if (opts.endTime !== undefined) {
      const problems = rescheduleProblems(current.instance, { endTime: opts.endTime }, now, opts.maxWindowDays ?? readConfig(this.env).maxWindowDays);
      if (problems.length) return invalid(problems);
    }
    const patch: Partial<EventInstance> = {};
    if (cmd === "end_now") patch.endTime = now;
    if (cmd === "resume" && opts.endTime !== undefined) patch.endTime = opts.endTime;
    // A past startTime makes the activate timer due at once, which is what a retry wants.
    if (cmd === "retry_activation") Object.assign(patch, { activationAttempts: 0, lastError: null });
    this.ctx.storage.transactionSync(() => this.apply(current.instance, step.to, now, CAUSES[cmd], audit, patch));
    await this.tick(now);
    return ok(this.view()!);
  }

  /** Moves the window without changing state; audited like a transition (from = to). */
  async reschedule(change: WindowChange, audit: Audit, maxWindowDays: number): Promise<Result<EventView>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    const now = Date.now();
    const { state } = current.instance;
    const problems = rescheduleProblems(current.instance, change, now, maxWindowDays);
    if (problems.length) return problems[0].path.length === 0 ? fail(409, "illegal_transition", problems[0].message, { state }) : invalid(problems);
    const patch: Partial<EventInstance> = {};
    if (change.startTime !== undefined) patch.startTime = change.startTime;
    if (change.endTime !== undefined) patch.endTime = change.endTime;
    if (change.endTime !== undefined && state === "scheduled") patch.scheduledEndTime = change.endTime;
    this.ctx.storage.transactionSync(() => this.apply(current.instance, state, now, "ops_reschedule", audit, patch));
    await this.tick(now);
    return ok(this.view()!);
  }

  /** The cheap read behind the countdown route and shard routing: no transition log, no mechanics. */
  async timing(): Promise<Pick<EventInstance, "eventId" | "state" | "startTime" | "endTime" | "shardCount"> | null> {
    const i = this.load()?.instance;
    return i ? { eventId: i.eventId, state: i.state, startTime: i.startTime, endTime: i.endTime, shardCount: i.shardCount } : null;
  }

  /**
   * A progress shard introduces itself on first use and gets the event's current info. From then on it is pushed
   * every change (the "shards" sink), so only shards that players actually reached are ever woken.
   */
  async attachShard(shardNo: number): Promise<EventInfo | null> {
    const loaded = this.load();
    if (!loaded || !Number.isInteger(shardNo) || shardNo < 0 || shardNo >= loaded.instance.shardCount) return null;
    this.sql.exec("INSERT OR IGNORE INTO shards (shard_no) VALUES (?)", shardNo);
    return eventInfo(loaded.instance, loaded.revision);
  }

  override async alarm(): Promise<void> {
    await this.tick(Date.now());
  }

  /**
   * Runs every schedule row that is due at `now`, then re-arms the alarm. Alarms are at-least-once and may
   * arrive late, so this is written to be re-run: a timer row only exists while its transition is still legal,
   * and one late tick can catch up several steps (an activation found past endTime expires in the same call).
   */
  async tick(now: number): Promise<void> {
    // One tick at a time: a command arriving while a tick awaits a shard or D1 must not run the same due rows again
    // (a notification would fire twice) or race the sinks' marks.
    const run = this.ticking.then(() => this.tickOnce(now));
    this.ticking = run.catch(() => undefined);
    return run;
  }

  private async tickOnce(now: number): Promise<void> {
    for (let guard = 0; guard < 10; guard++) {
      const due = this.sql
        .exec<{ kind: ScheduleKind; attempt: number }>("SELECT kind, attempt FROM schedule WHERE due_at <= ? ORDER BY due_at, kind LIMIT 1", now)
        .toArray()[0];
      if (!due) break;
      if (SINKS.includes(due.kind)) {
        this.sql.exec("DELETE FROM schedule WHERE kind = ?", due.kind);
        continue; // the sinks below run once per tick anyway
      }
      const current = this.load();
      if (!current) {
        this.sql.exec("DELETE FROM schedule");
        break;
      }
      if (due.kind === "activate") this.activate(current.instance, now, due.attempt);
      else if (due.kind.startsWith(NOTIFY_PREFIX)) await this.notify(due.kind, due.attempt, current.instance, now);
      else if (due.kind === "archive") {
        // The grace period is over: every earned, unclaimed reward is claimed before the event may be archived.
        if (await this.acrossShards(due.kind, due.attempt, now, (s) => s.autoClaim())) this.runTimer(current.instance, "archive", now);
      } else this.runTimer(current.instance, due.kind as TimerKind, now);
    }
    await this.flushSinks(now);
    await this.armAlarm();
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------------

  private activate(instance: EventInstance, now: number, previousAttempts: number) {
    try {
      this.prepareActivation(instance);
    } catch (err) {
      const attempt = previousAttempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      console.error(JSON.stringify({ msg: "event activation failed", eventId: instance.eventId, attempt, error: message }));
      const { activationMaxRetries, activationRetryBaseMs } = readConfig(this.env);
      const next = activationRetry(attempt, now, activationMaxRetries, activationRetryBaseMs);
      this.ctx.storage.transactionSync(() => {
        if ("retryAt" in next) {
          this.save({ ...instance, activationAttempts: attempt, lastError: message, updatedAt: now });
          this.sql.exec("UPDATE schedule SET due_at = ?, attempt = ? WHERE kind = 'activate'", next.retryAt, attempt);
        } else {
          this.apply(instance, "failed_activation", now, CAUSES.fail_activation, { actor: "system", reason: message }, {
            activationAttempts: attempt,
            lastError: message,
          });
        }
      });
      return;
    }
    this.ctx.storage.transactionSync(() =>
      this.apply(instance, "active", now, CAUSES.activate, { actor: "system" }, { activationAttempts: previousAttempts + 1, lastError: null }),
    );
  }

  /**
   * Everything that must hold before players may see the event. The seed's "event data corruption" case lands
   * here: a stored instance that no longer parses is refused, retried, and finally parked as failed_activation.
   */
  private prepareActivation(instance: EventInstance) {
    const parsed = EventInstance.safeParse(instance);
    if (!parsed.success) throw new Error(`instance data is invalid: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  }

  /**
   * Runs one step on every attached shard. On failure the row is pushed back with backoff and the whole step reruns
   * later, which each shard makes idempotent.
   */
  private async acrossShards(kind: ScheduleKind, attempt: number, now: number, step: (shard: ProgressShardActorRpc) => Promise<unknown>) {
    const eventId = this.load()!.instance.eventId;
    const results = await Promise.allSettled(this.shardNos().map((n) => step(progressShardActor(this.env, eventId, n))));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) this.retryLater(kind, attempt, now, failed.reason);
    return !failed;
  }

  private async notify(kind: ScheduleKind, attempt: number, instance: EventInstance, now: number) {
    try {
      await this.notes.fire(kind.slice(NOTIFY_PREFIX.length) as FiredType, instance, this.shardNos(), now);
      this.sql.exec("DELETE FROM schedule WHERE kind = ?", kind);
    } catch (err) {
      this.retryLater(kind, attempt, now, err);
    }
  }

  private retryLater(kind: ScheduleKind, attempt: number, now: number, err: unknown) {
    console.error(JSON.stringify({ msg: `${kind} failed`, eventId: this.load()?.instance.eventId, attempt: attempt + 1, error: String(err) }));
    this.sql.exec("UPDATE schedule SET due_at = ?, attempt = ? WHERE kind = ?", now + Math.min(1000 * 2 ** attempt, MAX_SINK_BACKOFF_MS), attempt + 1, kind);
  }

  private shardNos(): number[] {
    return this.sql.exec<{ shard_no: number }>("SELECT shard_no FROM shards").toArray().map((r) => r.shard_no);
  }

  private runTimer(instance: EventInstance, kind: TimerKind, now: number) {
    const step = transition(instance.state, TIMER_ACTION[kind]);
    this.ctx.storage.transactionSync(() => {
      if (step.ok) this.apply(instance, step.to, now, CAUSES[TIMER_ACTION[kind]], { actor: "system" });
      else this.sql.exec("DELETE FROM schedule WHERE kind = ?", kind); // stale row: the state already moved on
    });
  }

  /** The one place state changes: new document, one transition row, recomputed timers. Call inside a transaction. */
  private apply(instance: EventInstance, to: EventState, now: number, cause: string, audit: Audit, patch: Partial<EventInstance> = {}) {
    this.save({ ...instance, ...patch, state: to, updatedAt: now });
    this.logTransition(instance.state, to, now, cause, audit);
    this.syncLifecycleTimers();
    this.notes.sync(this.load()!.instance, now);
  }

  private syncLifecycleTimers() {
    const instance = this.load()!.instance;
    const wanted = lifecycleTimers(instance);
    for (const kind of LIFECYCLE_KINDS) {
      const at = wanted[kind];
      if (at === undefined) this.sql.exec("DELETE FROM schedule WHERE kind = ?", kind);
      else
        this.sql.exec(
          "INSERT INTO schedule (kind, due_at, attempt) VALUES (?, ?, 0) ON CONFLICT (kind) DO UPDATE SET due_at = excluded.due_at",
          kind,
          at,
        );
    }
  }

  // ---- storage -------------------------------------------------------------------------------------------------

  private load(): { instance: EventInstance; revision: number } | null {
    const row = this.sql.exec<{ json: string; revision: number }>("SELECT json, revision FROM doc WHERE id = 1").toArray()[0];
    return row ? { instance: JSON.parse(row.json), revision: row.revision } : null;
  }

  private save(instance: EventInstance) {
    this.sql.exec(
      "INSERT INTO doc (id, json, revision) VALUES (1, ?, 1) ON CONFLICT (id) DO UPDATE SET json = excluded.json, revision = doc.revision + 1",
      JSON.stringify(instance),
    );
  }

  private logTransition(from: EventState | null, to: EventState, at: number, cause: string, audit: Audit) {
    this.sql.exec(
      "INSERT INTO transitions (from_state, to_state, at, cause, actor, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
      from,
      to,
      at,
      cause,
      audit.actor,
      audit.reason ?? null,
      audit.details ? JSON.stringify(audit.details) : null,
    );
  }

  private transitions(afterSeq = 0): TransitionRecord[] {
    return this.sql
      .exec<Record<string, string | number | null>>(
        "SELECT seq, from_state, to_state, at, cause, actor, reason, details FROM transitions WHERE seq > ? ORDER BY seq",
        afterSeq,
      )
      .toArray()
      .map((r) => ({
        seq: r.seq as number,
        fromState: r.from_state as string | null,
        toState: r.to_state as string,
        at: r.at as number,
        cause: r.cause as string,
        actor: r.actor as string,
        reason: r.reason as string | null,
        details: r.details === null ? null : JSON.parse(r.details as string),
      }));
  }

  private view(): EventView | null {
    const loaded = this.load();
    return loaded ? { instance: loaded.instance, revision: loaded.revision, transitions: this.transitions() } : null;
  }

  // ---- sinks: D1 projection and the calendar's copy of our window ------------------------------------------------

  /**
   * Pushes the current revision to each sink that is behind. Both sinks are idempotent (revision-guarded), so
   * a retry after a half-failed flush is harmless. A sink that fails keeps its mark and gets a backoff timer;
   * the state change itself is already durable in this object, so nothing is lost, only delayed.
   */
  private async flushSinks(now: number) {
    const loaded = this.load();
    if (!loaded) return;
    await flushSink(this.sql, "project", loaded.revision, now, async (lastSeq) => {
      const pending = this.transitions(lastSeq);
      await projectEvent(this.env.DB, loaded.instance, loaded.revision, pending, notificationPlanStatements(this.env.DB, this.notes.planRows(loaded.instance, now)));
      return pending.length ? pending[pending.length - 1].seq : lastSeq;
    });
    await flushSink(this.sql, "shards", loaded.revision, now, async (lastSeq) => {
      const info = eventInfo(loaded.instance, loaded.revision);
      const results = await Promise.allSettled(this.shardNos().map((n) => progressShardActor(this.env, info.eventId, n).syncEvent(info)));
      const failed = results.find((r) => r.status === "rejected");
      // Every push is revision-guarded, so retrying all of them after one failure is harmless.
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return lastSeq;
    });
    await flushSink(this.sql, "calendar", loaded.revision, now, async (lastSeq) => {
      await schedulerActor(this.env).syncWindow(calendarWindow(loaded.instance, loaded.revision));
      return lastSeq;
    });
  }

  private async armAlarm() {
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM schedule").one().at;
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== next) {
      await this.ctx.storage.setAlarm(next);
    }
  }
}
