// The event's cohort directory (the LeaderboardActor named `<eventId>|~directory`): decides each player's cohort once,
// and at expiry finalizes every cohort's board. Finalization goes in chunks with bounded concurrency, each board's
// summary stored as it lands, and the rest booked on the directory's own schedule: every alarm is a fresh invocation,
// so 20,000 cohorts never meet the subrequest limit, and a failure resumes where it stopped.
import { readTiers } from "../../db/leaderboards";
import { GLOBAL_COHORT, assignCohort, seriesKey } from "../../domain/leaderboard";
import type { BoardInfo, CohortView, FinalSummary } from "../contracts";
import type { Schedule } from "../kit/schedule";
import { leaderboardActor } from "../stubs";

/** Boards finalized per directory invocation, and at most this many at once. */
export const FINALIZE_CHUNK = 200;
const FINALIZE_CONCURRENCY = 20;

export class CohortDirectory {
  /** Boards per invocation (tests lower it to cross chunk boundaries with a few cohorts). */
  chunk = FINALIZE_CHUNK;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly eventId: string,
    private readonly schedule: Pick<Schedule<"finalize">, "set">,
  ) {}

  private get sql() {
    return this.storage.sql;
  }

  async locate(info: BoardInfo, player: { playerId: string; level: number }): Promise<string> {
    const held = this.cohortOf(player.playerId);
    if (held) return held;
    const def = info.definition;
    const tier = def.matching === "tier" && def.cohortSize > 0 ? ((await readTiers(this.env.DB, seriesKey(info.templateId, def.boardKey), [player.playerId])).get(player.playerId)?.tier ?? null) : null;
    // The read above awaited: a racing locate for the same player may have decided meanwhile. Decide with no await from here.
    const raced = this.cohortOf(player.playerId);
    if (raced) return raced;
    const group = assignCohort(def, { level: player.level, tier }, null).group;
    const fill = this.sql.exec<{ cohort: number; members: number }>("SELECT cohort, members FROM cohort_fill WHERE grp = ?", group).toArray()[0] ?? null;
    const a = assignCohort(def, { level: player.level, tier }, fill);
    this.storage.transactionSync(() => {
      this.sql.exec("INSERT INTO assignments (player_id, cohort_id) VALUES (?, ?)", player.playerId, a.cohortId);
      this.sql.exec("INSERT OR REPLACE INTO cohort_fill (grp, cohort, members) VALUES (?, ?, ?)", a.group, a.cohort, a.members);
    });
    return a.cohortId;
  }

  cohortOf(playerId: string): string | null {
    return this.sql.exec<{ cohort_id: string }>("SELECT cohort_id FROM assignments WHERE player_id = ?", playerId).toArray()[0]?.cohort_id ?? null;
  }

  /** Has this cohort been opened? A cohort id is `<group>-<n>`, and a group's cohorts 0…n are opened in turn. */
  hasCohort(cohortId: string): boolean {
    const cut = cohortId.lastIndexOf("-");
    const n = Number(cohortId.slice(cut + 1));
    if (cut <= 0 || !Number.isSafeInteger(n)) return false;
    const open = this.sql.exec<{ cohort: number }>("SELECT cohort FROM cohort_fill WHERE grp = ?", cohortId.slice(0, cut)).toArray()[0];
    return open !== undefined && n <= open.cohort;
  }

  cohorts(): CohortView[] {
    return this.sql
      .exec<{ cohort_id: string; members: number }>("SELECT cohort_id, COUNT(*) AS members FROM assignments GROUP BY cohort_id ORDER BY cohort_id")
      .toArray()
      .map((r) => ({ cohortId: r.cohort_id, members: r.members }));
  }

  /**
   * Finalizes the first chunk of boards not yet final and books the rest on the schedule; answers every summary
   * recorded so far. A global board (cohort size 0) is never in the assignments: shards place players there alone.
   */
  async finalizeAll(info: BoardInfo, actor: string): Promise<FinalSummary[]> {
    this.sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('finalizing', ?)", actor);
    await this.finalizeStep(info, Date.now());
    return this.summaries();
  }

  /** One chunk; the "finalize" row runs it again (1 ms later, never at the tick's own time) while boards remain. */
  async finalizeStep(info: BoardInfo, now: number): Promise<void> {
    const actor = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'finalizing'").toArray()[0]?.v;
    if (!actor) return;
    const todo = this.unfinalized(info, this.chunk + 1);
    const chunk = todo.slice(0, this.chunk);
    let failure: unknown = null;
    for (let i = 0; i < chunk.length; i += FINALIZE_CONCURRENCY) {
      const wave = chunk.slice(i, i + FINALIZE_CONCURRENCY);
      const results = await Promise.allSettled(wave.map((c) => leaderboardActor(this.env, this.eventId, c).finalize(info, actor)));
      results.forEach((r, k) => {
        if (r.status === "rejected") failure ??= r.reason;
        else if (r.value) this.sql.exec("INSERT OR IGNORE INTO finals (cohort_id, summary) VALUES (?, ?)", wave[k], JSON.stringify(r.value));
      });
    }
    if (failure) throw failure;
    if (todo.length > chunk.length) this.schedule.set("finalize", now + 1);
  }

  private unfinalized(info: BoardInfo, limit: number): string[] {
    const assigned = this.sql
      .exec<{ cohort_id: string }>("SELECT DISTINCT cohort_id FROM assignments WHERE cohort_id NOT IN (SELECT cohort_id FROM finals) ORDER BY cohort_id LIMIT ?", limit)
      .toArray()
      .map((r) => r.cohort_id);
    const global = info.definition.cohortSize === 0 && !this.sql.exec("SELECT 1 FROM finals WHERE cohort_id = ?", GLOBAL_COHORT).toArray().length;
    return global && !assigned.includes(GLOBAL_COHORT) ? [GLOBAL_COHORT, ...assigned] : assigned;
  }

  private summaries(): FinalSummary[] {
    return this.sql.exec<{ summary: string }>("SELECT summary FROM finals ORDER BY cohort_id").toArray().map((r) => JSON.parse(r.summary));
  }
}
