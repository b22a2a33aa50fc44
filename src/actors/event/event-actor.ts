// EventActor: one Durable Object per event instance, the single writer of its lifecycle.
// Its own SQLite holds the instance, the transition log and the kit's schedule table, whose earliest row the one
// alarm always points at: lifecycle timers, the notification timetable, and retries. Every decision is made in
// src/domain/event-manager.ts; this class loads, persists, and then emits to its sinks (the D1 projection, its
// progress shards, the scheduler's copy of its window), which are written behind its own storage.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../../config";
import { projectEvent } from "../../db/projection";
import { notificationPlanStatements } from "../../db/notifications";
import type { BackoffPolicy } from "../../domain/backoff";
import { decideActivation, decideCommand, decideReschedule, decideTimer, type Decision } from "../../domain/event-manager";
import type { WindowChange } from "../../domain/instance";
import { lifecycleTimers, type TimerKind, type TransitionRecord } from "../../domain/lifecycle";
import type { EventInstance } from "../../domain/model";
import type { EventInfo } from "../../domain/progress";
import { MINUTE_MS, SECOND_MS } from "../../domain/time";
import { logLine } from "../../lib/log";
import { fail, ok, type Result } from "../../lib/result";
import type { Audit, EventActorRpc, EventTiming, EventView, FinalSummary, OpsCommand, ProgressShardActorRpc } from "../contracts";
import { migrate } from "../kit/migrate";
import { Sinks } from "../kit/outbox";
import { Schedule, type ScheduleRow } from "../kit/schedule";
import { boardDirectory, progressShardActor, schedulerActor } from "../stubs";
import { EVENT_ACTOR_SCHEMA } from "./schema";
import { EventNotifications, type FiredType } from "./notifications";
import { eventInfo, schedulerWindow, type SinkName } from "./sinks";
import { finalizeClans, needsClanFinalize } from "./clans";
import { REPORT_AFTER_MS, needsReport, reportAtExpiry } from "./report";
import { anticheatDue, listFlags, ratePass } from "./anticheat";
import { fireWave, syncWaves } from "./waves";
import type { RatePassT, FlagViewT } from "../../domain/anticheat-views";
import type { ReviewState } from "../../domain/review";

/**
 * Schedule rows: lifecycle timers, the notification timetable ("notify", type), sink retries ("sink", name) and the
 * leaderboard's finalization, the clans' and the analytics report (src/actors/event/report.ts), each booked when the
 * event expires (by its timer or by end-now) and retried until done.
 */
type Kind = TimerKind | "notify" | "wave" | "sink" | "finalize" | "clans" | "report" | "anticheat";
const LIFECYCLE_KINDS: readonly TimerKind[] = ["activate", "expire", "archive"];
/** Notifications, auto-claims and sinks retry quickly at first, then every few minutes while something is down. */
const RETRY: BackoffPolicy = { baseMs: SECOND_MS, maxMs: 5 * MINUTE_MS };
/**
 * Boards are finalized this long after expiry. The shards' pushes are flushed before any board freezes, so this only
 * lets their own 250 ms pushes land first and keeps the end-now reply from waiting on every board.
 */
const FINALIZE_AFTER_MS = 2 * SECOND_MS;

