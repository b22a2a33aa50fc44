// SeriesActor: one Durable Object per recurring series, named by its id. It owns the series' plan (domain/series.ts)
// and the record of every occurrence it decided, and keeps the next `horizonDays` of occurrences materialized as
// ordinary events (materialize.ts) from a "materialize" row on the kit's schedule; what D1 owes goes through the
// outbox on a "flush" row. Edits and pause/resume/end apply at once and re-materialize in the same call.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../../config";
import { occurrenceStatements, seriesStatements, type OccurrenceRow as D1OccurrenceRow, type SeriesRow } from "../../db/series";
import { applyEdit, type ConflictPolicy, type SeriesEdit, type SeriesPlan } from "../../domain/series";
import { DAY_MS, MINUTE_MS, SECOND_MS } from "../../domain/time";
import { parseLocal } from "../../domain/zoned";
import { fail, ok, type Result } from "../../lib/result";
import type { Audit, OccurrencePage, OccurrenceRecord, SeriesActorRpc, SeriesCommand, SeriesCreate, SeriesStatus, SeriesView } from "../contracts";
import { migrate } from "../kit/migrate";
import { Outbox } from "../kit/outbox";
import { Schedule } from "../kit/schedule";
import { materialize, type OccurrenceRow, type SeriesStore } from "./materialize";
import { afterEdit, d1Segments, type RuleHistory } from "./rule-history";
import { cancelledOutside, heldOut, learnsStill, ownCancels, type Cancelled } from "./outside";
import { SERIES_SCHEMA } from "./schema";

type Kind = "materialize" | "flush";
/** How long an occurrence that is over stays in the object (and in GET); far past the 7-day look-back of a pass. */
export const OCCURRENCE_RETENTION_DAYS = 90;
const RETRY = { baseMs: SECOND_MS, maxMs: 5 * MINUTE_MS };

type SeriesRowSql = {
  series_id: string;
  template_id: string;
  plan: string;
  on_conflict: ConflictPolicy;
  status: SeriesStatus;
  horizon_days: number;
  sequence: number;
  revision: number;
  created_at: number;
  updated_at: number;
  rule_history: string;
  rules_since: number | null;
};
type OccRowSql = {
  key: string;
  gen: number;
  event_id: string | null;
  status: OccurrenceRow["status"];
  want_start: number;
  want_end: number;
  start_time: number;
  end_time: number;
  shifted_from: number | null;
  reason: string | null;
  updated_at: number;
  revision: number;
  original_start: number | null;
  seq_base: number;
};

