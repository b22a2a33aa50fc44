// The leaderboard half of a progress shard. An accepted update that touches the board's source is folded into the
// player's pending row (aggregated by the board's operator, so a burst of updates is one entry); every ≤ 250 ms the
// cohort's own "board" schedule row (keyed by cohort, so one failing board backs off only itself) turns that cohort's
// pending rows into one numbered batch and pushes it to its board; the row keyed "" sends rank frames held back.
// The batch is stored before it is sent and re-sent with the same seq until the board acknowledges it, so a retried
// push never counts twice. The board answers with the new ranks, which go out as `rank` frames (one a second per
// player at most); after finalization the board hands rank rewards back here, where the ordinary claim path pays them.
import { GLOBAL_COHORT, aggregate, submission, type Applied } from "../../domain/leaderboard";
import type { Milestone, Player } from "../../domain/model";
import type { EventInfo, ProgressState, ProgressUpdate } from "../../domain/progress";
import { SECOND_MS, iso } from "../../domain/time";
import type { ServerFrame } from "../../domain/live";
import type { BoardInfo, RankAward, RankChange, ScorePush } from "../contracts";
import { boardDirectory, leaderboardActor } from "../stubs";
import type { ShardLive } from "./live";

/** Rank rewards are claimed as this milestone index through the ordinary claim route (milestones are 0…49). */
export const RANK_REWARD_INDEX = 999;
export const BOARD_PUSH_MS = 250;
const RANK_FRAME_EVERY_MS = SECOND_MS;

type Pending = { player_id: string; cohort_id: string; value: number | null; at: number; flagged: number };