export class EventActor extends DurableObject<Env> implements EventActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<Kind>;
  private readonly sinks: Sinks;
  private readonly notifications: EventNotifications;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, EVENT_ACTOR_SCHEMA);
    this.sql = ctx.storage.sql;
    // Activation backs off from its own configured base, without a cap: it gives up after a few tries instead.
    const activation = { baseMs: readConfig(env).activationRetryBaseMs, maxMs: Number.POSITIVE_INFINITY };
    this.schedule = new Schedule<Kind>(ctx, (kind) => (kind === "activate" ? activation : RETRY));
    this.sinks = new Sinks(ctx.storage, this.schedule);
    this.notifications = new EventNotifications(this.sql, this.schedule, env);
  }

  // ---- RPC surface -------------------------------------------------------------------------------------------

  async create(instance: EventInstance, audit: Audit): Promise<Result<EventView>> {
    const existing = this.load();
    if (existing) {
      // A retried create with the same id is the same request: answer it again instead of failing.
      return existing.instance.eventId === instance.eventId ? ok(this.view()!) : fail(409, "event_exists", "event id already in use");
    }
    const now = Date.now();
    this.ctx.storage.transactionSync(() => this.apply(null, { to: "scheduled", cause: "created", patch: instance }, now, audit));
    // "now" events activate in this call rather than one alarm round-trip later.
    await this.settle(now, { schedulerAsked: true });
    return ok(this.view()!);
  }

  async get(): Promise<EventView | null> {
    return this.view();
  }

  async command(cmd: OpsCommand, audit: Audit, opts: { endTime?: number; maxWindowDays?: number } = {}): Promise<Result<EventView>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    const now = Date.now();
    const decided = decideCommand(current.instance, cmd, now, { endTime: opts.endTime, maxWindowDays: opts.maxWindowDays ?? readConfig(this.env).maxWindowDays });
    if (!decided.ok) return decided;
    this.ctx.storage.transactionSync(() => this.apply(current.instance, decided.value, now, audit));
    // A resume comes through the scheduler (it may move the window); pause, cancel and end-now come from ops directly.
    await this.settle(now, { schedulerAsked: cmd === "resume" });
    return ok(this.view()!);
  }

  async reschedule(change: WindowChange, audit: Audit, maxWindowDays: number): Promise<Result<EventView>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    const now = Date.now();
    const decided = decideReschedule(current.instance, change, now, maxWindowDays);
    if (!decided.ok) return decided;
    this.ctx.storage.transactionSync(() => this.apply(current.instance, decided.value, now, audit));
    await this.settle(now, { schedulerAsked: true });
    return ok(this.view()!);
  }

  async timing(): Promise<EventTiming | null> {
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
    await this.settle(Date.now());
  }

  /**
   * Runs every schedule row that is due at `now`, then the sinks. Alarms are at-least-once and may arrive late, so
   * this is written to be re-run: a timer row only exists while its transition is still legal, and one late tick
   * can catch up several steps (an activation found past endTime expires in the same call).
   */
  async tick(now: number): Promise<void> {
    await this.settle(now);
  }

  // ---- what a due row does ---------------------------------------------------------------------------------------

  /**
   * `schedulerAsked`: the change was made by the scheduler's own call (create, reschedule, resume), which records
   * the window from our answer, so we do not call it back from inside that call. Its sink stays behind and the next
   * tick confirms it (revision-guarded); that only matters if the scheduler lost our answer.
   */
  private settle(now: number, opts: { schedulerAsked?: boolean } = {}): Promise<void> {
    return this.schedule.tick(now, (row) => this.run(row, now), () => this.flushSinks(now, opts.schedulerAsked ?? false));
  }

  private async run(row: ScheduleRow<Kind>, now: number): Promise<void> {
    const current = this.load();
    if (!current) return this.schedule.clear();
    const { instance } = current;
    switch (row.kind) {
      case "activate":
        return this.activate(instance, now);
      case "expire":
        return this.runTimer(instance, "expire", now);
      case "archive":
        // The grace period is over: every earned, unclaimed reward is claimed before the event may be archived.
        await this.acrossShards((s) => s.autoClaim());
        return this.runTimer(instance, "archive", now);
      case "notify": {
        const firing = await this.notifications.fire(row.key as FiredType, instance, this.shardNos(), now);
        if (firing) this.ctx.storage.transactionSync(() => this.notifications.recordFiring(firing, this.load()!.instance));
        return;
      }
      case "wave":
        return fireWave(this.env, this.sql, this.schedule, row.key, instance, this.shardNos(), now);
      case "sink":
        return this.flushSink(row.key as SinkName, now, true);
      case "finalize":
        await this.finalizeAll(instance, current.revision, "system");
        return;
      case "clans":
        // As for boards: every shard pushes the contributions it acknowledged first; while one cannot, the row retries.
        await this.acrossShards((s) => s.flushClans(eventInfo(instance, current.revision)));
        return finalizeClans(this.env, instance);
      case "report":
        return reportAtExpiry(this.env, instance, now, row.attempt);
      case "anticheat":
        await ratePass(this.env, instance, this.shardNos(), now);
        if (instance.state === "active") this.schedule.set("anticheat", now + readConfig(this.env).anticheat.intervalMs);
        return;
    }
  }

  async finalizeBoards(actor: string): Promise<Result<FinalSummary[]>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    if (!current.instance.leaderboard) return fail(404, "leaderboard_not_found", "this event has no leaderboard");
    const state = current.instance.state;
    // Finalizing a running event would freeze its boards while players still score: end it first (end-now).
    if (state !== "expired" && state !== "archived") return fail(409, "event_not_ended", `the event is ${state}; end it first (end-now), then finalize`, { state });
    try {
      return ok(await this.finalizeAll(current.instance, current.revision, actor));
    } catch (err) {
      return fail(409, "scores_in_flight", "a progress shard could not push the scores it owes yet; finalization retries on its own, or try again", { error: String(err).slice(0, 300) });
    }
  }

  /**
   * Every shard first pushes what it owes (and adopts the ended event, so it accepts nothing more); only then does the
   * directory freeze each board once. Any shard that cannot yet throws, and the "finalize" row retries with backoff:
   * acknowledged progress is never left out. Repeats change nothing (each board finalizes once).
   */
  private async finalizeAll(instance: EventInstance, revision: number, actor: string): Promise<FinalSummary[]> {
    const info = eventInfo(instance, revision);
    if (!info.board) return [];
    await this.acrossShards((s) => s.flushBoard(info));
    return boardDirectory(this.env, instance.eventId).finalizeAll(info.board, actor);
  }

  async ratePass(): Promise<Result<RatePassT>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    return ok(await ratePass(this.env, current.instance, this.shardNos(), Date.now()));
  }

  async flags(state: ReviewState | null, limit: number): Promise<Result<FlagViewT[]>> {
    const current = this.load();
    if (!current) return fail(404, "event_not_found", "no such event");
    return ok(await listFlags(this.env, current.instance.eventId, this.shardNos(), state, limit));
  }

  private activate(instance: EventInstance, now: number) {
    const decided = decideActivation(instance, readConfig(this.env).activationMaxRetries);
    if (!decided) return; // stale row: the state already moved on
    this.ctx.storage.transactionSync(() => {
      if (decided.retry) {
        this.save({ ...instance, ...decided.patch, updatedAt: now });
        this.schedule.failed("activate", "", now, decided.error);
      } else {
        this.apply(instance, decided, now, { actor: "system", reason: decided.to === "failed_activation" ? decided.patch.lastError : null });
      }
    });
  }

  private runTimer(instance: EventInstance, kind: "expire" | "archive", now: number) {
    const decided = decideTimer(instance, kind);
    if (decided) this.ctx.storage.transactionSync(() => this.apply(instance, decided, now, { actor: "system" }));
  }

  /** Runs one step on every attached shard; any failure throws, and the schedule reruns the whole (idempotent) step. */
  private async acrossShards(step: (shard: ProgressShardActorRpc) => Promise<unknown>) {
    const eventId = this.load()!.instance.eventId;
    const results = await Promise.allSettled(this.shardNos().map((n) => step(progressShardActor(this.env, eventId, n))));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  private shardNos(): number[] {
    return this.sql.exec<{ shard_no: number }>("SELECT shard_no FROM shards").toArray().map((r) => r.shard_no);
  }

  // ---- state changes ---------------------------------------------------------------------------------------------

  /** The one place state changes: new document, one transition row, recomputed timers. Call inside a transaction. */
  private apply(before: EventInstance | null, decided: Decision, now: number, audit: Audit) {
    const after = { ...before, ...decided.patch, state: decided.to, updatedAt: now } as EventInstance;
    this.save(after);
    this.logTransition(before?.state ?? null, after.state, now, decided.cause, audit);
    logLine("info", "lifecycle", "event state changed", { eventId: after.eventId, from: before?.state ?? null, to: after.state, cause: decided.cause, actor: audit.actor }, now);
    // Timers are recomputed from the new state, never patched, so a moved window leaves no stale row behind.
    const wanted = lifecycleTimers(after);
    for (const kind of LIFECYCLE_KINDS) {
      const at = wanted[kind];
      if (at === undefined) this.schedule.cancel(kind);
      else this.schedule.set(kind, at);
    }
    this.notifications.sync(after, now);
    syncWaves(this.sql, this.schedule, after, now);
    if (after.leaderboard && after.state === "expired" && before?.state !== "expired") this.schedule.set("finalize", now + FINALIZE_AFTER_MS);
    if (needsClanFinalize(before, after)) this.schedule.set("clans", now + FINALIZE_AFTER_MS);
    if (needsReport(before, after)) this.schedule.set("report", now + REPORT_AFTER_MS);
    const pass = anticheatDue(before, after, now, readConfig(this.env).anticheat.intervalMs, this.shardNos().length > 0);
    if (pass !== null) this.schedule.set("anticheat", pass);
    else if (after.state !== "active") this.schedule.cancel("anticheat");
  }

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

  private logTransition(from: string | null, to: string, at: number, cause: string, audit: Audit) {
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

  // ---- sinks -----------------------------------------------------------------------------------------------------

  private async flushSinks(now: number, schedulerAsked: boolean) {
    await this.flushSink("project", now);
    await this.flushSink("shards", now);
    if (!schedulerAsked) await this.flushSink("scheduler", now);
  }

  /** Pushes the current revision to one sink if it is behind; `force` is the sink's own retry row running. */
  private async flushSink(name: SinkName, now: number, force = false) {
    const loaded = this.load();
    if (!loaded) return;
    const { instance, revision } = loaded;
    await this.sinks.flush(name, revision, now, async (lastSeq) => {
      switch (name) {
        case "project": {
          const pending = this.transitions(lastSeq);
          await projectEvent(this.env.DB, instance, revision, pending, notificationPlanStatements(this.env.DB, this.notifications.planRows(instance, now)));
          return pending.length ? pending[pending.length - 1].seq : lastSeq;
        }
        case "shards":
          // Every push is revision-guarded, so retrying all of them after one failure is harmless.
          await this.acrossShards((s) => s.syncEvent(eventInfo(instance, revision)));
          return lastSeq;
        case "scheduler":
          await schedulerActor(this.env).syncWindow(schedulerWindow(instance, revision));
          return lastSeq;
      }
    }, force);
  }
}
