// LeaderboardActor: one Durable Object per (event, cohort), the single writer of that cohort's ranking; one more of
// the class per event (named DIRECTORY) decides and remembers which cohort each player is in. Entries live in the
// object's SQLite; the in-memory order-statistic index (domain/ranking.ts) is rebuilt from it on wake and answers
// rank, top-N and around-me in O(log n). Progress shards push aggregated score changes, numbered per shard, so a
// retried push is recognised and never counted twice. At expiry the event object has the directory finalize every
// cohort once: final ranks and a digest are recorded, projected to D1, and rank rewards handed to the shards' claim path.
import { DurableObject } from "cloudflare:workers";
import { readTiers, standingStatements, tierStatements, type StandingRow, type TierRow } from "../../db/leaderboards";
import { applyScore, finalStandings, nextTier, parseBoardName, seriesKey, standingsDigestInput, topPercent } from "../../domain/leaderboard";
import type { RankIndex, RankKey } from "../../domain/ranking";
import { parseShardName } from "../../domain/sharding";
import { MINUTE_MS, SECOND_MS, iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import type { Audit, BenchProbe, BoardInfo, BoardMe, BoardPage, CohortView, EntryAction, FinalSummary, LeaderboardActorRpc, RankAward, RankChange, ScorePush } from "../contracts";
import { migrate } from "../kit/migrate";
import { FLUSH_MAX_ROWS, Outbox } from "../kit/outbox";
import { Schedule } from "../kit/schedule";
import { progressShardActor } from "../stubs";
import { LEADERBOARD_SCHEMA } from "./schema";
import { benchIndex, benchProbe } from "./bench";
import { CohortDirectory } from "./directory";
import { decodeCursor, encodeCursor, rebuildIndex, row, sha256 } from "./rows";

/**
 * "top": the leaderboard_top frame to the shards (at most once a second); "project": standings to D1; "grant": rank
 * rewards to the shards; "finalize" (the directory): the next chunk of cohort boards to finalize.
 */
type Kind = "top" | "project" | "grant" | "finalize";
const TOP_N = 10;
const TOP_EVERY_MS = SECOND_MS;
/** Rank awards per grantRankRewards call. */
const GRANT_CHUNK = 1000;

export class LeaderboardActor extends DurableObject<Env> implements LeaderboardActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<Kind>;
  private readonly outbox: Outbox;
  private readonly address: { eventId: string; cohortId: string };
  private readonly directory: CohortDirectory;
  /** Built on first use after a wake; every write below keeps it in step with the entries table. */
  private ranking: RankIndex | null = null;
  /** The index was built before the board knew its definition (a read came first), so its order is only a guess. */
  private provisional = false;
  private banned = new Set<string>();
  private lastTop = "";
  private lastTopAt = 0;
  /** Rows per D1 projection flush (tests lower it to cross the batch boundary with a small board). */
  projectRows = FLUSH_MAX_ROWS;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, LEADERBOARD_SCHEMA);
    this.schedule = new Schedule<Kind>(ctx, () => ({ baseMs: SECOND_MS, maxMs: MINUTE_MS }));
    this.outbox = new Outbox(ctx.storage);
    this.address = parseBoardName(ctx.id.name ?? "") ?? { eventId: "", cohortId: "" };
    this.directory = new CohortDirectory(ctx.storage, env, this.address.eventId, this.schedule);
  }

  // ---- directory -------------------------------------------------------------------------------------------------

  async locate(info: BoardInfo, player: { playerId: string; level: number }): Promise<string> {
    this.adopt(info);
    return this.directory.locate(info, player);
  }

  async cohortOf(playerId: string): Promise<string | null> {
    return this.directory.cohortOf(playerId);
  }

  async hasCohort(cohortId: string): Promise<boolean> {
    return this.directory.hasCohort(cohortId);
  }

  async cohorts(): Promise<CohortView[]> {
    return this.directory.cohorts();
  }

  async finalizeAll(info: BoardInfo | null, actor: string): Promise<FinalSummary[]> {
    if (info) this.adopt(info);
    const held = info ?? this.info();
    if (!held) return [];
    const done = await this.directory.finalizeAll(held, actor);
    await this.schedule.arm();
    return done;
  }

  // ---- board -----------------------------------------------------------------------------------------------------

  async push(batch: ScorePush): Promise<{ applied: boolean; frozen: boolean; ranks: RankChange[] }> {
    const now = Date.now();
    this.adopt(batch.info);
    const last = this.sql.exec<{ seq: number }>("SELECT seq FROM sources WHERE source = ?", batch.source).toArray()[0]?.seq ?? 0;
    const applied = batch.seq > last;
    // A retry of a batch already counted is an ack even on a final board; only a new batch is refused as frozen.
    if (applied && this.final()) return { applied: false, frozen: true, ranks: [] };
    const def = batch.info.definition;
    const index = this.index();
    if (applied) {
      // The index changes only once the rows are committed: a throw inside the transaction rolls the rows back, and
      // an index already moved would then rank scores the board does not hold.
      const moves = new Map<string, { score: number; reachedAt: number }>();
      this.ctx.storage.transactionSync(() => {
        for (const e of batch.entries) {
          // A flag raised again after ops cleared it holds the player again.
          if (e.flagged) this.sql.exec("INSERT INTO flagged (player_id, at) VALUES (?, ?) ON CONFLICT (player_id) DO UPDATE SET at = excluded.at, cleared_at = NULL, cleared_by = NULL", e.playerId, e.at);
          if (e.value === null || this.banned.has(e.playerId)) continue;
          const next = applyScore(moves.get(e.playerId) ?? index.get(e.playerId), e.value, e.at, def);
          if (!next.changed) continue;
          this.sql.exec(
            `INSERT INTO entries (player_id, score, reached_at, source) VALUES (?, ?, ?, ?)
             ON CONFLICT (player_id) DO UPDATE SET score = excluded.score, reached_at = excluded.reached_at, source = excluded.source`,
            e.playerId,
            next.score,
            next.reachedAt,
            batch.source,
          );
          moves.set(e.playerId, { score: next.score, reachedAt: next.reachedAt });
        }
        this.sql.exec("INSERT INTO sources (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq", batch.source, batch.seq);
      });
      for (const [playerId, m] of moves) index.upsert(playerId, m.score, m.reachedAt);
      this.noteTop(now);
    }
    const ranks: RankChange[] = [];
    for (const e of batch.entries) {
      const held = index.get(e.playerId);
      if (held) ranks.push({ playerId: e.playerId, rank: index.rank(e.playerId), score: held.score, total: index.count });
    }
    return { applied, frozen: false, ranks };
  }

  async top(limit: number, cursor: string | null): Promise<Result<BoardPage>> {
    const index = this.index();
    let from = 1;
    if (cursor) {
      const key = decodeCursor(cursor);
      if (!key) return fail(400, "invalid_cursor", "cursor is not one this board gave out");
      from = this.after(key);
    }
    const rows = index.range(from, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return ok({
      cohortId: this.address.cohortId,
      total: index.count,
      finalized: this.final() !== null,
      entries: page.map(row),
      nextCursor: more && page.length ? encodeCursor(index.cursorKey(page[page.length - 1])) : null,
    });
  }

  async me(playerId: string, around: number): Promise<BoardMe> {
    const index = this.index();
    const rank = index.rank(playerId);
    const base = { cohortId: this.address.cohortId, total: index.count, finalized: this.final() !== null };
    if (!rank) return { ...base, rank: null, score: null, percentile: null, neighbours: [] };
    const from = Math.max(1, rank - around);
    return {
      ...base,
      rank,
      score: index.get(playerId)!.score,
      percentile: topPercent(rank, index.count),
      neighbours: index.range(from, rank - from + around + 1).map(row),
    };
  }

  async act(playerId: string, action: EntryAction, audit: Audit): Promise<Result<{ playerId: string; action: EntryAction }>> {
    const now = Date.now();
    const index = this.index();
    const final = this.final();
    if (action !== "clear_flag" && final) return fail(409, "board_finalized", "the board is final; only clear_flag may still release a held reward");
    if (action === "remove" && !index.has(playerId)) return fail(404, "entry_not_found", `player "${playerId}" has no entry on this board`);
    if (action === "clear_flag" && !this.sql.exec("SELECT 1 FROM flagged WHERE player_id = ? AND cleared_at IS NULL", playerId).toArray().length) {
      return fail(404, "flag_not_found", `player "${playerId}" is not flagged on this board`);
    }
    this.ctx.storage.transactionSync(() => {
      if (action === "remove") this.sql.exec("DELETE FROM entries WHERE player_id = ?", playerId);
      if (action === "ban") {
        this.sql.exec(
          `INSERT INTO entries (player_id, score, reached_at, source, status) VALUES (?, 0, ?, '', 'banned')
           ON CONFLICT (player_id) DO UPDATE SET status = 'banned'`,
          playerId,
          now,
        );
        this.banned.add(playerId);
      }
      if (action === "clear_flag") {
        this.sql.exec("UPDATE flagged SET cleared_at = ?, cleared_by = ? WHERE player_id = ?", now, audit.actor, playerId);
        // After finalization, clearing releases the held reward: the grant row picks it up.
        if (final && this.sql.exec("UPDATE standings SET held = 0 WHERE player_id = ? AND held = 1 RETURNING rank", playerId).toArray().length) {
          this.queueStandings(final.digest, Date.parse(final.finalizedAt), playerId);
          this.schedule.set("grant", now);
          this.schedule.set("project", now);
        }
      }
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, ?, ?, ?)", now, audit.actor, action, playerId, audit.reason ?? null);
    });
    if (action !== "clear_flag") index.remove(playerId);
    this.noteTop(now);
    await this.settle(now);
    return ok({ playerId, action });
  }

  async finalize(info: BoardInfo | null, actor: string): Promise<FinalSummary | null> {
    if (info) this.adopt(info);
    const held = this.info();
    const done = this.final();
    if (done || !held) return done;
    const def = held.definition;
    const series = seriesKey(held.templateId, def.boardKey);
    // What needs I/O comes first: the players' tiers, read again for anyone a push added during the read. A push
    // landing after the snapshot below would be left out of the standings, so from the snapshot on nothing awaits.
    const tiers = new Map<string, { tier: string; eventId: string }>();
    const asked = new Set<string>();
    for (let missing = this.unasked(asked, def.tiers); missing.length; missing = this.unasked(asked, def.tiers)) {
      for (const id of missing) asked.add(id);
      for (const [id, t] of await readTiers(this.env.DB, series, missing)) tiers.set(id, t);
      if (this.final()) return this.final();
    }
    const now = Date.now();
    const ordered = this.index().all();
    const flagged = new Set(this.sql.exec<{ player_id: string }>("SELECT player_id FROM flagged WHERE cleared_at IS NULL").toArray().map((r) => r.player_id));
    const standings = finalStandings(ordered, def.rewardTiers, flagged);
    const digest = sha256(standingsDigestInput(this.address.eventId, this.address.cohortId, standings));
    const summary: FinalSummary = {
      cohortId: this.address.cohortId,
      entries: standings.length,
      digest,
      finalizedAt: iso(now),
      rewarded: standings.filter((s) => s.rewardTier >= 0 && !s.held).length,
      held: standings.filter((s) => s.held).length,
    };
    this.ctx.storage.transactionSync(() => {
      const source = new Map(this.sql.exec<{ player_id: string; source: string }>("SELECT player_id, source FROM entries").toArray().map((r) => [r.player_id, r.source]));
      for (const s of standings) {
        this.sql.exec(
          "INSERT INTO standings (rank, player_id, score, reached_at, reward_tier, held, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
          s.rank,
          s.playerId,
          s.score,
          s.reachedAt,
          s.rewardTier,
          s.held ? 1 : 0,
          source.get(s.playerId) ?? "",
        );
      }
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('final', ?)", JSON.stringify(summary));
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, 'finalize', NULL, ?)", now, actor, digest);
      this.queueStandings(digest, now);
      if (def.tiers) {
        for (const s of standings) {
          const row: TierRow = { seriesKey: series, playerId: s.playerId, tier: nextTier(def.tiers, tiers.get(s.playerId)?.tier ?? null, s.rank, standings.length), eventId: this.address.eventId, updatedAt: now };
          this.outbox.put("tier", s.playerId, row);
        }
      }
      this.schedule.set("project", now);
      this.schedule.set("grant", now);
    });
    await this.settle(now);
    return summary;
  }

  async benchLoad(n: number): Promise<{ entries: number; loadMs: number }> {
    const t0 = performance.now();
    this.ranking = benchIndex(Math.max(1, Math.min(2_000_000, Math.floor(n))));
    // The clock moves only across I/O: a zero-length timer lets the build's duration show.
    await new Promise((r) => setTimeout(r, 0));
    return { entries: this.ranking.count, loadMs: performance.now() - t0 };
  }

  async benchProbe(batches: number): Promise<BenchProbe> {
    return benchProbe(this.index(), Math.max(1, Math.min(1000, Math.floor(batches))));
  }

  override async alarm(): Promise<void> {
    await this.settle(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private settle(now: number): Promise<void> {
    return this.schedule.tick(now, (r) => this.run(r.kind, now));
  }

  private async run(kind: Kind, now: number): Promise<void> {
    if (kind === "project") {
      await this.outbox.flush(this.env.DB, [this.outbox.source<StandingRow>("standing", standingStatements), this.outbox.source<TierRow>("tier", tierStatements)], this.projectRows);
      // More than one flush's worth: book the next one. Not at `now`: the tick would take a row still due when it ran
      // as done and delete it, and the projection would stop after the first batch.
      if (this.outbox.count() > 0) this.schedule.set("project", now + 1);
    } else if (kind === "grant") await this.grant();
    else if (kind === "finalize") {
      const info = this.info();
      if (info) await this.directory.finalizeStep(info, now);
    }
    else await this.sendTop(now);
  }

  /** Rank rewards not yet handed to their players' shards (held ones wait for clear_flag); each shard's grant is idempotent. */
  private async grant() {
    const info = this.info();
    if (!info) return;
    const rows = this.sql
      .exec<{ player_id: string; rank: number; reward_tier: number; source: string }>("SELECT player_id, rank, reward_tier, source FROM standings WHERE reward_tier >= 0 AND held = 0 AND granted = 0")
      .toArray();
    const byShard = new Map<string, RankAward[]>();
    for (const r of rows) {
      const award: RankAward = { playerId: r.player_id, cohortId: this.address.cohortId, rank: r.rank, rewardTier: r.reward_tier, rewards: info.definition.rewardTiers[r.reward_tier].rewards, held: false };
      const list = byShard.get(r.source);
      if (list) list.push(award);
      else byShard.set(r.source, [award]);
    }
    for (const [source, awards] of byShard) {
      const shard = parseShardName(source);
      if (!shard) continue;
      // In chunks, each marked once its shard has it: a big board's grant stays within an RPC's size, and a retry
      // resumes where it stopped.
      for (let i = 0; i < awards.length; i += GRANT_CHUNK) {
        const chunk = awards.slice(i, i + GRANT_CHUNK);
        await progressShardActor(this.env, shard.eventId, shard.shardNo).grantRankRewards(chunk);
        this.ctx.storage.transactionSync(() => {
          for (const a of chunk) this.sql.exec("UPDATE standings SET granted = 1 WHERE player_id = ?", a.playerId);
        });
      }
    }
  }

  /** After a change: if the top 10 moved, a leaderboard_top frame goes out, at most once a second. */
  private noteTop(now: number) {
    const top = this.index().range(1, TOP_N);
    const signature = top.map((e) => `${e.playerId}:${e.score}`).join(",");
    if (signature === this.lastTop) return;
    this.lastTop = signature;
    this.schedule.ensure("top", Math.max(now, this.lastTopAt + TOP_EVERY_MS));
  }

  private async sendTop(now: number) {
    this.lastTopAt = now;
    const index = this.index();
    const frame = { type: "leaderboard_top" as const, eventId: this.address.eventId, cohortId: this.address.cohortId, total: index.count, entries: index.range(1, TOP_N).map(row), at: iso(now) };
    const sources = this.sql.exec<{ source: string }>("SELECT source FROM sources").toArray();
    await Promise.all(
      sources.map(({ source }) => {
        const s = parseShardName(source);
        return s ? progressShardActor(this.env, s.eventId, s.shardNo).boardFrame(this.address.cohortId, frame) : 0;
      }),
    );
  }

  private queueStandings(digest: string, finalizedAt: number, only?: string) {
    const rows = this.sql
      .exec<{ rank: number; player_id: string; score: number; reached_at: number; reward_tier: number; held: number }>(
        `SELECT rank, player_id, score, reached_at, reward_tier, held FROM standings ${only ? "WHERE player_id = ?" : ""}`,
        ...(only ? [only] : []),
      )
      .toArray();
    for (const r of rows) {
      const row: StandingRow = { eventId: this.address.eventId, playerId: r.player_id, cohortId: this.address.cohortId, rank: r.rank, score: r.score, reachedAt: r.reached_at, rewardTier: r.reward_tier, held: r.held, digest, finalizedAt };
      this.outbox.put("standing", r.player_id, row);
    }
  }

  private index(): RankIndex {
    if (this.ranking) return this.ranking;
    const known = this.info();
    this.provisional = known === null;
    const desc = (known?.definition.sortOrder ?? "desc") === "desc";
    const index = rebuildIndex(this.sql, desc);
    this.banned = new Set(this.sql.exec<{ player_id: string }>("SELECT player_id FROM entries WHERE status = 'banned'").toArray().map((r) => r.player_id));
    this.ranking = index;
    return index;
  }

  /** The first rank after a cursor's entry, wherever that entry has moved since. */
  private after(key: RankKey): number {
    const index = this.index();
    const at = index.get(key.playerId);
    const same = at && index.cursorKey(at).sortKey === key.sortKey && at.reachedAt === key.reachedAt;
    return index.countBefore(key) + (same ? 1 : 0) + 1;
  }

  /** Ranked players whose series tier has not been read yet (none when the board has no tiers). */
  private unasked(asked: ReadonlySet<string>, tiers: unknown): string[] {
    if (!tiers) return [];
    return this.index().all().map((e) => e.playerId).filter((id) => !asked.has(id));
  }

  /** The board's definition arrives with its first push (or locate); it is fixed for the event, so the first copy stays. */
  private adopt(info: BoardInfo) {
    if (this.info()) return;
    this.sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('info', ?)", JSON.stringify(info));
    // An index built before now assumed a descending board; the real order may be ascending, so build it again.
    if (this.provisional) this.ranking = null;
  }

  private info(): BoardInfo | null {
    const v = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'info'").toArray()[0]?.v;
    return v ? JSON.parse(v) : null;
  }

  private final(): FinalSummary | null {
    const v = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'final'").toArray()[0]?.v;
    return v ? JSON.parse(v) : null;
  }
}