export class ShardBoard {
  private readonly cohorts = new Map<string, string>();
  private readonly lastFrame = new Map<string, number>();
  private readonly deferred = new Map<string, ServerFrame>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly source: string,
    private readonly live: ShardLive,
  ) {}

  /** After an erasure: the player's cohort is no longer held. */
  forget(playerId: string): void {
    this.cohorts.delete(playerId);
  }

  known(playerId: string): string | null {
    const hit = this.cohorts.get(playerId);
    if (hit) return hit;
    const row = this.sql.exec<{ cohort_id: string }>("SELECT cohort_id FROM board_players WHERE player_id = ?", playerId).toArray()[0];
    if (row) this.cohorts.set(playerId, row.cohort_id);
    return row?.cohort_id ?? null;
  }

  /** The player's cohort: held here once the event's directory has decided it (one RPC per player per event; none for a global board). */
  async locate(board: BoardInfo, player: Player): Promise<string> {
    const held = this.known(player.playerId);
    if (held) return held;
    // One global board: nothing to decide, so the event's one directory object is not asked for every new player.
    const cohortId = board.definition.cohortSize === 0 ? GLOBAL_COHORT : await boardDirectory(this.env, board.eventId).locate(board, { playerId: player.playerId, level: player.level });
    this.sql.exec("INSERT OR IGNORE INTO board_players (player_id, cohort_id) VALUES (?, ?)", player.playerId, cohortId);
    this.cohorts.set(player.playerId, cohortId);
    return cohortId;
  }

  /** Folds one accepted request into the player's pending entry; the cohort to push to, or null if nothing changed. */
  record(info: EventInfo, playerId: string, updates: ProgressUpdate[], appliedSeqs: number[], before: ProgressState, after: ProgressState, completion: number, now: number): string | null {
    const board = info.board;
    const cohortId = this.known(playerId);
    if (!board || !cohortId) return null;
    const seqs = new Set(appliedSeqs);
    const applied: Applied[] = updates.filter((u) => seqs.has(u.seq)).map((u) => ({ objectiveId: u.objectiveId, amount: u.amount }));
    const value = submission(board.definition, info.objectives, applied, before.objectives, after.objectives, completion);
    if (value === null) return null;
    const held = this.sql.exec<{ value: number | null }>("SELECT value FROM board_pending WHERE player_id = ?", playerId).toArray()[0];
    const next = aggregate(held?.value ?? null, value, board.definition);
    // The time is when the pending value was reached: a lower "best" or a repeated "set" must not move it, or the
    // player would lose the tiebreak they had already won.
    this.sql.exec(
      `INSERT INTO board_pending (player_id, cohort_id, value, at, flagged) VALUES (?, ?, ?, ?, 0)
       ON CONFLICT (player_id) DO UPDATE SET value = excluded.value,
         at = CASE WHEN board_pending.value IS excluded.value THEN board_pending.at ELSE excluded.at END`,
      playerId,
      cohortId,
      next,
      now,
    );
    return cohortId;
  }

  /** An implausible request's player is flagged on their board (rank rewards are held until ops clear them). */
  flag(info: EventInfo, playerId: string, now: number): string | null {
    const cohortId = info.board ? this.known(playerId) : null;
    if (!cohortId) return null;
    this.sql.exec(
      `INSERT INTO board_pending (player_id, cohort_id, value, at, flagged) VALUES (?, ?, NULL, ?, 1)
       ON CONFLICT (player_id) DO UPDATE SET flagged = 1`,
      playerId,
      cohortId,
      now,
    );
    return cohortId;
  }

  /** The cohorts this shard still owes score changes to (pending rows, or a batch in flight). */
  owedCohorts(): string[] {
    return this.sql
      .exec<{ cohort_id: string }>("SELECT DISTINCT cohort_id FROM board_pending UNION SELECT cohort_id FROM board_inflight")
      .toArray()
      .map((r) => r.cohort_id);
  }

  /**
   * Everything owed, pushed now (finalization asks before it freezes the boards). Throws if any board is unreachable
   * or anything is still owed after the pushes, so the caller retries; nothing is dropped.
   */
  async flush(info: EventInfo, now: number): Promise<void> {
    const board = info.board;
    if (!board) return;
    const results = await Promise.allSettled(this.owedCohorts().map((c) => this.pushCohort(board, c, now)));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const left = this.owedCohorts();
    if (left.length) throw new Error(`score changes still owed to cohort(s) ${left.join(", ")}`);
  }

  /** When deferred rank frames are next due (null: none held back). */
  nextFrameAt(): number | null {
    let next: number | null = null;
    for (const playerId of this.deferred.keys()) {
      const due = (this.lastFrame.get(playerId) ?? 0) + RANK_FRAME_EVERY_MS;
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }

  /** Rank frames held back by the one-a-second limit that are now due; returns when the rest are (null: none). */
  sendDeferred(now: number): number | null {
    return this.flushDeferred(now);
  }

  /** A board's frame for the sockets here whose players are in that cohort. */
  frame(cohortId: string, frame: ServerFrame): number {
    let sent = 0;
    for (const { player_id } of this.sql.exec<{ player_id: string }>("SELECT player_id FROM board_players WHERE cohort_id = ?", cohortId).toArray()) {
      sent += this.live.broadcast(frame, player_id);
    }
    return sent;
  }

  grant(awards: RankAward[]): number {
    let n = 0;
    this.storage.transactionSync(() => {
      for (const a of awards) {
        n += this.sql.exec(
          "INSERT OR IGNORE INTO rank_rewards (player_id, cohort_id, rank, reward_tier, rewards) VALUES (?, ?, ?, ?, ?)",
          a.playerId,
          a.cohortId,
          a.rank,
          a.rewardTier,
          JSON.stringify(a.rewards),
        ).rowsWritten;
      }
    });
    return n;
  }

  /** The event as one player's claim sees it: their rank reward, if any, as milestone RANK_REWARD_INDEX, unlocked. */
  withRankReward(info: EventInfo, playerId: string, unlocked: readonly number[] | null): { info: EventInfo; unlocked: number[] | null } {
    const r = this.sql.exec<{ rank: number; rewards: string }>("SELECT rank, rewards FROM rank_rewards WHERE player_id = ?", playerId).toArray()[0];
    if (!r) return { info, unlocked: unlocked ? [...unlocked] : null };
    const milestone: Milestone = { index: RANK_REWARD_INDEX, progressThreshold: 1, rewards: JSON.parse(r.rewards), unlockMessage: `Final rank ${r.rank}` };
    return { info: { ...info, milestones: [...info.milestones, milestone] }, unlocked: [...(unlocked ?? []), RANK_REWARD_INDEX] };
  }

  rewarded(): string[] {
    return this.sql.exec<{ player_id: string }>("SELECT player_id FROM rank_rewards").toArray().map((r) => r.player_id);
  }

  /**
   * A "board" row of the shard's schedule: keyed by a cohort, that cohort's score changes to its board; keyed "" (and
   * after every push), rank frames held back by the one-a-second limit, when due.
   */
  async pushRow(info: EventInfo | null, cohortId: string, now: number): Promise<void> {
    if (!info) return;
    if (cohortId && info.board) await this.pushCohort(info.board, cohortId, now);
    this.sendDeferred(Date.now());
  }

  /**
   * One push to one cohort's board: the stored in-flight batch if an earlier push failed (same seq), else a new batch
   * of the pending rows (nothing pending: nothing sent). Throws if the board is unreachable; the batch stays in flight.
   */
  async pushCohort(board: BoardInfo, cohortId: string, now: number): Promise<void> {
    let stored = this.sql.exec<{ batch: string }>("SELECT batch FROM board_inflight WHERE cohort_id = ?", cohortId).toArray()[0];
    if (!stored) {
      if (!this.sql.exec("SELECT 1 FROM board_pending WHERE cohort_id = ? LIMIT 1", cohortId).toArray().length) return;
      this.storage.transactionSync(() => {
        const rows = this.sql.exec<Pending>("SELECT player_id, cohort_id, value, at, flagged FROM board_pending WHERE cohort_id = ?", cohortId).toArray();
        const seq = (this.sql.exec<{ seq: number }>("SELECT seq FROM board_seq WHERE cohort_id = ?", cohortId).toArray()[0]?.seq ?? 0) + 1;
        const batch: ScorePush = { source: this.source, seq, info: board, entries: rows.map((r) => ({ playerId: r.player_id, value: r.value, at: r.at, flagged: r.flagged === 1 })) };
        this.sql.exec("INSERT INTO board_seq (cohort_id, seq) VALUES (?, ?) ON CONFLICT (cohort_id) DO UPDATE SET seq = excluded.seq", cohortId, seq);
        this.sql.exec("INSERT INTO board_inflight (cohort_id, seq, batch) VALUES (?, ?, ?)", cohortId, seq, JSON.stringify(batch));
        this.sql.exec("DELETE FROM board_pending WHERE cohort_id = ?", cohortId);
      });
      stored = this.sql.exec<{ batch: string }>("SELECT batch FROM board_inflight WHERE cohort_id = ?", cohortId).toArray()[0];
    }
    const batch = JSON.parse(stored.batch) as ScorePush;
    const answer = await leaderboardActor(this.env, board.eventId, cohortId).push(batch);
    if (answer.frozen) this.refused(batch, cohortId);
    this.sql.exec("DELETE FROM board_inflight WHERE cohort_id = ? AND seq = ?", cohortId, batch.seq);
    for (const r of answer.ranks) this.rankFrame(board.eventId, cohortId, r, now);
  }

  /**
   * The board was already final when a batch of acknowledged progress reached it. Finalization flushes every shard
   * first, so this means a board was finalized around its shards (or a request raced the freeze): never silent.
   */
  private refused(batch: ScorePush, cohortId: string) {
    const scores = batch.entries.filter((e) => e.value !== null).length;
    if (!scores) return;
    this.sql.exec("INSERT INTO meta (k, v) VALUES ('board_refused', ?) ON CONFLICT (k) DO UPDATE SET v = CAST(v AS INTEGER) + excluded.v", scores);
    console.error(JSON.stringify({ msg: "LOST: acknowledged score changes refused by a finalized board", source: this.source, cohortId, seq: batch.seq, entries: scores, players: batch.entries.map((e) => e.playerId).slice(0, 20) }));
  }

  private rankFrame(eventId: string, cohortId: string, r: RankChange, now: number) {
    const frame: ServerFrame = { type: "rank", eventId, cohortId, rank: r.rank, score: r.score, total: r.total, at: iso(now) };
    const last = this.lastFrame.get(r.playerId) ?? 0;
    if (now - last >= RANK_FRAME_EVERY_MS) {
      this.lastFrame.set(r.playerId, now);
      this.deferred.delete(r.playerId);
      this.live.broadcast(frame, r.playerId);
    } else this.deferred.set(r.playerId, frame);
  }

  private flushDeferred(now: number): number | null {
    let next: number | null = null;
    for (const [playerId, frame] of this.deferred) {
      const due = (this.lastFrame.get(playerId) ?? 0) + RANK_FRAME_EVERY_MS;
      if (due <= now) {
        this.lastFrame.set(playerId, now);
        this.deferred.delete(playerId);
        this.live.broadcast(frame, playerId);
      } else next = next === null ? due : Math.min(next, due);
    }
    return next;
  }
}
