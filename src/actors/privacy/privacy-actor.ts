// PrivacyActor: one Durable Object per player, named by their pseudonym (lib/pseudonym.ts), that answers privacy
// requests about them. An export gathers their rows from every source (sources.ts) and answers them at once. An erase
// is a job: its steps (locate, then each source in order) are rows of this object's SQLite, run one per tick of the
// kit's schedule, so a job survives eviction and restarts, and a failing step is retried with backoff where it
// stopped. Every step is idempotent, so a step repeated after a crash touches nothing twice. The player's raw id is
// kept only while a run is in progress; once it is done the job names only the pseudonym.
import { DurableObject } from "cloudflare:workers";
import { ownExportWait } from "../../domain/privacy";
import { MINUTE_MS, SECOND_MS, iso } from "../../domain/time";
import { privacySalt, pseudonym as pseudonymOf } from "../../lib/pseudonym";
import type { Audit, PlayerExport, PrivacyActorRpc, PrivacyJobView } from "../contracts";
import { migrate } from "../kit/migrate";
import { Schedule } from "../kit/schedule";
import { PRIVACY_SCHEMA } from "./schema";
import { SOURCES, locate, type Plan } from "./sources";

const STEPS = ["locate", ...SOURCES.map((s) => s.name)];
/** A failing step backs off 1 s, 2 s, 4 s… up to 5 min, its attempt count kept in the schedule table. */
const RETRY = { baseMs: SECOND_MS, maxMs: 5 * MINUTE_MS };

type JobRow = { player_id: string | null; state: "running" | "done"; run: number; requested_by: string; reason: string; requested_at: number; finished_at: number | null; plan: string | null };

export const jobIdOf = (pseudonym: string) => `erase_${pseudonym.replace(/^anon_/, "")}`;

