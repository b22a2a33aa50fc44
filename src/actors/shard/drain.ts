// The shard's write-behind to D1. Every accepted update is durable in the object's own SQLite before it is
// acknowledged; what that leaves owed to D1 (players whose revision is ahead of D1's, the outbox, undelivered rewards)
// is written by the "drain" row of the object's schedule, batched rather than per update. After every tick, rebook
// books again whatever is still owed (drain, clan and board pushes), so nothing owed is left without a row.
import { MINUTE_MS, SECOND_MS } from "../../domain/time";
import type { Schedule } from "../kit/schedule";
import { BOARD_PUSH_MS, type ShardBoard } from "./board";
import { CLAN_PUSH_MS, backingOff, type ShardClan } from "./clan";
import type { ShardEventCopy } from "./event-copy";
import type { ShardOutbox } from "./outbox";
import type { ShardPlayers } from "./players";
import type { ShardRewards } from "./rewards";

/** "drain": write-behind to D1; "sockets": close the sockets whose token expired; "board": score pushes (≤ 250 ms); "clan": contributions (≤ 200 ms; keyed by a clan: its own retry); "flag": a flag decision's board and clan effects, retried until they land; "adapt": adaptive difficulty's look at playing players. */
export type ShardRowKind = "drain" | "sockets" | "board" | "clan" | "flag" | "adapt";

/** Drain at most about once a second, or at once when this many players are waiting. */
const DRAIN_INTERVAL_MS = SECOND_MS;
const DRAIN_NOW_AT = 500;
/** A failed drain is retried after 1 s, 2 s, 4 s… up to a minute while D1 is unwell. */
export const DRAIN_BACKOFF = { baseMs: SECOND_MS, maxMs: MINUTE_MS };

export class ShardDrain {
  constructor(
    private readonly schedule: Schedule<ShardRowKind>,
    private readonly env: Env,
    private readonly address: { eventId: string; shardNo: number },
    private readonly events: ShardEventCopy,
    private readonly players: ShardPlayers,
    private readonly outbox: ShardOutbox,
    private readonly rewards: ShardRewards,
    private readonly board: ShardBoard,
    private readonly clan: ShardClan,
  ) {}

  /** On the hot path: ensure() answers from memory while a drain is known to be booked (a storage read per update measured a third of the write's cost). */
  ensure(now: number) {
    this.schedule.ensure("drain", this.players.dirty.size >= DRAIN_NOW_AT ? now : now + DRAIN_INTERVAL_MS);
  }

  /**
   * One drain. If D1 refuses the batch this throws: nothing was marked written, so nothing is lost, and the schedule
   * keeps the row and backs off while D1 is unwell.
   */
  async run(failedAttempts = 0) {
    // A shard that never learned of its event has nothing to write.
    if (!this.events.held) return;
    // Counted from the drain's start: players changing while it awaits D1 belong to the next drain, and must not
    // make every update meanwhile ask for that next drain at once.
    this.players.dirty.clear();
    await this.rewards.deliverPending(200);
    // The schedule's stored attempt count is the failed tries before this one: the alerts' sync failure rate.
    await this.outbox.flush(this.env.DB, this.address.eventId, { shard: this.address.shardNo, failedAttempts, now: Date.now() });
  }

  /** After every tick: if anything is still owed (more than one drain's worth, or written meanwhile), drain again. */
  async rebook() {
    if (this.events.held && this.outbox.owed() + this.rewards.undelivered() > 0) this.ensure(Date.now());
    if (!this.events.held) return;
    if (this.clan.owed(backingOff(this.schedule)) > 0) this.schedule.ensure("clan", Date.now() + CLAN_PUSH_MS);
    // One row per cohort: a failing board backs off alone while the others keep their 250 ms.
    for (const cohort of this.board.owedCohorts()) this.schedule.ensure("board", Date.now() + BOARD_PUSH_MS, cohort);
    const frames = this.board.nextFrameAt();
    if (frames !== null) this.schedule.ensure("board", frames, "");
  }
}
