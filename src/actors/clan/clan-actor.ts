// ClanEventActor: one Durable Object per (event, clan), the single writer of that clan's total, its members'
// contributions and its milestones; one more of the class per event (named CLAN_DIRECTORY) keeps every clan's latest
// standing for the clan ranking and for finalization. Progress shards push contributions aggregated per drain,
// numbered per shard, so a retried push is recognised and never counted twice. Online members hear of it in
// clan_progress frames (at most one a second per clan) through the shards that pushed, which hold the sockets.
// At expiry the event object has the directory finalize every clan once: each reached milestone goes to every member
// at or over the threshold, through the shards' ordinary claim path; flagged members are held until ops clear them.
import { DurableObject } from "cloudflare:workers";
import { clanProgress, memberShares, parseClanName, sumOf } from "../../domain/clan";
import { parseShardName } from "../../domain/sharding";
import { MINUTE_MS, SECOND_MS, iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import type { Audit, ClanAward, ClanEventActorRpc, ClanInfo, ClanPush, ClanRanking, ClanStanding, ClanView } from "../contracts";
import { migrate } from "../kit/migrate";
import { Schedule } from "../kit/schedule";
import { clanActor, clanDirectory, progressShardActor } from "../stubs";
import { CLAN_SCHEMA } from "./schema";

/** "frame": clan_progress to the shards and the standing to the directory (≤ 1/s); "grant": rewards to the shards. */
type Kind = "frame" | "grant";
const FRAME_EVERY_MS = SECOND_MS;
const TOP_N = 5;

type Member = { player_id: string; contribution: number; first_at: number; source: string; flagged: number; cleared_at: number | null };

export class ClanEventActor extends DurableObject<Env> implements ClanEventActorRpc {
  private readonly sql: SqlStorage;
  private readonly schedule: Schedule<Kind>;
  private readonly address: { eventId: string; clanId: string };
  private lastFrameAt = 0;
  /** Bumped by every applied push: a push that lands while a frame is being sent books the next one (see sendFrame). */
  private changes = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, CLAN_SCHEMA);
    this.schedule = new Schedule<Kind>(ctx, () => ({ baseMs: SECOND_MS, maxMs: MINUTE_MS }));
    this.address = parseClanName(ctx.id.name ?? "") ?? { eventId: "", clanId: "" };
  }

  // ---- clan ------------------------------------------------------------------------------------------------------

  async push(batch: ClanPush): Promise<{ applied: boolean; frozen: boolean; total: number; unlocked: number[] }> {
    const now = Date.now();
    this.adopt(batch.info);
    // The directory must know every clan before its first contribution counts, or finalization could miss it.
    if (!this.meta("registered")) {
      await clanDirectory(this.env, this.address.eventId).report(this.standing());
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('registered', '1')");
    }
    if (this.meta("final")) return { applied: false, frozen: true, total: this.total(), unlocked: [] };
    const last = this.sql.exec<{ seq: number }>("SELECT seq FROM sources WHERE source = ?", batch.source).toArray()[0]?.seq ?? 0;
    const applied = batch.seq > last;
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
        const { reached } = clanProgress(batch.info.definition, batch.info.objectives, this.totals());
        for (const idx of reached) if (this.sql.exec("INSERT OR IGNORE INTO reached (idx, at) VALUES (?, ?)", idx, now).rowsWritten) unlocked.push(idx);
      });
      this.changes++;
      this.schedule.ensure("frame", Math.max(now, this.lastFrameAt + FRAME_EVERY_MS));
    }
    return { applied, frozen: false, total: this.total(), unlocked };
  }

  /** Read-only: a clan nobody has contributed to yet answers from the event's definition and writes nothing. */
  /** A shard with a member's socket asks for this clan's frames (idempotent). */
  async listen(source: string): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO listeners (source) VALUES (?)", source);
  }

  async view(fallback: ClanInfo, playerId: string | null): Promise<ClanView> {
    const info = this.info() ?? fallback;
    const def = info.definition;
    const totals = this.totals();
    const total = sumOf(totals);
    const members = memberShares(this.members().map((m) => ({ playerId: m.player_id, contribution: m.contribution, at: m.first_at, flagged: held(m) })), total, def.thresholdPercent);
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
      me: playerId ? (members.find((m) => m.playerId === playerId) ?? null) : null,
      finalized: this.meta("final") !== null,
    };
  }

  async finalize(info: ClanInfo | null): Promise<{ clanId: string; awards: number; held: number } | null> {
    if (info) this.adopt(info);
    const done = this.meta("final");
    if (done) return JSON.parse(done);
    const kept = this.info();
    if (!kept) return null;
    const now = Date.now();
    const total = this.total();
    const reached = this.sql.exec<{ idx: number }>("SELECT idx FROM reached ORDER BY idx").toArray().map((r) => r.idx);
    const shares = memberShares(this.members().map((m) => ({ playerId: m.player_id, contribution: m.contribution, at: m.first_at, flagged: false })), total, kept.definition.thresholdPercent);
    const flagged = new Set(this.members().filter(held).map((m) => m.player_id));
    const eligible = shares.filter((s) => s.eligible);
    const summary = { clanId: this.address.clanId, awards: 0, held: 0 };
    this.ctx.storage.transactionSync(() => {
      for (const s of eligible) {
        const isHeld = flagged.has(s.playerId);
        for (const idx of reached) this.sql.exec("INSERT OR IGNORE INTO awards (player_id, idx, held) VALUES (?, ?, ?)", s.playerId, idx, isHeld ? 1 : 0);
        if (isHeld) summary.held++;
        else if (reached.length) summary.awards++;
      }
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('final', ?)", JSON.stringify(summary));
      this.sql.exec("INSERT INTO audit (at, actor, action, player_id, reason) VALUES (?, 'system', 'finalize', NULL, ?)", now, `total ${total}`);
    });
    this.schedule.set("grant", now);
    await this.settle(now);
    return summary;
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
    this.changes++;
    this.schedule.ensure("frame", Math.max(now, this.lastFrameAt + FRAME_EVERY_MS));
    await this.settle(now);
    return ok({ playerId, removed: m.contribution });
  }

  // ---- directory -------------------------------------------------------------------------------------------------

  async report(s: ClanStanding): Promise<void> {
    this.sql.exec(
      `INSERT INTO clans (clan_id, total, completion, members, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (clan_id) DO UPDATE SET total = excluded.total, completion = excluded.completion, members = excluded.members, updated_at = excluded.updated_at`,
      s.clanId,
      s.total,
      s.completion,
      s.members,
      Date.now(),
    );
  }

  async ranking(limit: number): Promise<ClanRanking> {
    const rows = this.sql
      .exec<{ clan_id: string; total: number; completion: number; members: number }>("SELECT clan_id, total, completion, members FROM clans ORDER BY total DESC, clan_id LIMIT ?", limit)
      .toArray();
    return { eventId: this.address.eventId, clans: rows.map((r, i) => ({ rank: i + 1, clanId: r.clan_id, total: r.total, completion: r.completion, members: r.members })) };
  }

  async finalizeAll(info: ClanInfo | null): Promise<number> {
    const clans = this.sql.exec<{ clan_id: string }>("SELECT clan_id FROM clans").toArray();
    const done = await Promise.all(clans.map((c) => clanActor(this.env, this.address.eventId, c.clan_id).finalize(info)));
    return done.filter((d) => d !== null).length;
  }

  override async alarm(): Promise<void> {
    await this.settle(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private settle(now: number): Promise<void> {
    return this.schedule.tick(now, (r) => (r.kind === "grant" ? this.grant() : this.sendFrame(now)));
  }

  /** The clan_progress frame to every shard that pushed for this clan, and the clan's standing to the directory. */
  private async sendFrame(now: number) {
    const info = this.info();
    if (!info) return;
    this.lastFrameAt = now;
    const seen = this.changes;
    const totals = this.totals();
    const unlocked = this.sql.exec<{ idx: number }>("SELECT idx FROM reached WHERE framed = 0 ORDER BY idx").toArray().map((r) => r.idx);
    const top = this.members()
      .sort((a, b) => b.contribution - a.contribution || a.first_at - b.first_at)
      .slice(0, TOP_N)
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
    await clanDirectory(this.env, this.address.eventId).report(this.standing());
    // A push applied during the awaits above found this row still booked and did not book another; the tick deletes
    // the row it ran unless it moved, so the next frame is booked here (moving the row keeps it).
    if (this.changes !== seen) this.schedule.set("frame", now + FRAME_EVERY_MS);
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
    const byShard = new Map<string, ClanAward[]>();
    for (const r of rows) {
      const m = info.definition.milestones[r.idx];
      const award: ClanAward = { playerId: r.player_id, clanId: this.address.clanId, milestoneIndex: r.idx, rewards: m.rewards, unlockMessage: m.unlockMessage };
      byShard.set(r.source, [...(byShard.get(r.source) ?? []), award]);
    }
    for (const [source, awards] of byShard) {
      const shard = parseShardName(source);
      if (!shard) continue;
      await progressShardActor(this.env, shard.eventId, shard.shardNo).grantClanRewards(awards);
      this.ctx.storage.transactionSync(() => {
        for (const a of awards) this.sql.exec("UPDATE awards SET granted = 1 WHERE player_id = ? AND idx = ?", a.playerId, a.milestoneIndex);
      });
    }
  }

  private standing(): ClanStanding {
    const info = this.info();
    const totals = this.totals();
    const members = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n;
    return { clanId: this.address.clanId, total: sumOf(totals), completion: info ? clanProgress(info.definition, info.objectives, totals).completion : 0, members };
  }

  private totals(): Record<string, number> {
    return Object.fromEntries(this.sql.exec<{ objective_id: string; total: number }>("SELECT objective_id, total FROM totals").toArray().map((r) => [r.objective_id, r.total]));
  }

  private total(): number {
    return this.sql.exec<{ t: number | null }>("SELECT SUM(total) AS t FROM totals").one().t ?? 0;
  }

  private members(): Member[] {
    return this.sql.exec<Member>("SELECT player_id, contribution, first_at, source, flagged, cleared_at FROM members").toArray();
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
