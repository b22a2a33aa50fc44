// SchedulerActor (the seed's Event Scheduler): the one object every schedule-changing operation passes through (create, reschedule, resume).
// It holds the authoritative set of windows and decides synchronously: the conflict check and the reservation
// happen with no await between them, so two ops racing each other are decided one after the other.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../../config";
import { schedulingWindows } from "../../db/instances";
import { readSettings, writeSettings } from "../../db/settings";
import type { WindowChange } from "../../domain/instance";
import type { EventInstance, EventState } from "../../domain/model";
import { detectConflicts, windowOf, type ScheduleConflict, type ScheduleWindow } from "../../domain/scheduling";
import { fail, type Result } from "../../lib/result";
import { HOUR_MS } from "../../domain/time";
import { migrate, type MigrationStep } from "../kit/migrate";
import type { Audit, EventView, Override, ScheduleSettings, SchedulerActorRpc, SchedulerWindow } from "../contracts";
import { eventActor } from "../stubs";


const SCHEMA: readonly MigrationStep[] = [
  `CREATE TABLE IF NOT EXISTS windows (event_id TEXT PRIMARY KEY, name TEXT, type TEXT NOT NULL, tier TEXT NOT NULL,
     start_time INTEGER NOT NULL, end_time INTEGER NOT NULL, state TEXT NOT NULL, revision INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`,
  // 2: majors that already ran now count for the gap rule, and a scheduler rebuilt from D1 by older code never loaded
  // them: rebuild once more (revision-guarded, so nothing newer is overwritten).
  "DELETE FROM meta WHERE k = 'initialized'",
];

export function conflictFailure(conflicts: ScheduleConflict[]) {
  const head = conflicts.length === 1 ? "This schedule breaks a scheduling rule" : `This schedule breaks ${conflicts.length} scheduling rules`;
  return fail(409, "schedule_conflict", `${head}: ${conflicts.map((c) => c.message).join(" ")} Send force: true with a reason to override.`, {
    conflicts,
  });
}