export class SeriesActor extends DurableObject<Env> implements SeriesActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<Kind>;
  private readonly outbox: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, SERIES_SCHEMA);
    this.schedule = new Schedule<Kind>(ctx, () => RETRY);
    this.outbox = new Outbox(ctx.storage);
  }

  async create(input: SeriesCreate, audit: Audit): Promise<Result<SeriesView>> {
    const existing = this.row();
    // A retried create (same id through the Idempotency-Key) answers the series it made.
    if (existing) return existing.template_id === input.templateId ? ok(this.view()!) : fail(409, "series_exists", "series id already in use");
    const now = Date.now();
    const plan: SeriesPlan = { segments: [{ ...input.rule, fromMs: null }], overrides: {} };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO series (id, series_id, template_id, plan, on_conflict, status, horizon_days, sequence, revision, created_at, updated_at, created_by)
         VALUES (1, ?, ?, ?, ?, 'active', ?, 0, 0, ?, ?, ?)`,
        this.ctx.id.name ?? "",
        input.templateId,
        JSON.stringify(plan),
        input.onConflict,
        input.horizonDays,
        now,
        now,
        audit.actor,
      );
      this.audit(now, audit, "create", input);
      this.queueSeries();
      this.schedule.set("materialize", now, "", 0);
    });
    await this.settle(now);
    return ok(this.view()!);
  }

  async get(page?: OccurrencePage): Promise<(SeriesView & { next: { start: number; key: string } | null }) | null> {
    const view = this.view(page);
    if (!view) return null;
    if (!page || view.occurrences.length <= page.limit) return { ...view, next: null };
    const last = view.occurrences[page.limit - 1];
    const original = this.sql.exec<{ o: number }>("SELECT page_start AS o FROM occurrences WHERE key = ?", last.key).one().o as number;
    return { ...view, occurrences: view.occurrences.slice(0, page.limit), next: { start: original, key: last.key } };
  }

  async edit(edit: SeriesEdit, audit: Audit): Promise<Result<SeriesView>> {
    const s = this.row();
    if (!s) return fail(404, "series_not_found", "no such series");
    if (s.status === "ended") return fail(409, "series_ended", "the series has ended; it cannot be edited");
    const now = Date.now();
    if (edit.scope !== "all" && edit.occurrence) {
      const occ = this.occurrences().get(parseLocal(edit.occurrence) ?? edit.occurrence);
      if (occ && occ.eventId && occ.start <= now && occ.status !== "cancelled" && occ.status !== "skipped") {
        return fail(409, "occurrence_started", `occurrence ${occ.key} has started (event ${occ.eventId}); edit that event instead`);
      }
    }
    const before = JSON.parse(s.plan) as SeriesPlan;
    const applied = applyEdit(before, edit, readConfig(this.env).maxWindowDays, now);
    if (!applied.ok) return fail(422, "validation_failed", applied.problems.map((p) => `${p.path} ${p.message}`).join("; "), { fields: applied.problems });
    const history = afterEdit(ruleHistory(s), before, edit, now);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE series SET plan = ?, rule_history = ?, rules_since = ?, sequence = sequence + 1, revision = revision + 1, updated_at = ? WHERE id = 1",
        JSON.stringify(applied.plan),
        JSON.stringify(history.rules),
        history.since,
        now,
      );
      this.audit(now, audit, `edit:${edit.scope}`, edit);
      this.queueSeries();
      this.schedule.set("materialize", now, "", 0);
    });
    await this.settle(now);
    return ok(this.view()!);
  }

  async command(cmd: SeriesCommand, audit: Audit): Promise<Result<SeriesView>> {
    const s = this.row();
    if (!s) return fail(404, "series_not_found", "no such series");
    if (s.status === "ended") return fail(409, "series_ended", "the series has ended");
    const to: SeriesStatus = cmd === "pause" ? "paused" : cmd === "resume" ? "active" : "ended";
    if (cmd === "pause" && s.status !== "active") return fail(409, "series_not_active", "only an active series can be paused");
    if (cmd === "resume" && s.status !== "paused") return fail(409, "series_not_paused", "only a paused series can be resumed");
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE series SET status = ?, sequence = sequence + 1, revision = revision + 1, updated_at = ? WHERE id = 1", to, now);
      this.audit(now, audit, cmd, null);
      this.queueSeries();
      // Pausing and ending run one last pass too: it cancels the occurrences not yet started (running ones stay).
      this.schedule.set("materialize", now, "", 0);
    });
    await this.settle(now);
    return ok(this.view()!);
  }

  /**
   * The admin cancel route's word: recorded at once, and D1 follows on the flush the alarm runs. It never waits on a
   * pass (one may be running 50 scheduler calls, or be due): the operator's cancel has happened already.
   */
  async eventCancelled(eventId: string, revision: number, audit: Audit): Promise<void> {
    this.learn(new Map([[eventId, revision]]), Date.now(), audit);
  }

  async tick(now: number): Promise<void> {
    await this.settle(now);
  }

  override async alarm(): Promise<void> {
    await this.settle(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private settle(now: number): Promise<void> {
    return this.schedule.tick(now, (row) => this.run(row.kind, now));
  }

  private async run(kind: Kind, now: number): Promise<void> {
    if (kind === "flush") {
      await this.outbox.flush(this.env.DB, [this.outbox.source<SeriesRow>("series", seriesStatements), this.outbox.source<D1OccurrenceRow>("occ", occurrenceStatements)]);
      return;
    }
    const s0 = this.row();
    if (!s0) return;
    // Events ops cancelled directly since the last pass: recorded and held out before the pass decides anything (one
    // whose event cannot be read now stays live, and the next pass asks again: ownCancels).
    const outside = await cancelledOutside(this.env.DB, this.occurrences().values(), s0.series_id);
    const own = outside.size ? await ownCancels(this.env, outside, `series:${s0.series_id}`) : undefined;
    this.learn(outside, now, { actor: "ops (event state read from D1)", reason: null }, own);
    const s = this.row()!;
    const store: SeriesStore = {
      seriesId: s.series_id,
      templateId: s.template_id,
      plan: JSON.parse(s.plan) as SeriesPlan,
      onConflict: s.on_conflict,
      active: s.status === "active",
      horizonDays: s.horizon_days,
      rows: () => this.occurrences(),
      save: (row) => this.save(row, now),
      stale: () => this.row()?.revision !== s.revision,
    };
    const next = await materialize(this.env, store, now, { actor: `series:${s.series_id}`, reason: null });
    // The object keeps what GET lists bounded: occurrences over for OCCURRENCE_RETENTION_DAYS go (D1 keeps the history).
    this.sql.exec("DELETE FROM occurrences WHERE end_time < ? AND status != 'pending'", now - OCCURRENCE_RETENTION_DAYS * DAY_MS);
    // Paused or ended, the series still learns cancels of the occurrences it lists live (outside.ts learnsStill).
    const again = Number.isFinite(next) ? next : learnsStill(this.occurrences().values(), now) ? now + DAY_MS : Infinity;
    if (Number.isFinite(again)) this.schedule.set("materialize", Math.max(again, now + 1), "", 0);
    this.schedule.ensure("flush", now);
  }

  /** Records the occurrences whose events ops cancelled as cancelled by them (outside.ts); a running pass starts over. */
  private learn(cancelled: Cancelled, now: number, audit: Audit, own?: Map<string, string>) {
    if (cancelled.size === 0) return;
    const learnt = this.ctx.storage.transactionSync(() => {
      const rows = heldOut(this.occurrences().values(), cancelled, own);
      if (rows.length === 0) return false;
      for (const row of rows) this.save(row, now);
      this.sql.exec("UPDATE series SET revision = revision + 1, updated_at = ? WHERE id = 1", now);
      // The series' own lost cancels are its own in the audit too, not the operator's the rest are.
      const mine = rows.filter((r) => own?.has(r.eventId!));
      const theirs = rows.filter((r) => !own?.has(r.eventId!));
      if (theirs.length) this.audit(now, audit, "event-cancelled", { events: theirs.map((r) => r.eventId) });
      if (mine.length) this.audit(now, { actor: `series:${this.row()!.series_id}`, reason: null }, "event-cancelled", { events: mine.map((r) => r.eventId), lostRecord: true });
      this.queueSeries();
      return true;
    });
    if (learnt) this.schedule.ensure("flush", now);
  }

  private save(row: OccurrenceRow, now: number) {
    const revision = (this.sql.exec<{ r: number }>("SELECT COALESCE(MAX(revision), -1) + 1 AS r FROM occurrences WHERE key = ?", row.key).one().r as number) ?? 0;
    this.sql.exec(
      `INSERT INTO occurrences (key, gen, event_id, status, want_start, want_end, start_time, end_time, shifted_from, reason, updated_at, revision, original_start, seq_base, page_start)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET gen = excluded.gen, event_id = excluded.event_id, status = excluded.status, want_start = excluded.want_start,
         want_end = excluded.want_end, start_time = excluded.start_time, end_time = excluded.end_time, shifted_from = excluded.shifted_from,
         reason = excluded.reason, updated_at = excluded.updated_at, revision = excluded.revision, original_start = excluded.original_start, seq_base = excluded.seq_base`,
      row.key,
      row.gen,
      row.eventId,
      row.status,
      row.wantStart,
      row.wantEnd,
      row.start,
      row.end,
      row.shiftedFrom,
      row.reason,
      now,
      revision,
      row.original,
      row.seqBase,
      // page_start: set here once, never in the update above (GET's paging key)
      row.original,
    );
    if (row.status !== "pending") {
      const d1: D1OccurrenceRow = { ...record(row, now), seriesId: this.ctx.id.name ?? "", revision, originalStart: row.original, seqBase: row.seqBase };
      this.outbox.put("occ", row.key, d1);
    }
  }

  private queueSeries() {
    const s = this.row()!;
    const plan = JSON.parse(s.plan) as SeriesPlan;
    const { fromMs: _from, ...rule } = plan.segments[plan.segments.length - 1];
    const row: SeriesRow = {
      seriesId: s.series_id,
      templateId: s.template_id,
      rule,
      segments: d1Segments(ruleHistory(s), plan),
      onConflict: s.on_conflict,
      status: s.status,
      sequence: s.sequence,
      createdAt: s.created_at,
      updatedAt: s.updated_at,
      revision: s.revision,
    };
    this.outbox.put("series", s.series_id, row);
  }

  private audit(at: number, audit: Audit, action: string, details: unknown) {
    this.sql.exec("INSERT INTO audit (at, actor, action, reason, details) VALUES (?, ?, ?, ?, ?)", at, audit.actor, action, audit.reason ?? null, JSON.stringify(details ?? null));
  }

  private row(): SeriesRowSql | null {
    return (this.sql.exec<SeriesRowSql>("SELECT * FROM series WHERE id = 1").toArray()[0] as SeriesRowSql | undefined) ?? null;
  }

  /** Every occurrence, or one page of them (limit + 1 rows, so the caller can tell whether more follow). */
  private occurrences(page?: OccurrencePage): Map<string, OccurrenceRow> {
    const rows = (
      page
        ? this.sql.exec<OccRowSql>(
            `SELECT * FROM occurrences WHERE start_time >= ? AND start_time < ? AND (page_start > ? OR (page_start = ? AND key > ?))
             ORDER BY page_start, key LIMIT ?`,
            page.from,
            page.to ?? Number.MAX_SAFE_INTEGER,
            page.after?.start ?? Number.MIN_SAFE_INTEGER,
            page.after?.start ?? Number.MIN_SAFE_INTEGER,
            page.after?.key ?? "",
            page.limit + 1,
          )
        : this.sql.exec<OccRowSql>("SELECT * FROM occurrences ORDER BY start_time, key")
    ).toArray() as OccRowSql[];
    return new Map(
      rows.map((r) => [
        r.key,
        {
          key: r.key,
          gen: r.gen,
          eventId: r.event_id,
          status: r.status,
          wantStart: r.want_start,
          wantEnd: r.want_end,
          start: r.start_time,
          end: r.end_time,
          shiftedFrom: r.shifted_from,
          reason: r.reason,
          // Rows from before the column: the start the plan asked for is the best guess there is.
          original: r.original_start ?? r.want_start,
          seqBase: r.seq_base,
        },
      ]),
    );
  }

  private view(page?: OccurrencePage): SeriesView | null {
    const s = this.row();
    if (!s) return null;
    const updated = new Map((this.sql.exec<{ key: string; updated_at: number }>("SELECT key, updated_at FROM occurrences").toArray() as { key: string; updated_at: number }[]).map((r) => [r.key, r.updated_at]));
    return {
      seriesId: s.series_id,
      templateId: s.template_id,
      plan: JSON.parse(s.plan) as SeriesPlan,
      onConflict: s.on_conflict,
      status: s.status,
      horizonDays: s.horizon_days,
      sequence: s.sequence,
      createdAt: s.created_at,
      updatedAt: s.updated_at,
      occurrences: [...this.occurrences(page).values()].map((r) => record(r, updated.get(r.key) ?? s.updated_at)),
    };
  }
}

const ruleHistory = (s: SeriesRowSql): RuleHistory => ({ rules: JSON.parse(s.rule_history) as RuleHistory["rules"], since: s.rules_since });

const record = (r: OccurrenceRow, updatedAt: number): OccurrenceRecord => ({
  key: r.key,
  eventId: r.status === "skipped" ? null : r.eventId,
  status: r.status,
  start: r.start,
  end: r.end,
  shiftedFrom: r.shiftedFrom,
  reason: r.reason,
  updatedAt,
});