export class PrivacyActor extends DurableObject<Env> implements PrivacyActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<"run">;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, PRIVACY_SCHEMA);
    this.schedule = new Schedule<"run">(ctx, () => RETRY);
  }

  async exportPlayer(playerId: string, audit: Audit): Promise<PlayerExport> {
    const now = Date.now();
    this.record(now, audit, "export");
    const ctx = { env: this.env, playerId, pseudonym: await this.pseudonym(playerId), plan: await locate(this.env, playerId) };
    const data: Record<string, unknown[]> = {};
    for (const source of SOURCES) Object.assign(data, await source.export(ctx));
    return { playerId, exportedAt: iso(now), data, empty: Object.values(data).every((rows) => rows.length === 0) };
  }

  async exportOwn(playerId: string): Promise<{ ok: true; export: PlayerExport } | { ok: false; retryAfterSec: number }> {
    // Checked and recorded (by exportPlayer, before its first await) with no await between, so two requests at once
    // cannot both pass.
    const last = this.sql.exec<{ at: number | null }>("SELECT max(at) AS at FROM audit WHERE action = 'export' AND actor = 'player'").one().at;
    const wait = ownExportWait(last, Date.now());
    if (wait > 0) return { ok: false, retryAfterSec: wait };
    return { ok: true, export: await this.exportPlayer(playerId, { actor: "player", reason: "requested by the player" }) };
  }

  async erase(playerId: string, audit: Audit): Promise<PrivacyJobView> {
    const now = Date.now();
    const job = this.jobRow();
    this.record(now, audit, "erase");
    if (job?.state !== "running") {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `INSERT INTO job (id, player_id, state, run, requested_by, reason, requested_at, finished_at, plan) VALUES (1, ?, 'running', 1, ?, ?, ?, NULL, NULL)
           ON CONFLICT (id) DO UPDATE SET player_id = excluded.player_id, state = 'running', run = job.run + 1, requested_by = excluded.requested_by,
             reason = excluded.reason, requested_at = excluded.requested_at, finished_at = NULL, plan = NULL`,
          playerId,
          audit.actor,
          audit.reason ?? "",
          now,
        );
        this.sql.exec("DELETE FROM steps");
        STEPS.forEach((step, ord) => this.sql.exec("INSERT INTO steps (ord, step, state) VALUES (?, ?, 'pending')", ord, step));
        this.schedule.set("run", now, "", 0);
      });
    }
    // The first step runs before the answer; the rest follow on the alarm, one step per tick.
    await this.settle(now);
    return (await this.job())!;
  }

  async job(): Promise<PrivacyJobView | null> {
    const job = this.jobRow();
    if (!job) return null;
    const attempt = this.schedule.get("run")?.attempt ?? 0;
    const steps = this.sql
      .exec<{ ord: number; step: string; state: "pending" | "done"; touched: string; error: string | null }>("SELECT * FROM steps ORDER BY ord")
      .toArray()
      .map((s) => ({ step: s.step, state: s.state, touched: JSON.parse(s.touched) as Record<string, number>, attempts: s.state === "pending" && s.error ? attempt : 0, error: s.error }));
    const touched: Record<string, number> = {};
    for (const s of steps) for (const [table, n] of Object.entries(s.touched)) touched[`${s.step}.${table}`] = n;
    const name = this.ctx.id.name ?? "";
    return {
      jobId: jobIdOf(name),
      pseudonym: name,
      state: job.state,
      run: job.run,
      requestedBy: job.requested_by,
      reason: job.reason,
      requestedAt: iso(job.requested_at),
      finishedAt: job.finished_at === null ? null : iso(job.finished_at),
      steps,
      touched,
      audit: this.sql
        .exec<{ at: number; actor: string; action: string; reason: string | null }>("SELECT at, actor, action, reason FROM audit ORDER BY seq")
        .toArray()
        .map((a) => ({ ...a, at: iso(a.at) })),
    };
  }

  override async alarm(): Promise<void> {
    await this.settle(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private settle(now: number): Promise<void> {
    return this.schedule.tick(now, () => this.step(now));
  }

  /** Runs the next pending step; books the one after it (not at `now`: the tick would take the row as done). */
  private async step(now: number): Promise<void> {
    const job = this.jobRow();
    const next = this.sql.exec<{ ord: number; step: string }>("SELECT ord, step FROM steps WHERE state = 'pending' ORDER BY ord LIMIT 1").toArray()[0];
    if (!job || job.state !== "running" || !job.player_id || !next) return;
    const playerId = job.player_id;
    let touched: Record<string, number> = {};
    try {
      if (next.step === "locate") {
        const plan = await locate(this.env, playerId, true);
        this.sql.exec("UPDATE job SET plan = ? WHERE id = 1", JSON.stringify(plan));
        touched = { events: plan.events.length, shards: plan.shards.length, boards: plan.boards.length, clans: plan.clans.length };
      } else {
        const source = SOURCES.find((s) => s.name === next.step)!;
        const plan = JSON.parse(job.plan ?? "null") as Plan;
        touched = await source.erase({ env: this.env, playerId, pseudonym: await this.pseudonym(playerId), plan });
      }
    } catch (err) {
      this.sql.exec("UPDATE steps SET error = ? WHERE ord = ?", String(err), next.ord);
      throw err;
    }
    const more = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM steps WHERE state = 'pending' AND ord > ?", next.ord).one().n > 0;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE steps SET state = 'done', touched = ?, error = NULL WHERE ord = ?", JSON.stringify(touched), next.ord);
      if (more) this.schedule.set("run", now + 1, "", 0);
      // Done: the raw id goes; the job names only the pseudonym.
      else this.sql.exec("UPDATE job SET state = 'done', finished_at = ?, player_id = NULL WHERE id = 1", now);
    });
  }

  private jobRow(): JobRow | null {
    return this.sql.exec<JobRow>("SELECT * FROM job WHERE id = 1").toArray()[0] ?? null;
  }

  private record(now: number, audit: Audit, action: string) {
    this.sql.exec("INSERT INTO audit (at, actor, action, reason) VALUES (?, ?, ?, ?)", now, audit.actor, action, audit.reason ?? null);
  }

  private pseudonym(playerId: string): Promise<string> {
    return pseudonymOf(privacySalt(this.env), playerId);
  }
}