export class SchedulerActor extends DurableObject<Env> implements SchedulerActorRpc {
  private readonly sql: SqlStorage;
  private loaded = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, SCHEMA);
    this.sql = ctx.storage.sql;
  }

  // ---- settings --------------------------------------------------------------------------------------------------

  async settings(): Promise<ScheduleSettings> {
    await this.ensureLoaded();
    const stored = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'settings'").toArray()[0];
    const c = readConfig(this.env);
    const defaults = { maxConcurrent: c.maxConcurrent, maxConcurrentSameType: c.maxConcurrentSameType, majorGapHours: c.majorGapHours, maxWindowDays: c.maxWindowDays };
    return stored ? { ...defaults, ...JSON.parse(stored.v) } : defaults;
  }

  /** Ops change the rules at run time; D1 keeps a copy so a wiped calendar comes back with the same rules. */
  async updateSettings(patch: Partial<ScheduleSettings>, actor: string): Promise<ScheduleSettings> {
    // Decide and keep the new rules before awaiting D1, so two racing updates cannot lose one another's change.
    const next = { ...(await this.settings()), ...patch };
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('settings', ?)", JSON.stringify(next));
    await writeSettings(this.env.DB, next, actor, Date.now());
    return next;
  }

  // ---- decisions -------------------------------------------------------------------------------------------------

  /** The dry run: exactly the check a create makes, and nothing written. */
  async check(candidate: ScheduleWindow): Promise<ScheduleConflict[]> {
    await this.ensureLoaded();
    return this.conflictsFor(candidate, await this.settings());
  }

  async createEvent(instance: EventInstance, audit: Audit, override: Override): Promise<Result<EventView>> {
    const settings = await this.settings();
    const candidate = windowOf(instance);
    // From here to the reservation there is no await: this is what makes racing creates safe.
    const conflicts = this.conflictsFor(candidate, settings);
    if (conflicts.length && !override.force) return conflictFailure(conflicts);
    this.upsert({ ...candidate, state: "scheduled", revision: 0 });

    // A create that did not happen, refused or thrown, must not keep holding its slot.
    return this.held(
      instance.eventId,
      () => eventActor(this.env, instance.eventId).create(instance, withOverride(audit, override, conflicts)),
      () => this.sql.exec("DELETE FROM windows WHERE event_id = ? AND revision = 0", instance.eventId),
    );
  }

  async reschedule(eventId: string, change: WindowChange, audit: Audit, override: Override): Promise<Result<EventView>> {
    return this.moveWindow(eventId, change, audit, override, (settings, a) =>
      eventActor(this.env, eventId).reschedule(change, a, settings.maxWindowDays),
    );
  }

  async resume(eventId: string, endTime: number | undefined, audit: Audit, override: Override): Promise<Result<EventView>> {
    return this.moveWindow(eventId, { endTime }, audit, override, (settings, a) =>
      eventActor(this.env, eventId).command("resume", a, { endTime, maxWindowDays: settings.maxWindowDays }),
    );
  }

  /** Called by EventActors after every change of theirs; the revision guard drops late, out-of-order copies. */
  async syncWindow(w: SchedulerWindow): Promise<void> {
    await this.ensureLoaded();
    this.upsert(w);
  }

  async windows(): Promise<SchedulerWindow[]> {
    await this.ensureLoaded();
    return this.rows();
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private async moveWindow(
    eventId: string,
    change: WindowChange,
    audit: Audit,
    override: Override,
    run: (settings: ScheduleSettings, audit: Audit) => Promise<Result<EventView>>,
  ): Promise<Result<EventView>> {
    const settings = await this.settings();
    const before = this.rows().find((w) => w.eventId === eventId);
    if (!before || (change.startTime === undefined && change.endTime === undefined)) return this.held(eventId, () => run(settings, audit), () => undefined);
    const candidate = { ...before, start: change.startTime ?? before.start, end: change.endTime ?? before.end };
    const conflicts = this.conflictsFor(candidate, settings);
    if (conflicts.length && !override.force) return conflictFailure(conflicts);
    // Hold the new window while the event object applies it, so a racing request already sees it.
    this.upsert({ ...candidate, revision: before.revision }, true);
    // Undo only our own tentative write: if the event object synced meanwhile, or another change replaced it, keep that.
    const restore = () => {
      const now = this.rows().find((w) => w.eventId === eventId);
      if (now && now.revision === before.revision && now.start === candidate.start && now.end === candidate.end) this.upsert(before, true);
    };
    return this.held(eventId, () => run(settings, withOverride(audit, override, conflicts)), restore);
  }

  /**
   * Runs the event object's half of a change we are holding a window for: on success our copy is taken from its
   * answer; on a refusal or a throw, `undo` gives back what we held.
   */
  private async held(eventId: string, run: () => Promise<Result<EventView>>, undo: () => void): Promise<Result<EventView>> {
    let result: Result<EventView>;
    try {
      result = await run();
    } catch (err) {
      // The call failed, but the event object may have applied it before the answer was lost: ask it, and keep
      // whatever it really holds; undo only when it holds nothing (or cannot say).
      const view = await eventActor(this.env, eventId).get().catch(() => null);
      if (view) this.record(view);
      else undo();
      throw err;
    }
    if (result.ok) this.record(result.value);
    else undo();
    return result;
  }

  /**
   * The event object answers a change we asked for with its new state and revision; we take our copy from that
   * answer rather than have it call us back from inside our own call. It confirms later through its sink.
   */
  private record(view: EventView) {
    this.upsert({ ...windowOf(view.instance), state: view.instance.state, revision: view.revision });
  }

  private conflictsFor(candidate: ScheduleWindow, s: ScheduleSettings): ScheduleConflict[] {
    // Every stored window goes in: the rules themselves say which states count for which rule.
    return detectConflicts(candidate, this.rows(), {
      maxConcurrent: s.maxConcurrent,
      maxConcurrentSameType: s.maxConcurrentSameType,
      majorGapMs: s.majorGapHours * HOUR_MS,
    });
  }

  private rows(): SchedulerWindow[] {
    return this.sql
      .exec<Record<string, string | number>>("SELECT * FROM windows ORDER BY start_time, event_id")
      .toArray()
      .map((r) => ({
        eventId: r.event_id as string,
        name: (r.name as string) ?? undefined,
        type: r.type as ScheduleWindow["type"],
        tier: r.tier as ScheduleWindow["tier"],
        start: r.start_time as number,
        end: r.end_time as number,
        state: r.state as EventState,
        revision: r.revision as number,
      }));
  }

  private upsert(w: SchedulerWindow, force = false) {
    this.sql.exec(
      `INSERT INTO windows (event_id, name, type, tier, start_time, end_time, state, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_id) DO UPDATE SET name = excluded.name, type = excluded.type, tier = excluded.tier,
         start_time = excluded.start_time, end_time = excluded.end_time, state = excluded.state, revision = excluded.revision
       WHERE ? OR excluded.revision >= windows.revision`,
      w.eventId,
      w.name ?? null,
      w.type,
      w.tier,
      w.start,
      w.end,
      w.state,
      w.revision,
      force ? 1 : 0,
    );
  }

  /**
   * Storage can be empty after a wipe or a move to a new namespace. D1 holds every event's projection, so the
   * calendar rebuilds from it before deciding anything, and blocks other calls meanwhile so none decides on a
   * half-loaded calendar.
   */
  private async ensureLoaded() {
    if (this.loaded) return;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.loaded) return;
      if (!this.sql.exec("SELECT 1 FROM meta WHERE k = 'initialized'").toArray().length) {
        const [windows, settings] = await Promise.all([schedulingWindows(this.env.DB), readSettings(this.env.DB)]);
        this.ctx.storage.transactionSync(() => {
          for (const w of windows) this.upsert(w);
          if (settings) this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('settings', ?)", JSON.stringify(settings));
          this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('initialized', ?)", String(Date.now()));
        });
        if (windows.length) console.log(JSON.stringify({ msg: "calendar rebuilt from D1", windows: windows.length }));
      }
      this.loaded = true;
    });
  }
}

/** A forced decision is written into the audit log with who forced it, why, and which rules it overrode. */
function withOverride(audit: Audit, override: Override, conflicts: ScheduleConflict[]): Audit {
  if (!override.force || conflicts.length === 0) return audit;
  return {
    ...audit,
    reason: override.reason ?? audit.reason,
    details: { forced: true, overriddenRules: conflicts.map((c) => c.rule), conflicts },
  };
}
