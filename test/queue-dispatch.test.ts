// The queue() handler picks a consumer by the queue names in config ([vars]), and never guesses for one it does not know.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";

async function run(queue: string, environment: Env, body: unknown) {
  const batch = createMessageBatch(queue, [{ id: `m-${Math.random()}`, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch as never, environment);
  return getQueueResult(batch, ctx);
}

const push = { notificationId: "evt_nosuchevent0:start", eventId: "evt_nosuchevent0", type: "start", title: "t", body: "b", audience: "all", batch: 0 };

describe("queue dispatch", () => {
  it("routes by the configured names, so renaming a queue is a [vars] change", async () => {
    // No PUSH_WEBHOOK_URL in this project: the push consumer marks the row sent and acks.
    const result = await run("renamed-push", { ...env, QUEUE_PUSH: "renamed-push" } as unknown as Env, push);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryBatch.retry).toBe(false);
  });

  it("retries a whole batch from a queue the config does not name, acking nothing", async () => {
    const result = await run("no-such-queue", env, push);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
    expect(result.ackAll).toBe(false);
  });
});
