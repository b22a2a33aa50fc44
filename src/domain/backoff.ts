// The one retry curve. Every retried thing (an activation, a notification, a sink, a drain, a webhook delivery)
// waits base, 2·base, 4·base… after its 1st, 2nd, 3rd… failure, capped so a long outage is polled, not forgotten.
export type BackoffPolicy = { baseMs: number; maxMs: number };

/** Delay before the next try after `failures` consecutive failures (1-based). */
export function backoff(failures: number, policy: BackoffPolicy): number {
  const n = Math.max(1, Math.floor(failures));
  return Math.min(policy.baseMs * 2 ** (n - 1), policy.maxMs);
}
