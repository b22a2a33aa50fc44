// LeaderboardActor: one Durable Object per (event, cohort), the single writer of that cohort's ranking; one more of
// the class per event (named DIRECTORY) decides and remembers which cohort each player is in. Entries live in the
// object's SQLite; the in-memory order-statistic index (domain/ranking.ts) is rebuilt from it on wake and answers
// rank, top-N and around-me in O(log n). Progress shards push aggregated score changes, numbered per shard, so a
// retried push is recognised and never counted twice. At expiry the event object has the directory finalize every
// cohort once: final ranks and a digest are recorded, projected to D1, and rank rewards handed to the shards' claim path.
import { DurableObject } from "cloudflare:workers";
import { standingStatements, tierStatements, type StandingRow, type TierRow } from "../../db/leaderboards";
import { applyScore, parseBoardName, seriesKey, topPercent } from "../../domain/leaderboard";
import type { RankIndex, RankKey } from "../../domain/ranking";
import { parseShardName } from "../../domain/sharding";
import { MINUTE_MS, SECOND_MS, iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import type { PlayerDataOp, PlayerDataPart } from "../contracts";
import { playerRows } from "../kit/player-data";
import { BOARD_PLAYER_TABLES } from "./privacy";
import type { Audit, BenchProbe, BoardInfo, BoardMe, BoardPage, CohortView, EntryAction, FinalSummary, LeaderboardActorRpc, RankChange, ScorePush } from "../contracts";
import { migrate } from "../kit/migrate";
import { FLUSH_MAX_ROWS, Outbox } from "../kit/outbox";
import { Schedule } from "../kit/schedule";
import { progressShardActor } from "../stubs";
import { LEADERBOARD_SCHEMA } from "./schema";
import { benchFill, benchProbe } from "./bench";
import { CohortDirectory } from "./directory";
import { decodeCursor, encodeCursor, rebuildIndex, rows, type CursorKey } from "./rows";
import { grantRankRewards, queueStandings, readSeriesTiers, writeStandings } from "./standings";

/**
 * "top": the leaderboard_top frame to the shards (at most once a second); "project": standings to D1; "grant": rank
 * rewards to the shards; "finalize" (the directory): the next chunk of cohort boards to finalize.
 */
type Kind = "top" | "project" | "grant" | "finalize";
const TOP_N = 10;
const TOP_EVERY_MS = SECOND_MS;
type Held = { slot: number; score: number; reachedAt: number; banned: boolean };

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
    // Each pushed player's entry as the board holds it (banned ones included, so they stay out).
    const held = new Map<string, Held | null>();
    for (const e of batch.entries) if (!held.has(e.playerId)) held.set(e.playerId, this.entry(e.playerId));
    if (applied) {
      // The index changes only once the rows are committed: a throw inside the transaction rolls the rows back, and
      // an index already moved would then rank scores the board does not hold.
      const moved = new Set<number>();
      this.ctx.storage.transactionSync(() => {
        for (const e of batch.entries) {
          // A flag raised again after ops cleared it holds the player again.
          if (e.flagged) this.sql.exec("INSERT INTO flagged (player_id, at) VALUES (?, ?) ON CONFLICT (player_id) DO UPDATE SET at = excluded.at, cleared_at = NULL, cleared_by = NULL", e.playerId, e.at);
          const current = held.get(e.playerId) ?? null;
          if (e.value === null || current?.banned) continue;
          const next = applyScore(current, e.value, e.at, def);
          if (!next.changed) continue;
          const { slot } = this.sql
            .exec<{ slot: number }>(
              `INSERT INTO entries (player_id, score, reached_at, source) VALUES (?, ?, ?, ?)
               ON CONFLICT (player_id) DO UPDATE SET score = excluded.score, reached_at = excluded.reached_at, source = excluded.source
               RETURNING slot`,
              e.playerId,
              next.score,
              next.reachedAt,
              batch.source,
            )
            .one();
          held.set(e.playerId, { slot, score: next.score, reachedAt: next.reachedAt, banned: false });
          moved.add(slot);
        }
        this.sql.exec("INSERT INTO sources (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq", batch.source, batch.seq);
      });
      for (const h of held.values()) if (h && moved.has(h.slot)) index.upsert(h.slot, h.score, h.reachedAt);
      this.noteTop(now);
    }
    const ranks: RankChange[] = [];
    for (const [playerId, h] of held) {
      if (h && !h.banned) ranks.push({ playerId, rank: index.rank(h.slot), score: h.score, total: index.count });
    }
    return { applied, frozen: false, ranks };
  }

  async top(limit: number, cursor: string | null): Promise<Result<BoardPage>> {
    let from = 1;
    if (cursor) {
      const key = decodeCursor(cursor);
      if (!key) return fail(400, "invalid_cursor", "cursor is not one this board gave out");
      from = this.after(key);
    }
    return ok(this.page(limit, from));
  }

  private page(limit: number, from: number): BoardPage {
    const index = this.index();
    const found = index.range(from, limit + 1);
    const more = found.length > limit;
    const page = found.slice(0, limit);
    return {
      cohortId: this.address.cohortId,
      total: index.count,
      finalized: this.final() !== null,
      entries: rows(this.sql, page),
      nextCursor: more && page.length ? encodeCursor(index.cursorKey(page[page.length - 1])) : null,
    };
  }

  async me(playerId: string, around: number): Promise<BoardMe> {
    return this.around(playerId, around);
  }

  private around(playerId: string, around: number): BoardMe {
    const index = this.index();
    const mine = this.entry(playerId);
    const rank = mine && !mine.banned ? index.rank(mine.slot) : 0;
    const base = { cohortId: this.address.cohortId, total: index.count, finalized: this.final() !== null };
    if (!mine || !rank) return { ...base, rank: null, score: null, percentile: null, neighbours: [] };
    const from = Math.max(1, rank - around);
    return {
      ...base,
      rank,
      score: mine.score,
      percentile: topPercent(rank, index.count),
      neighbours: rows(this.sql, index.range(from, rank - from + around + 1)),
    };
  }

  async act(playerId: string, action: EntryAction, audit: Audit): Promise<Result<{ playerId: string; action: EntryAction }>> {
    const now = Date.now();
    const index = this.index();
    const final = this.final();
    if (action !== "clear_flag" && final) return fail(409, "board_finalized", "the board is final; only clear_flag may still release a held reward");
    const mine = this.entry(playerId);
    if (action === "remove" && !(mine && !mine.banned && index.has(mine.slot))) return fail(404, "entry_not_found", `player "${playerId}" has no entry on this board`);
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
      }
      if (action === "clear_flag") {
        this.sql.exec("UPDATE flagged SET cleared_at = ?, cleared_by = ? WHERE player_id = ?", now, audit.actor, playerId);
        // After finalization, clearing releases the held reward: the grant row picks it up.
        if (final && this.sql.exec("UPDATE standings SET held = 0 WHERE player_id = ? AND held = 1 RETURNING rank", playerId).toArray().length) {
          queueStandings(this.sql, this.outbox, this.address, final.digest, Date.parse(final.finalizedAt), playerId);
          this.schedule.set("grant", now);
          this.schedule.set("project", now);
        }
      }
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, ?, ?, ?)", now, audit.actor, action, playerId, audit.reason ?? null);
    });
    if (action !== "clear_flag" && mine) index.remove(mine.slot);
    this.noteTop(now);
    await this.settle(now);
    return ok({ playerId, action });
  }

  /** Privacy: the player's rows here, or their erasure (a live entry leaves the index with its row). */
  async playerData(playerId: string, op: PlayerDataOp): Promise<PlayerDataPart> {
    const mine = op.kind === "erase" ? this.entry(playerId) : null;
    const part = playerRows(this.ctx.storage, BOARD_PLAYER_TABLES, playerId, op);
    if (mine && this.index().has(mine.slot)) {
      this.index().remove(mine.slot);
      this.noteTop(Date.now());
    }
    return part;
  }

  async finalize(info: BoardInfo | null, actor: string): Promise<FinalSummary | null> {
    if (info) this.adopt(info);
    const held = this.info();
    const done = this.final();
    if (done || !held) return done;
    const def = held.definition;
    const series = seriesKey(held.templateId, def.boardKey);
    // What needs I/O comes first: the players' tiers. A push landing after the snapshot below would be left out of
    // the standings, so from the snapshot on nothing awaits.
    if (def.tiers && !(await readSeriesTiers(this.ctx.storage, this.env.DB, series, () => this.final() !== null))) return this.final();
    const now = Date.now();
    const flagged = new Set(this.sql.exec<{ player_id: string }>("SELECT player_id FROM flagged WHERE cleared_at IS NULL").toArray().map((r) => r.player_id));
    let summary: FinalSummary | null = null;
    this.ctx.storage.transactionSync(() => {
      const written = writeStandings(this.sql, this.outbox, {
        ...this.address,
        desc: def.sortOrder === "desc",
        rewardTiers: def.rewardTiers,
        flagged,
        tiers: def.tiers ? { rules: def.tiers, series } : null,
        now,
      });
      summary = { cohortId: this.address.cohortId, entries: written.entries, digest: written.digest, finalizedAt: iso(now), rewarded: written.rewarded, held: written.held };
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('final', ?)", JSON.stringify(summary));
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, 'finalize', NULL, ?)", now, actor, written.digest);
      queueStandings(this.sql, this.outbox, this.address, written.digest, now);
      this.schedule.set("project", now);
      this.schedule.set("grant", now);
    });
    await this.settle(now);
    return summary!;
  }

  async benchLoad(n: number): Promise<{ entries: number; loadMs: number; rebuildMs: number }> {
    const t0 = performance.now();
    const entries = benchFill(this.sql, Math.max(1, Math.min(2_000_000, Math.floor(n))));
    this.ranking = null;
    // The clock moves only across I/O: a zero-length timer lets each step's duration show.
    await new Promise((r) => setTimeout(r, 0));
    const t1 = performance.now();
    this.index();
    await new Promise((r) => setTimeout(r, 0));
    return { entries, loadMs: t1 - t0, rebuildMs: performance.now() - t1 };
  }

  async benchProbe(batches: number): Promise<BenchProbe> {
    const index = this.index();
    return benchProbe(
      index,
      {
        top: () => this.page(100, 1),
        around: (id) => this.around(id, 10),
        move: (id) => {
          const e = this.entry(id);
          if (!e) return;
          this.sql.exec("UPDATE entries SET score = ?, reached_at = ? WHERE slot = ?", e.score + 1, e.reachedAt + 1, e.slot);
          index.upsert(e.slot, e.score + 1, e.reachedAt + 1);
        },
      },
      Math.max(1, Math.min(1000, Math.floor(batches))),
    );
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
    } else if (kind === "top") await this.sendTop(now);
    else {
      const info = this.info();
      if (!info) return;
      if (kind === "grant") await grantRankRewards(this.ctx.storage, this.env, info, this.address.cohortId);
      else await this.directory.finalizeStep(info, now);
    }
  }

  /** After a change: if the top 10 moved, a leaderboard_top frame goes out, at most once a second. */
  private noteTop(now: number) {
    const top = this.index().range(1, TOP_N);
    const signature = top.map((e) => `${e.slot}:${e.score}`).join(",");
    if (signature === this.lastTop) return;
    this.lastTop = signature;
    this.schedule.ensure("top", Math.max(now, this.lastTopAt + TOP_EVERY_MS));
  }

  private async sendTop(now: number) {
    this.lastTopAt = now;
    const index = this.index();
    const frame = { type: "leaderboard_top" as const, eventId: this.address.eventId, cohortId: this.address.cohortId, total: index.count, entries: rows(this.sql, index.range(1, TOP_N)), at: iso(now) };
    const sources = this.sql.exec<{ source: string }>("SELECT source FROM sources").toArray();
    await Promise.all(
      sources.map(({ source }) => {
        const s = parseShardName(source);
        return s ? progressShardActor(this.env, s.eventId, s.shardNo).boardFrame(this.address.cohortId, frame) : 0;
      }),
    );
  }

  private index(): RankIndex {
    if (this.ranking) return this.ranking;
    const known = this.info();
    this.provisional = known === null;
    const desc = (known?.definition.sortOrder ?? "desc") === "desc";
    const index = rebuildIndex(this.sql, desc);
    this.ranking = index;
    return index;
  }

  /** The first rank after a cursor's entry, wherever that entry has moved since. */
  private after(cursor: CursorKey): number {
    const index = this.index();
    // A cursor from before entries had slots names its player: their slot now, or (gone) after every tie at its place.
    const key: RankKey = "slot" in cursor ? cursor : { sortKey: cursor.sortKey, reachedAt: cursor.reachedAt, slot: this.entry(cursor.playerId)?.slot ?? Number.MAX_SAFE_INTEGER };
    const at = index.get(key.slot);
    const same = at && index.cursorKey(at).sortKey === key.sortKey && at.reachedAt === key.reachedAt;
    return index.countBefore(key) + (same ? 1 : 0) + 1;
  }

  /** The board's definition arrives with its first push (or locate); it is fixed for the event, so the first copy stays. */
  private adopt(info: BoardInfo) {
    if (this.info()) return;
    this.sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('info', ?)", JSON.stringify(info));
    // An index built before now assumed a descending board; the real order may be ascending, so build it again.
    if (this.provisional) this.ranking = null;
  }

  /** A player's entry row: its slot in the index, and whether ops banned it. */
  private entry(playerId: string): Held | null {
    const r = this.sql.exec<{ slot: number; score: number; reached_at: number; status: string }>("SELECT slot, score, reached_at, status FROM entries WHERE player_id = ?", playerId).toArray()[0];
    return r ? { slot: r.slot, score: r.score, reachedAt: r.reached_at, banned: r.status === "banned" } : null;
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
