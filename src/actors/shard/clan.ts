// The clan half of a progress shard. An accepted update that raises a clan-scoped objective is a contribution to the
// clan named in the player's token at that moment (it stays with that clan whatever the token says later); it is
// folded into the player's pending row for that clan, and every ≤ 200 ms the "clan" schedule row turns each clan's
// pending rows into one numbered batch pushed to that clan's object. The batch is stored before it is sent and
// re-sent with the same seq until the clan acknowledges it, so a retried push never counts twice. Clan frames come
// back here for the sockets whose token names the clan; clan milestone rewards come back as claimable milestones.
import { CLAN_REWARD_BASE, clanIdOf, clanObjectives, contribution } from "../../domain/clan";
import { encodeFrame, type ServerFrame } from "../../domain/live";
import type { ClanDefinition, Milestone, Player } from "../../domain/model";
import type { EventInfo, ProgressState } from "../../domain/progress";
import type { ClanAward, ClanInfo, ClanPush } from "../contracts";
import { clanActor } from "../stubs";
import { clanTag } from "./live";

export const CLAN_PUSH_MS = 200;
/** Clans pushed per invocation (at most this many at once): a shard owing thousands of clans stays within its subrequests. */
const PUSH_CHUNK = 200;
const PUSH_CONCURRENCY = 50;
/** Chunks a flush may push in one call before it asks to be called again. */
const FLUSH_CHUNKS = 4;

const NONE: ReadonlySet<string> = new Set();
/** A late clan reward's index: the clan milestone's claim index plus a multiple of this. */
export const LATE_STEP = 1000;

type Pending = { player_id: string; clan_id: string; amounts: string; at: number; flagged: number };

/** The "clan" rows on the shard's own schedule (the kit's Schedule): unkeyed for every clan, keyed by a clan backing off alone. */
export type ClanRows = { list(kind: "clan"): Array<{ key: string }>; failed(kind: "clan", key: string, now: number, err: unknown): unknown };

/** The clans backing off on their own rows, left out of the unkeyed row's pushes and of what it counts as owed. */
export function backingOff(rows: ClanRows): Set<string> {
  return new Set(rows.list("clan").flatMap((r) => (r.key ? [r.key] : [])));
}

