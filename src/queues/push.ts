// Consumer of `push-notifications`: delivers push work to a provider-neutral PUSH_WEBHOOK_URL (FCM/APNs adapters sit
// behind it), signed per Standard Webhooks (src/lib/webhook.ts), with "<notificationId>:<batch>" as the webhook-id.
// The seed's rules: a failed push is retried once after 1 h, then goes to the dead-letter queue; the in-game feed
// always has the notification anyway. The body is the documented payload (README, Push): `audience` "all" or "zones"
// (a topic push; `zones` lists IANA zones, one topic each) or "players" (`playerIds`).
import { countPushFailure, setPushStatus } from "../db/notifications";
import { HOUR_MS, SECOND_MS } from "../domain/time";
import { logLine } from "../lib/log";
import { postSigned } from "../lib/webhook";
import type { PushMessage } from "../actors/contracts";

export type { PushMessage };

export const PUSH_RETRY_DELAY_SECONDS = HOUR_MS / SECOND_MS;

/** Marks the event-level row and, for a batch of players, each of their rows. */
const setStatus = (d1: D1Database, m: PushMessage, status: "sent" | "failed", at: number) =>
  setPushStatus(d1, m.notificationId, m.playerIds ?? [], status, at);

/** Exactly the documented fields: a message queued by an older version (no `zones`) posts as it always did. */
function payload(m: PushMessage) {
  const { notificationId, eventId, type, title, body, audience, batch } = m;
  const to = audience === "zones" ? { zones: m.zones ?? [] } : audience === "players" ? { playerIds: m.playerIds ?? [] } : {};
  return { notificationId, eventId, type, title, body, audience, ...to, batch };
}

async function post(env: Env, url: string, m: PushMessage): Promise<boolean> {
  const secret = (env as unknown as Record<string, string | undefined>).PUSH_WEBHOOK_SECRET ?? env.REWARD_SIGNING_SECRET;
  const status = await postSigned(url, payload(m), secret, `${m.notificationId}:${m.batch}`);
  return status !== null && status >= 200 && status < 300;
}

export async function consumePush(batch: MessageBatch<PushMessage>, env: Env): Promise<void> {
  const url = ((env as unknown as Record<string, string | undefined>).PUSH_WEBHOOK_URL ?? "").trim();
  for (const message of batch.messages) {
    const m = message.body;
    // No push provider configured: the in-game feed is the channel, and it already has the row.
    if (!url || (await post(env, url, m))) {
      await setStatus(env.DB, m, "sent", Date.now());
      message.ack();
      continue;
    }
    await countPushFailure(env.DB, m.notificationId);
    if (message.attempts <= 1) message.retry({ delaySeconds: PUSH_RETRY_DELAY_SECONDS });
    else message.retry(); // past max_retries (1): the platform moves it to push-notifications-dlq
  }
}

/** The dead-letter queue's consumer: the push never arrived. Mark it so ops and analytics see it; the feed keeps it. */
export async function consumeDeadPush(batch: MessageBatch<PushMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    await setStatus(env.DB, message.body, "failed", Date.now());
    logLine("error", "error", "push dead-lettered", { notificationId: message.body.notificationId, batch: message.body.batch });
    message.ack();
  }
}
