// Worker entry: HTTP (src/app.ts), the queue dispatcher and the hourly cron. All state lives in the Durable Objects exported below and in D1.
import { readConfig } from "./config";
import { app } from "./app";
import { consumeInventoryRetries } from "./queues/inventory";
import { consumeDeadPush, consumePush, type PushMessage } from "./queues/push";
import type { Grant } from "./actors/contracts";
import { runAlerts } from "./jobs/alerts";
import { runHourly } from "./jobs/hourly";
import { logLine } from "./lib/log";

export { EventActor } from "./actors/event/event-actor";
export { SchedulerActor } from "./actors/scheduler/scheduler-actor";
export { ProgressShardActor } from "./actors/shard/progress-shard-actor";
export { PlayerInventoryActor } from "./actors/inventory/inventory-actor";
export { LeaderboardActor } from "./actors/leaderboard/leaderboard-actor";
export { ClanEventActor } from "./actors/clan/clan-actor";
export { PrivacyActor } from "./actors/privacy/privacy-actor";
export { SeriesActor } from "./actors/series/series-actor";

/** Each queue's consumer, by the name readConfig gives it; the names themselves live in wrangler.toml. */
async function queue(batch: MessageBatch, env: Env): Promise<void> {
  const names = readConfig(env).queues;
  if (batch.queue === names.inventoryDeliveries) return consumeInventoryRetries(batch as MessageBatch<{ grant: Grant }>, env);
  if (batch.queue === names.push) return consumePush(batch as MessageBatch<PushMessage>, env);
  if (batch.queue === names.pushDeadLetter) return consumeDeadPush(batch as MessageBatch<PushMessage>, env);
  // A queue wired to this Worker that the config does not name (a renamed queue, a [vars] typo): guessing a
  // consumer could mark rows wrongly, acking would lose the messages. Retrying keeps them until the config is fixed.
  logLine("error", "error", "batch from an unknown queue, retrying", { queue: batch.queue, messages: batch.messages.length, known: names });
  batch.retryAll();
}

/**
 * The crons (wrangler.toml [triggers]): the hourly one is retention purge and analytics rollups (src/jobs/hourly.ts);
 * every other, the per-minute alert evaluation (src/jobs/alerts.ts).
 */
const HOURLY_CRON = "7 * * * *";
async function scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  if (controller.cron === HOURLY_CRON) ctx.waitUntil(runHourly(env, controller.scheduledTime));
  else ctx.waitUntil(runAlerts(env, controller.scheduledTime));
}

export default { fetch: app.fetch, queue, scheduled } satisfies ExportedHandler<Env>;
