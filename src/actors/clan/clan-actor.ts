// ClanEventActor: one Durable Object per (event, clan), the single writer of that clan's total, its members'
// contributions and its milestones; one more of the class per event (named CLAN_DIRECTORY) keeps every clan's latest
// standing for the clan ranking and for finalization. Progress shards push contributions aggregated per drain,
// numbered per shard, so a retried push is recognised and never counted twice. Online members hear of it in
// clan_progress frames (at most one a second per clan) through the shards that pushed, which hold the sockets.
// At expiry the event object has the directory finalize every clan once: each reached milestone goes to every member
// at or over the threshold, through the shards' ordinary claim path; flagged members are held until ops clear them.
import { DurableObject } from "cloudflare:workers";
import { CLAN_MEMBERS_DEFAULT, CLAN_RANK_INDEX, clanProgress, memberShare, memberShares, parseClanName, sumOf } from "../../domain/clan";
import { parseShardName } from "../../domain/sharding";
import { MINUTE_MS, SECOND_MS, iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import { playerRows } from "../kit/player-data";
import { CLAN_PLAYER_TABLES } from "./privacy";
import type { PlayerDataOp, PlayerDataPart } from "../contracts";
import type { Audit, ClanAward, ClanEventActorRpc, ClanFinal, ClanInfo, ClanPush, ClanRankAward, ClanRanking, ClanStanding, ClanView } from "../contracts";
import { migrate } from "../kit/migrate";
import { Schedule } from "../kit/schedule";
import { clanActor, clanDirectory, progressShardActor } from "../stubs";
import { CLAN_SCHEMA } from "./schema";
import { ClanDirectory, type DirectoryKind } from "./directory";

/**
 * "frame": clan_progress to the shards (≤ 1/s); "report": the standing to the directory (≤ 1/s, less often when the
 * event has many clans: the directory says how often); "grant": rewards to the shards;
 * the directory's "finalize", "project" and "rank": the next chunk of clans to finalize, standings to D1, rank rewards.
 */
type Kind = "frame" | "report" | "grant" | DirectoryKind;
const FRAME_EVERY_MS = SECOND_MS;
const TOP_N = 5;
/** Awards per grantClanRewards call. */
const GRANT_CHUNK = 1000;

type Member = { player_id: string; contribution: number; first_at: number; source: string; flagged: number; cleared_at: number | null };
const MEMBER_COLUMNS = "player_id, contribution, first_at, source, flagged, cleared_at";
/** Members ranked ahead of (?1 contribution, ?2 first_at, ?3 player_id): two ranges of idx_members_rank, no table read. */
export const RANK_COUNT = `SELECT (SELECT COUNT(*) FROM members WHERE contribution > ?1)
  + (SELECT COUNT(*) FROM members WHERE contribution = ?1 AND (first_at, player_id) < (?2, ?3)) AS n`;

export class ClanEventActor extends DurableObject<Env> implements ClanEventActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<Kind>;
  private readonly address: { eventId: string; clanId: string };
  private readonly directory: ClanDirectory;
  private lastFrameAt = 0;
  private lastReportAt = 0;
  private reportEvery = FRAME_EVERY_MS;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, CLAN_SCHEMA);
    this.schedule = new Schedule<Kind>(ctx, () => ({ baseMs: SECOND_MS, maxMs: MINUTE_MS }));
    this.address = parseClanName(ctx.id.name ?? "") ?? { eventId: "", clanId: "" };
    this.directory = new ClanDirectory(ctx.storage, env, this.address.eventId, this.schedule);
  }

  // ---- clan ------------------------------------------------------------------------------------------------------

  async push(batch: ClanPush): Promise<{ applied: boolean; frozen: boolean; total: number; unlocked: number[] }> {
    const now = Date.now();
    this.adopt(batch.info);
    // The directory must know every clan before its first contribution counts, or finalization could miss it.
    if (!this.meta("registered")) {
      this.reportEvery = await clanDirectory(this.env, this.address.eventId).report(this.standing());
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('registered', '1')");
    }
    const last = this.sql.exec<{ seq: number }>("SELECT seq FROM sources WHERE source = ?", batch.source).toArray()[0]?.seq ?? 0;
    const applied = batch.seq > last;
    // A retry of a batch already counted is an ack even on a final clan; only a new batch is refused as frozen.
    if (applied && this.meta("final")) return { applied: false, frozen: true, total: this.total(), unlocked: [] };
    let unlocked: number[] = [];
    if (applied) {
      const excluded = new Set(this.sql.exec<{ player_id: string }>("SELECT player_id FROM members WHERE excluded_at IS NOT NULL").toArray().map((r) => r.player_id));
      this.ctx.storage.transactionSync(() => {
        for (const e of batch.entries) {
          if (excluded.has(e.playerId)) continue;
          if (e.flagged) this.sql.exec("UPDATE members SET flagged = 1, cleared_at = NULL WHERE player_id = ?", e.playerId);
          const amount = sumOf(e.amounts);
          if (amount <= 0 && !e.flagged) continue;
          this.sql.exec(
            `INSERT INTO members (player_id, contribution, first_at, source, flagged) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (player_id) DO UPDATE SET contribution = contribution + excluded.contribution, source = excluded.source`,
            e.playerId,
            amount,
            e.at,
            batch.source,
            e.flagged ? 1 : 0,
          );
          for (const [objectiveId, a] of Object.entries(e.amounts)) {
            this.sql.exec(
              "INSERT INTO member_amounts (player_id, objective_id, amount) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET amount = amount + excluded.amount",
              e.playerId,
              objectiveId,
              a,
            );
            this.sql.exec("INSERT INTO totals (objective_id, total) VALUES (?, ?) ON CONFLICT DO UPDATE SET total = total + excluded.total", objectiveId, a);
          }
        }
        this.sql.exec("INSERT INTO sources (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq", batch.source, batch.seq);
        // When the total last moved: equal totals rank the clan that got there first higher.
        if (batch.entries.some((e) => sumOf(e.amounts) > 0)) this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('reached_at', ?)", String(now));
        const { reached } = clanProgress(batch.info.definition, batch.info.objectives, this.totals());
        for (const idx of reached) if (this.sql.exec("INSERT OR IGNORE INTO reached (idx, at) VALUES (?, ?)", idx, now).rowsWritten) unlocked.push(idx);
      });
      // Also while a frame is being sent: the schedule books that row again once the frame is out.
      this.schedule.ensure("frame", Math.max(now, this.lastFrameAt + FRAME_EVERY_MS));
    }
    return { applied, frozen: false, total: this.total(), unlocked };
  }

  /** Read-only: a clan nobody has contributed to yet answers from the event's definition and writes nothing. */
  /** A shard with a member's socket asks for this clan's frames (idempotent). */
  async listen(source: string): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO listeners (source) VALUES (?)", source);
  }

  /** The clan with its top `limit` members and the caller's own line, ranked from idx_members_rank (no full sort). */
  async view(fallback: ClanInfo, playerId: string | null, limit = CLAN_MEMBERS_DEFAULT): Promise<ClanView> {
    const info = this.info() ?? fallback;
    const def = info.definition;
    const totals = this.totals();
    const total = sumOf(totals);
    const top = this.sql
      .exec<Member>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE contribution > 0 ORDER BY contribution DESC, first_at, player_id LIMIT ?`, Math.max(1, Math.min(1000, Math.floor(limit))))
      .toArray();
    const line = (m: Member, rank: number) => memberShare({ playerId: m.player_id, contribution: m.contribution, flagged: held(m) }, rank, total, def.thresholdPercent);
    const members = top.map((m, i) => line(m, i + 1));
    const own = playerId ? this.sql.exec<Member>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE player_id = ? AND contribution > 0`, playerId).toArray()[0] : undefined;
    const me = own ? (members.find((m) => m.playerId === playerId) ?? line(own, this.rankOf(own))) : null;
    const reached = new Map(this.sql.exec<{ idx: number; at: number }>("SELECT idx, at FROM reached").toArray().map((r) => [r.idx, r.at]));
    return {
      eventId: this.address.eventId,
      clanId: this.address.clanId,
      total,
      totals,
      completion: clanProgress(def, info.objectives, totals).completion,
      thresholdPercent: def.thresholdPercent,
      milestones: def.milestones.map((m) => ({
        index: m.index,
        progressThreshold: m.progressThreshold,
        reached: reached.has(m.index),
        reachedAt: reached.has(m.index) ? iso(reached.get(m.index)!) : null,
        rewards: m.rewards,
        unlockMessage: m.unlockMessage,
      })),
      members,
      me,
      finalized: this.meta("final") !== null,
    };
  }

  async finalize(info: ClanInfo | null): Promise<ClanFinal | null> {
    if (info) this.adopt(info);
    const done = this.meta("final");
    if (done) return { ...JSON.parse(done), ...this.standing() };
    const kept = this.info();
    if (!kept) return null;
    const now = Date.now();
    const total = this.total();
    const reached = this.sql.exec<{ idx: number }>("SELECT idx FROM reached ORDER BY idx").toArray().map((r) => r.idx);
    const eligible = this.eligible(kept);
    const summary = { clanId: this.address.clanId, awards: 0, held: 0 };
    this.ctx.storage.transactionSync(() => {
      for (const m of eligible) {
        for (const idx of reached) this.sql.exec("INSERT OR IGNORE INTO awards (player_id, idx, held) VALUES (?, ?, ?)", m.playerId, idx, m.held ? 1 : 0);
        if (m.held) summary.held++;
        else if (reached.length) summary.awards++;
      }
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('final', ?)", JSON.stringify(summary));
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, 'system', 'finalize', NULL, ?)", now, `total ${total}`);
    });
    this.schedule.set("grant", now);
    await this.settle(now);
    return { ...summary, ...this.standing() };
  }

  async rankAward(award: ClanRankAward): Promise<number> {
    const kept = this.info();
    const held = this.meta("rank");
    if (held) return JSON.parse(held).members;
    if (!kept || !this.meta("final")) return 0;
    const now = Date.now();
    const eligible = this.eligible(kept);
    this.ctx.storage.transactionSync(() => {
      for (const m of eligible) this.sql.exec("INSERT OR IGNORE INTO awards (player_id, idx, held) VALUES (?, ?, ?)", m.playerId, CLAN_RANK_INDEX, m.held ? 1 : 0);
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('rank', ?)", JSON.stringify({ ...award, members: eligible.length }));
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, 'system', 'rank_award', NULL, ?)", now, `rank ${award.rank}, tier ${award.rewardTier}`);
    });
    this.schedule.set("grant", now);
    await this.settle(now);
    return eligible.length;
  }

  async clearFlag(playerId: string, audit: Audit): Promise<Result<{ playerId: string; released: number }>> {
    const now = Date.now();
    const m = this.members().find((x) => x.player_id === playerId);
    if (!m || !held(m)) return fail(404, "flag_not_found", `player "${playerId}" is not flagged in this clan`);
    let released = 0;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE members SET cleared_at = ?, cleared_by = ? WHERE player_id = ?", now, audit.actor, playerId);
      released = this.sql.exec("UPDATE awards SET held = 0 WHERE player_id = ? AND held = 1", playerId).rowsWritten;
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, 'clear_flag', ?, ?)", now, audit.actor, playerId, audit.reason ?? null);
    });
    if (released) this.schedule.set("grant", now);
    await this.settle(now);
    return ok({ playerId, released });
  }

  /**
   * A member confirmed as a cheat: their contribution leaves the totals (milestones already reached stay reached, as
   * they always do), later pushes of theirs are ignored, and their held rewards are never released. Refused once final.
   */
  async excludeMember(playerId: string, audit: Audit): Promise<Result<{ playerId: string; removed: number }>> {
    if (this.meta("final")) return fail(409, "clan_finalized", "the clan is final; the member's held rewards stay held");
    const m = this.members().find((x) => x.player_id === playerId);
    if (!m) return fail(404, "member_not_found", `player "${playerId}" has not contributed to this clan`);
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const a of this.sql.exec<{ objective_id: string; amount: number }>("SELECT objective_id, amount FROM member_amounts WHERE player_id = ?", playerId).toArray()) {
        this.sql.exec("UPDATE totals SET total = total - ? WHERE objective_id = ?", a.amount, a.objective_id);
      }
      this.sql.exec("DELETE FROM member_amounts WHERE player_id = ?", playerId);
      this.sql.exec("UPDATE members SET contribution = 0, flagged = 1, cleared_at = NULL, excluded_at = ? WHERE player_id = ?", now, playerId);
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, ?, 'exclude', ?, ?)", now, audit.actor, playerId, audit.reason ?? null);
    });
    this.schedule.ensure("frame", Math.max(now, this.lastFrameAt + FRAME_EVERY_MS));
    await this.settle(now);
    return ok({ playerId, removed: m.contribution });
  }

  // ---- directory -------------------------------------------------------------------------------------------------

  /** Privacy: the member's rows here, or their anonymization (their contribution stays in the total). */
  async playerData(playerId: string, op: PlayerDataOp): Promise<PlayerDataPart> {
    const part = playerRows(this.ctx.storage, CLAN_PLAYER_TABLES, playerId, op);
    // A merge onto an excluded member can lower the total: the frame and the directory's standing follow.
    if (op.kind === "erase" && part.touched.member) this.schedule.ensure("frame", Math.max(Date.now(), this.lastFrameAt + FRAME_EVERY_MS));
    return part;
  }

  async report(s: ClanStanding): Promise<number> {
    return this.directory.report(s, Date.now());
  }

  async ranking(limit: number, cursor: string | null, clanId: string | null): Promise<Result<ClanRanking>> {
    return this.directory.page(Math.max(1, Math.min(1000, Math.floor(limit))), cursor, clanId);
  }

  async finalizeAll(info: ClanInfo | null, keepBoard: boolean): Promise<number> {
    if (info) this.adopt(info);
    const held = this.info();
    if (!held) return 0;
    const done = await this.directory.finalizeAll(held, keepBoard);
    await this.schedule.arm();
    return done;
  }

  override async alarm(): Promise<void> {
    await this.settle(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private settle(now: number): Promise<void> {
    return this.schedule.tick(now, (r) => this.run(r.kind, now));
  }

  private async run(kind: Kind, now: number): Promise<void> {
    if (kind === "frame") return this.sendFrame(now);
    if (kind === "report") return this.reportStanding(now);
    if (kind === "grant") return this.grant();
    if (kind === "project") return this.directory.project(now);
    const info = this.info();
    if (!info) return;
    return kind === "finalize" ? this.directory.finalizeStep(info, now) : this.directory.rankStep(info, now);
  }

  /** The clan_progress frame to every shard that pushed for this clan, and the clan's standing to the directory. */
  private async sendFrame(now: number) {
    const info = this.info();
    if (!info) return;
    this.lastFrameAt = now;
    const totals = this.totals();
    const unlocked = this.sql.exec<{ idx: number }>("SELECT idx FROM reached WHERE framed = 0 ORDER BY idx").toArray().map((r) => r.idx);
    // The top few from SQLite, not every member sorted in memory once a second (the member ranking's order).
    const top = this.sql
      .exec<{ player_id: string; contribution: number }>("SELECT player_id, contribution FROM members WHERE contribution > 0 ORDER BY contribution DESC, first_at, player_id LIMIT ?", TOP_N)
      .toArray()
      .map((m) => ({ playerId: m.player_id, contribution: m.contribution }));
    const frame = { type: "clan_progress" as const, eventId: this.address.eventId, clanId: this.address.clanId, total: sumOf(totals), completion: clanProgress(info.definition, info.objectives, totals).completion, unlocked, top, at: iso(now) };
    const sources = this.sql.exec<{ source: string }>("SELECT source FROM sources UNION SELECT source FROM listeners").toArray();
    await Promise.all(
      sources.map(({ source }) => {
        const s = parseShardName(source);
        return s ? progressShardActor(this.env, s.eventId, s.shardNo).clanFrame(this.address.clanId, frame) : 0;
      }),
    );
    if (unlocked.length) this.sql.exec(`UPDATE reached SET framed = 1 WHERE idx IN (${unlocked.map(() => "?").join(",")})`, ...unlocked);
    await this.reportStanding(now);
  }

  /** The standing to the directory, unless the last report was too recent: then the "report" row sends the latest later. */
  private async reportStanding(now: number) {
    if (now - this.lastReportAt < this.reportEvery) return this.schedule.ensure("report", this.lastReportAt + this.reportEvery);
    this.lastReportAt = now;
    this.reportEvery = await clanDirectory(this.env, this.address.eventId).report(this.standing());
  }

  /** Awards not yet handed to their players' shards (held ones wait for clear); each shard's grant is idempotent. */
  private async grant() {
    const info = this.info();
    if (!info) return;
    const rows = this.sql
      .exec<{ player_id: string; idx: number; source: string }>(
        "SELECT a.player_id, a.idx, m.source FROM awards a JOIN members m USING (player_id) WHERE a.held = 0 AND a.granted = 0",
      )
      .toArray();
    const rank = this.meta("rank");
    const rankAward = rank ? (JSON.parse(rank) as ClanRankAward) : null;
    const byShard = new Map<string, ClanAward[]>();
    for (const r of rows) {
      const m = r.idx === CLAN_RANK_INDEX ? (rankAward ? { rewards: rankAward.rewards, unlockMessage: `Clan rank ${rankAward.rank}` } : null) : info.definition.milestones[r.idx];
      if (!m) continue;
      const award: ClanAward = { playerId: r.player_id, clanId: this.address.clanId, milestoneIndex: r.idx, rewards: m.rewards, unlockMessage: m.unlockMessage };
      const list = byShard.get(r.source);
      if (list) list.push(award);
      else byShard.set(r.source, [award]);
    }
    for (const [source, awards] of byShard) {
      const shard = parseShardName(source);
      if (!shard) continue;
      // In chunks, each marked once its shard has it: a big clan's grant stays within an RPC's size, and a retry
      // resumes where it stopped.
      for (let i = 0; i < awards.length; i += GRANT_CHUNK) {
        const chunk = awards.slice(i, i + GRANT_CHUNK);
        await progressShardActor(this.env, shard.eventId, shard.shardNo).grantClanRewards(chunk);
        this.ctx.storage.transactionSync(() => {
          for (const a of chunk) this.sql.exec("UPDATE awards SET granted = 1 WHERE player_id = ? AND idx = ?", a.playerId, a.milestoneIndex);
        });
      }
    }
  }

  /** Members at or over the threshold (exactly, domain/clan.ts), and whether each is held by an uncleared flag. */
  private eligible(info: ClanInfo): Array<{ playerId: string; held: boolean }> {
    const members = this.members().filter((m) => m.contribution > 0);
    const shares = memberShares(members.map((m) => ({ playerId: m.player_id, contribution: m.contribution, at: m.first_at, flagged: false })), this.total(), info.definition.thresholdPercent);
    const flagged = new Set(members.filter(held).map((m) => m.player_id));
    return shares.filter((s) => s.eligible).map((s) => ({ playerId: s.playerId, held: flagged.has(s.playerId) }));
  }

  private standing(): ClanStanding {
    const info = this.info();
    const totals = this.totals();
    // A member row with nothing contributed (a flag that arrived first, kept for their later contribution) is no member yet.
    const members = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members WHERE contribution > 0").one().n;
    const reachedAt = Number(this.meta("reached_at") ?? 0);
    return { clanId: this.address.clanId, total: sumOf(totals), completion: info ? clanProgress(info.definition, info.objectives, totals).completion : 0, members, reachedAt };
  }

  private totals(): Record<string, number> {
    return Object.fromEntries(this.sql.exec<{ objective_id: string; total: number }>("SELECT objective_id, total FROM totals").toArray().map((r) => [r.objective_id, r.total]));
  }

  private total(): number {
    return this.sql.exec<{ t: number | null }>("SELECT SUM(total) AS t FROM totals").one().t ?? 0;
  }

  private members(): Member[] {
    return this.sql.exec<Member>(`SELECT ${MEMBER_COLUMNS} FROM members`).toArray();
  }

  /** 1 + the members ranked ahead (higher contribution, then earlier, then smaller id): a range count on the index. */
  private rankOf(m: Member): number {
    return (
      1 +
      this.sql
        .exec<{ n: number }>(
          RANK_COUNT,
          m.contribution,
          m.first_at,
          m.player_id,
        )
        .one().n
    );
  }

  /** The clan's definition arrives with its first push; it is fixed for the event, so the first copy stays. */
  private adopt(info: ClanInfo) {
    if (!this.meta("info")) this.sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('info', ?)", JSON.stringify(info));
  }

  private info(): ClanInfo | null {
    const v = this.meta("info");
    return v ? JSON.parse(v) : null;
  }

  private meta(k: string): string | null {
    return this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v ?? null;
  }
}

/** A member is held while flagged and not cleared since. */
const held = (m: Pick<Member, "flagged" | "cleared_at">) => m.flagged === 1 && m.cleared_at === null;
