// A player's own view of the event for claims: the event's milestones (with an adjusted player's assist) plus the rank reward their board handed back
// (milestone 999) and the clan rewards their clans did (900 + index, 950), each an extra unlocked milestone. Those
// differ per player, so auto-claims of them go one player at a time through that player's own view.
import type { EventInfo } from "../../domain/progress";
import type { ShardAdaptive } from "./adaptive";
import type { ShardBoard } from "./board";
import type { ShardClan } from "./clan";
import type { ShardPlayers } from "./players";
import type { ShardRewards } from "./rewards";

export class ShardOwnRewards {
  constructor(
    private readonly players: ShardPlayers,
    private readonly rewards: ShardRewards,
    private readonly board: ShardBoard,
    private readonly clan: ShardClan,
    private readonly adaptive: ShardAdaptive,
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
}
