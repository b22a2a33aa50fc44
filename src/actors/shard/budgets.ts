// Each player's progress budget on this shard, HTTP and sockets together (domain/limits.ts decides). In memory: the
// hot path writes nothing for it, and an object is only evicted after it has been idle, when every budget has
// refilled anyway.
import { isRested, progressPolicy, retryAfterSeconds, spendProgress, type ProgressBudget, type ProgressPolicy } from "../../domain/limits";
import { fail, type Result } from "../../lib/result";

/** Past this many players' budgets in memory, the ones that have refilled (and so say nothing) are dropped. */
const BUDGETS_KEPT = 10_000;

export class ShardBudgets {
  private readonly budgets = new Map<string, ProgressBudget>();
  private readonly policy: ProgressPolicy;

  constructor(requestsPerSecond: number, updatesPerSecond: number) {
    this.policy = progressPolicy(requestsPerSecond, updatesPerSecond);
  }

  /** Charges a progress request to the player's budget; the 429 to answer if it is spent, else null. */
  spend(playerId: string, updates: number, now: number): Result<never> | null {
    const spent = spendProgress(this.budgets.get(playerId), updates, this.policy, now);
    if (this.budgets.size >= BUDGETS_KEPT && !this.budgets.has(playerId)) {
      for (const [id, b] of this.budgets) if (isRested(b, this.policy, now)) this.budgets.delete(id);
    }
    this.budgets.set(playerId, spent.budget);
    if (spent.ok) return null;
    const { requests, updates: perUpdate } = this.policy;
    return fail(429, "rate_limited", `at most ${requests.perSecond} progress requests and ${perUpdate.perSecond} updates per second per player`, {
      retryAfter: retryAfterSeconds(spent.retryAfterMs),
    });
  }
}