export class ShardClan {
  /** Clans this shard has asked for frames since it woke (asking again after an eviction is harmless). */
  private readonly listening = new Set<string>();
  /** Clans per push (tests lower it to cross the chunk boundary with a few clans). */
  chunk = PUSH_CHUNK;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly source: string,
  ) {}

  /** Folds one accepted request's clan contribution into the pending row; true if there is something to push. */
  record(info: EventInfo, player: Player, before: ProgressState, after: ProgressState, now: number): boolean {
    const clan = clanIdOf(player);
    if (!info.clan || !clan) return false;
    const amounts = contribution(info.clan, before.objectives, after.objectives);
    if (Object.keys(amounts).length === 0) return false;
    const held = this.sql.exec<{ amounts: string }>("SELECT amounts FROM clan_pending WHERE player_id = ? AND clan_id = ?", player.playerId, clan).toArray()[0];
    const sum: Record<string, number> = held ? JSON.parse(held.amounts) : {};
    for (const [id, a] of Object.entries(amounts)) sum[id] = (sum[id] ?? 0) + a;
    this.sql.exec(
      `INSERT INTO clan_pending (player_id, clan_id, amounts, at, flagged) VALUES (?, ?, ?, ?, 0)
       ON CONFLICT (player_id, clan_id) DO UPDATE SET amounts = excluded.amounts`,
      player.playerId,
      clan,
      JSON.stringify(sum),
      now,
    );
    return true;
  }

  /** A refused request's player is flagged in their clan (their clan rewards are held until ops clear them). */
  flag(info: EventInfo, player: Player, now: number): boolean {
    const clan = clanIdOf(player);
    if (!info.clan || !clan) return false;
    this.sql.exec(
      `INSERT INTO clan_pending (player_id, clan_id, amounts, at, flagged) VALUES (?, ?, '{}', ?, 1)
       ON CONFLICT (player_id, clan_id) DO UPDATE SET flagged = 1`,
      player.playerId,
      clan,
      now,
    );
    return true;
  }

  /** Rows owed to the clans, leaving out those of `except` (clans backing off on their own schedule rows). */
  owed(except: ReadonlySet<string> = NONE): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT (SELECT COUNT(*) FROM clan_pending WHERE clan_id NOT IN (SELECT value FROM json_each(?1)))
              + (SELECT COUNT(*) FROM clan_inflight WHERE clan_id NOT IN (SELECT value FROM json_each(?1))) AS n`,
        JSON.stringify([...except]),
      )
      .one().n;
  }

  /**
   * Everything owed, pushed now (the event object asks before the clans finalize). Throws if any clan is unreachable
   * or anything is still owed after the pushes, so the caller retries; nothing is dropped.
   */
  async flush(info: EventInfo): Promise<void> {
    // A clan with a batch in flight sends that batch first, so what was folded in meanwhile may need a second round.
    for (let round = 0; round < FLUSH_CHUNKS && this.owed() > 0; round++) {
      const failed = await this.push(info);
      if (failed.length) throw failed[0].reason;
    }
    const left = this.owed();
    if (left) throw new Error(`${left} clan contribution row(s) still owed`);
  }

  /**
   * One push per clan with something owed, for up to PUSH_CHUNK clans, oldest contribution first (a batch in flight
   * before anything pending), so no clan waits behind a steady stream of others; the caller books the rest. Clans in
   * `except` (backing off on their own schedule rows) are left out. Never throws for one clan's sake: the clans whose
   * push failed are returned, what they owed stays in flight for their retry, and every other clan is pushed.
   */
  async push(info: EventInfo, except: ReadonlySet<string> = NONE): Promise<Array<{ clanId: string; reason: unknown }>> {
    if (!info.clan) return [];
    const clanInfo = this.clanInfo(info, info.clan);
    const clans = this.sql
      .exec<{ clan_id: string }>(
        `SELECT clan_id FROM (SELECT clan_id, 0 AS at FROM clan_inflight UNION ALL SELECT clan_id, at FROM clan_pending)
         WHERE clan_id NOT IN (SELECT value FROM json_each(?)) GROUP BY clan_id ORDER BY MIN(at), clan_id LIMIT ?`,
        JSON.stringify([...except]),
        this.chunk,
      )
      .toArray()
      .map((r) => r.clan_id);
    const failed: Array<{ clanId: string; reason: unknown }> = [];
    for (let i = 0; i < clans.length; i += PUSH_CONCURRENCY) {
      const slice = clans.slice(i, i + PUSH_CONCURRENCY);
      const results = await Promise.allSettled(slice.map((c) => this.pushClan(clanInfo, c)));
      results.forEach((r, k) => r.status === "rejected" && failed.push({ clanId: slice[k], reason: r.reason }));
    }
    return failed;
  }

  /**
   * A "clan" row of the shard's schedule. Unkeyed, it pushes every clan that is not backing off; a clan whose push
   * fails gets its own row keyed by its id (its batch stays in flight), which backs off alone, like a board's.
   */
  async pushRow(info: EventInfo | null, clanId: string, rows: ClanRows): Promise<void> {
    if (!info) return;
    if (clanId) return this.pushOne(info, clanId);
    for (const f of await this.push(info, backingOff(rows))) rows.failed("clan", f.clanId, Date.now(), f.reason);
  }

  /** One clan's own retry (its schedule row): throws if it is still unreachable, so that row backs off alone. */
  async pushOne(info: EventInfo, clanId: string): Promise<void> {
    if (info.clan) await this.pushClan(this.clanInfo(info, info.clan), clanId);
  }

  /** A member's socket opened here: the clan sends its frames here too, even before they contribute through this shard. */
  listen(info: EventInfo, player: Player): Promise<void> | null {
    const clan = clanIdOf(player);
    if (!info.clan || !clan || this.listening.has(clan)) return null;
    this.listening.add(clan);
    return clanActor(this.env, info.eventId, clan)
      .listen(this.source)
      .catch(() => void this.listening.delete(clan));
  }

  /** A clan's frame to the sockets here whose token names that clan (tagged with it when accepted). One encode, many sends. */
  frame(clanId: string, frame: ServerFrame): number {
    const text = encodeFrame(frame);
    let sent = 0;
    for (const ws of this.ctx.getWebSockets(clanTag(clanId))) {
      try {
        ws.send(text);
        sent++;
      } catch {
        // A socket that is closing; the runtime reports its close separately.
      }
    }
    return sent;
  }

  /**
   * Records clan rewards handed back by a finalized clan, once per (player, clan, milestone). One for a milestone the
   * player has already claimed (or is claiming) from another clan they were in is late: it gets its own index,
   * LATE_STEP above (1900 beside 900, then 2900…), so it is paid as its own receipt (see lateIndexes) instead of
   * being folded into a claim that is already made. Returns how many rows were added.
   */
  grant(awards: ClanAward[], taken: (playerId: string, index: number) => boolean): number {
    let n = 0;
    this.ctx.storage.transactionSync(() => {
      for (const a of awards) {
        const index = CLAN_REWARD_BASE + a.milestoneIndex;
        const known = this.sql.exec("SELECT 1 FROM clan_rewards WHERE player_id = ? AND clan_id = ? AND milestone_index % ? = ?", a.playerId, a.clanId, LATE_STEP, index).toArray();
        if (known.length) continue;
        const highest = this.sql.exec<{ i: number | null }>("SELECT MAX(milestone_index) AS i FROM clan_rewards WHERE player_id = ? AND milestone_index % ? = ?", a.playerId, LATE_STEP, index).one().i;
        const at = taken(a.playerId, index) ? Math.max(highest ?? index, index) + LATE_STEP : index;
        n += this.sql.exec(
          "INSERT OR IGNORE INTO clan_rewards (player_id, milestone_index, clan_id, rewards, unlock_message) VALUES (?, ?, ?, ?, ?)",
          a.playerId,
          at,
          a.clanId,
          JSON.stringify(a.rewards),
          a.unlockMessage,
        ).rowsWritten;
      }
    });
    return n;
  }

  /** The player's late clan rewards (their own indexes), to be auto-claimed as they arrive. */
  lateIndexes(playerId: string): number[] {
    return this.sql.exec<{ i: number }>("SELECT milestone_index AS i FROM clan_rewards WHERE player_id = ? AND milestone_index >= ?", playerId, LATE_STEP).toArray().map((r) => r.i);
  }

  /**
   * The event as one player's claim sees it: each clan reward granted to them as milestone CLAN_REWARD_BASE + index,
   * unlocked. The same index from two clans (a member who switched, eligible in both) is one milestone paying both
   * when both arrived before the claim; one arriving after is a late reward on its own index.
   */
  withClanRewards(info: EventInfo, playerId: string, unlocked: number[] | null): { info: EventInfo; unlocked: number[] | null } {
    const rows = this.sql
      .exec<{ milestone_index: number; rewards: string; unlock_message: string }>("SELECT milestone_index, rewards, unlock_message FROM clan_rewards WHERE player_id = ? ORDER BY milestone_index, clan_id", playerId)
      .toArray();
    if (!rows.length) return { info, unlocked };
    const extra = new Map<number, Milestone>();
    for (const r of rows) {
      const held = extra.get(r.milestone_index);
      if (held) held.rewards = [...held.rewards, ...JSON.parse(r.rewards)];
      else extra.set(r.milestone_index, { index: r.milestone_index, progressThreshold: 1, rewards: JSON.parse(r.rewards), unlockMessage: r.unlock_message });
    }
    return { info: { ...info, milestones: [...info.milestones, ...extra.values()] }, unlocked: [...(unlocked ?? []), ...extra.keys()] };
  }

  rewarded(): string[] {
    return this.sql.exec<{ player_id: string }>("SELECT DISTINCT player_id FROM clan_rewards").toArray().map((r) => r.player_id);
  }

  private clanInfo(info: EventInfo, definition: ClanDefinition): ClanInfo {
    return { eventId: info.eventId, objectives: clanObjectives(definition, info.objectives), definition };
  }

  private async pushClan(info: ClanInfo, clanId: string) {
    let stored = this.sql.exec<{ batch: string }>("SELECT batch FROM clan_inflight WHERE clan_id = ?", clanId).toArray()[0];
    if (!stored) {
      // Nothing owed (a clan's own retry row after a flush already took its batch): no empty batch.
      if (!this.sql.exec("SELECT 1 FROM clan_pending WHERE clan_id = ? LIMIT 1", clanId).toArray().length) return;
      this.ctx.storage.transactionSync(() => {
        const rows = this.sql.exec<Pending>("SELECT player_id, clan_id, amounts, at, flagged FROM clan_pending WHERE clan_id = ?", clanId).toArray();
        const seq = (this.sql.exec<{ seq: number }>("SELECT seq FROM clan_seq WHERE clan_id = ?", clanId).toArray()[0]?.seq ?? 0) + 1;
        const batch: ClanPush = { source: this.source, seq, info, entries: rows.map((r) => ({ playerId: r.player_id, amounts: JSON.parse(r.amounts), at: r.at, flagged: r.flagged === 1 })) };
        this.sql.exec("INSERT INTO clan_seq (clan_id, seq) VALUES (?, ?) ON CONFLICT (clan_id) DO UPDATE SET seq = excluded.seq", clanId, seq);
        this.sql.exec("INSERT INTO clan_inflight (clan_id, seq, batch) VALUES (?, ?, ?)", clanId, seq, JSON.stringify(batch));
        this.sql.exec("DELETE FROM clan_pending WHERE clan_id = ?", clanId);
      });
      stored = this.sql.exec<{ batch: string }>("SELECT batch FROM clan_inflight WHERE clan_id = ?", clanId).toArray()[0];
    }
    const batch = JSON.parse(stored.batch) as ClanPush;
    const answer = await clanActor(this.env, info.eventId, clanId).push(batch);
    if (answer.frozen) this.refused(batch, clanId);
    this.sql.exec("DELETE FROM clan_inflight WHERE clan_id = ? AND seq = ?", clanId, batch.seq);
  }

  /**
   * The clan was already final when a batch of acknowledged contributions reached it. Finalization flushes every shard
   * first, so this means a clan was finalized around its shards (or a request raced the freeze): never silent.
   */
  private refused(batch: ClanPush, clanId: string) {
    const rows = batch.entries.filter((e) => Object.keys(e.amounts).length > 0).length;
    if (!rows) return;
    this.sql.exec("INSERT INTO meta (k, v) VALUES ('clan_refused', ?) ON CONFLICT (k) DO UPDATE SET v = CAST(v AS INTEGER) + excluded.v", rows);
    console.error(JSON.stringify({ msg: "LOST: acknowledged clan contributions refused by a finalized clan", source: this.source, clanId, seq: batch.seq, entries: rows, players: batch.entries.map((e) => e.playerId).slice(0, 20) }));
  }
}
