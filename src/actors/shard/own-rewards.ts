// A player's own view of the event for claims: the event's milestones (with an adjusted player's assist) plus the rank reward their board handed back
// (milestone 999) and the clan rewards their clans did (900 + index, 950), each an extra unlocked milestone. Those
// differ per player, so auto-claims of them go one player at a time through that player's own view. The shard's
// auto-claims (the grace period's end, and rewards granted or released after the claim window closed) live here too:
// which players they pay, and through which view, is this module's question.
import type { EventInfo } from "../../domain/progress";
import { claimWindow } from "../../domain/rewards";
import type { ShardAdaptive } from "./adaptive";
import { unheld, type ShardAnticheat } from "./anticheat";
import type { ShardBoard } from "./board";
import type { ShardClan } from "./clan";
import type { ShardDrain } from "./drain";
import type { ShardEventCopy } from "./event-copy";
import type { ShardPlayers } from "./players";
import type { ShardRewards } from "./rewards";

export class ShardOwnRewards {
  constructor(
    private readonly players: ShardPlayers,
    private readonly rewards: ShardRewards,
    private readonly board: ShardBoard,
    private readonly clan: ShardClan,
    private readonly adaptive: ShardAdaptive,
    private readonly anticheat: ShardAnticheat,
    private readonly events: ShardEventCopy,
    private readonly drain: ShardDrain,
  ) {}

  view(info: EventInfo, playerId: string): { info: EventInfo; unlocked: number[] | null } {
    // An adjusted player's own milestones carry their assist (adaptive difficulty).
    const rank = this.board.withRankReward(this.adaptive.mechanics(info, playerId), playerId, this.players.get(playerId)?.state.unlockedMilestones ?? null);
    return this.clan.withClanRewards(rank.info, playerId, rank.unlocked);
  }

  /** Players here with a rank or clan reward, or an assist from adaptive difficulty. */
  rewarded(): string[] {
    return [...new Set([...this.board.rewarded(), ...this.clan.rewarded(), ...this.adaptive.assisted()])];
  }

  /** Late clan rewards (see ShardClan.grant) auto-claimed, each its own receipt, whatever the claim window says. */
  async claimLate(info: EventInfo, playerIds: Iterable<string>, now: number): Promise<number> {
    let claimed = 0;
    for (const playerId of new Set(playerIds)) {
      const late = this.clan.lateIndexes(playerId);
      if (late.length) claimed += (await this.rewards.autoClaim(this.view(info, playerId).info, [[playerId, late]], now)).claimed;
    }
    return claimed;
  }

  /** Everything each player may still claim in their own view, claimed for them. */
  async autoClaim(info: EventInfo, playerIds: Iterable<string>, now: number): Promise<{ claimed: number; undelivered: number }> {
    const result = { claimed: 0, undelivered: 0 };
    for (const playerId of new Set(playerIds)) {
      const own = this.view(info, playerId);
      const more = await this.rewards.autoClaim(own.info, [[playerId, own.unlocked ?? []]], now);
      result.claimed += more.claimed;
      result.undelivered = more.undelivered;
    }
    return result;
  }

  /** Called by the event object when the grace period ends; safe to call any number of times. */
  async autoClaimAll() {
    const info = await this.events.event(Date.now());
    if (!info) return { claimed: 0, undelivered: 0 };
    const holding = this.anticheat.holding();
    // Assisted players' milestones carry their booster: they are paid through their own view below.
    const result = await this.rewards.autoClaim(info, unheld(this.players.unlocked(), new Set([...holding, ...this.adaptive.assisted()])), Date.now());
    const rewarded = this.rewarded().filter((playerId) => !holding.has(playerId));
    if (rewarded.length) {
      const more = await this.autoClaim(info, rewarded, Date.now());
      result.claimed += more.claimed;
      result.undelivered = more.undelivered;
    }
    this.drain.ensure(Date.now());
    return result;
  }

  /**
   * A rank or clan reward granted (or a held one released by clear_flag, here or on the board) after the claim window
   * closed could never be claimed: it is auto-claimed at once, as archive did for everyone else's.
   */
  async claimIfClosed(playerIds: string[], clans = false): Promise<number> {
    const now = Date.now();
    const info = await this.events.event(now);
    if (!info || info.state === "cancelled") return 0;
    // Players whose rewards a statistical flag holds wait for ops (domain/review.ts).
    const holding = this.anticheat.holding();
    const free = playerIds.filter((playerId) => !holding.has(playerId));
    // A second clan's reward for a clan milestone already claimed is paid at once, as its own receipt.
    if (clans && (await this.claimLate(info, free, now))) this.drain.ensure(now);
    if (claimWindow(info, now).open) return 0;
    const { claimed } = await this.autoClaim(info, free, now);
    this.drain.ensure(now);
    return claimed;
  }
}
