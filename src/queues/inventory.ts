// Consumer of `inventory-deliveries`: webhook deliveries that failed with a network error or a 5xx, retried with
// backoff. The last attempt sends the reward to the player's overflow inbox, so nothing earned is ever dropped.
import type { Grant } from "../actors/contracts";
import { playerInventoryActor } from "../actors/stubs";
import { isFinalAttempt, retryDelaySeconds } from "../domain/delivery";
import { logLine } from "../lib/log";

export async function consumeInventoryRetries(batch: MessageBatch<{ grant: Grant }>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const { grant } = message.body;
    try {
      // attempts counts this delivery of the message: 1 on its first arrival here (the first POST came before).
      const out = await playerInventoryActor(env, grant.playerId).retryDelivery(grant, isFinalAttempt(message.attempts));
      if (out.outcome === "retrying") message.retry({ delaySeconds: retryDelaySeconds(message.attempts + 1) });
      else message.ack();
    } catch (err) {
      logLine("error", "error", "inventory retry failed", { claimId: grant.claimId, error: String(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts + 1) });
    }
  }
}
