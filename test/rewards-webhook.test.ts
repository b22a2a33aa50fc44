// Rewards with INVENTORY_WEBHOOK_URL pointing at a real HTTP server on 127.0.0.1 (test/webhook-server.ts).
// Deliveries are signed per Standard Webhooks (the receiver checks each with the `standardwebhooks` package, under the
// new and the old secret of a rotation), carry the claim id as webhook-id and idempotency key; full goes to the inbox; down is retried
// through the inventory-deliveries queue (driven here with the vitest integration's queue helpers) and inboxed
// after the last attempt.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_DELIVERY_ATTEMPTS, retryDelaySeconds } from "../src/domain/delivery";
import worker from "../src/index";
import { postSigned } from "../src/lib/webhook";
import { call } from "./helpers";
import { claim, clearAlarms, earn, ledgerRows, rewardEvent, settle } from "./rewards-helpers";

const server = (path: string) => `${env.INVENTORY_WEBHOOK_URL.replace("/inventory", "")}${path}`;
const received = async () => (await (await fetch(server("/__received"))).json()) as any[];
const events: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of events.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function live() {
  const e = await rewardEvent();
  events.push(e);
  return e;
}

async function runQueue(grant: unknown, attempts: number) {
  const batch = createMessageBatch("inventory-deliveries", [{ id: `m-${attempts}-${Math.random()}`, timestamp: new Date(), attempts, body: { grant } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

describe("inventory webhook", () => {
  it("is never sent unsigned: with no usable secret a delivery is held as if the endpoint were down", async () => {
    const held = `unsigned-${crypto.randomUUID()}`;
    expect(await postSigned(env.INVENTORY_WEBHOOK_URL, { probe: held }, "", held)).toBeNull();
    expect(await postSigned(env.INVENTORY_WEBHOOK_URL, { probe: held }, "whsec_***not-base64***", held)).toBeNull();
    // The same call with the configured secret does arrive, so the receiver's log is where a delivery would show.
    const sent = `signed-${crypto.randomUUID()}`;
    expect(await postSigned(env.INVENTORY_WEBHOOK_URL, { probe: sent }, env.INVENTORY_WEBHOOK_SECRET, sent)).toBe(200);
    const log = JSON.stringify(await received());
    expect(log).toContain(sent);
    expect(log).not.toContain(held);
  });

  it("delivers a signed grant with the claim id as idempotency key; 2xx means delivered", async () => {
    const e = await live();
    const token = await earn(e.eventId, "ok-player", 10);
    const r = await claim(e.eventId, token, 1, "w1");
    expect(r.status).toBe(201);
    expect(r.json.delivery).toEqual({ outcome: "delivered", via: "webhook" });
    const hit = (await received()).find((x) => x.key === r.json.receipt.claimId);
    // Two signatures (new and old secret), each verified by its own standardwebhooks receiver; no legacy headers.
    expect(hit).toMatchObject({ player: "ok-player", verified: true, status: 200, source: "claim", signatures: 2, legacyHeaders: false });
    await settle(e.eventId, e.shardCount);
    expect(await ledgerRows(e.eventId)).toEqual([expect.objectContaining({ player_id: "ok-player", delivered_via: "webhook", source: "claim" })]);
  });

  it("507 (inventory full) sends the reward to the overflow inbox", async () => {
    const e = await live();
    const token = await earn(e.eventId, "full-player", 10);
    const r = await claim(e.eventId, token, 0, "w2");
    expect(r.json.delivery).toMatchObject({ outcome: "inbox" });
    const inbox = await call("GET", "/v1/inbox", { token });
    expect(inbox.json.items).toEqual([expect.objectContaining({ reason: "inventory_full", status: "pending", receiptId: r.json.receipt.claimId })]);
    expect(await ledgerRows(e.eventId)).toEqual([]);
  });

  it("a 5xx is retried through the queue with backoff, then goes to the inbox after the last attempt", async () => {
    const e = await live();
    const token = await earn(e.eventId, "down-player", 10);
    const r = await claim(e.eventId, token, 0, "w3");
    expect(r.json.delivery).toEqual({ outcome: "retrying", via: "webhook" });
    const grant = { claimId: r.json.receipt.claimId, playerId: "down-player", eventId: e.eventId, milestoneIndex: 0, rewards: r.json.receipt.rewards, source: "claim", receipt: r.json.receipt };

    const first = await runQueue(grant, 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    const later = await runQueue(grant, MAX_DELIVERY_ATTEMPTS - 1);
    expect(later.retryMessages).toHaveLength(1);
    // The backoff the consumer asks for (the test harness does not report delays back).
    expect([1, 2, 3, 4, 5].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480]);
    expect((await call("GET", "/v1/inbox", { token })).json.items).toEqual([]);

    const last = await runQueue(grant, MAX_DELIVERY_ATTEMPTS);
    expect(last.retryMessages).toEqual([]);
    expect(last.explicitAcks).toHaveLength(1);
    const inbox = (await call("GET", "/v1/inbox", { token })).json.items;
    expect(inbox).toEqual([expect.objectContaining({ reason: "delivery_failed", receiptId: grant.claimId })]);
    // Every attempt reached the real endpoint with the same idempotency key.
    // (the first POST, then the three queue attempts run here)
    expect((await received()).filter((x) => x.key === grant.claimId)).toHaveLength(4);
    // A message delivered twice after the grant settled changes nothing.
    expect((await runQueue(grant, MAX_DELIVERY_ATTEMPTS)).explicitAcks).toHaveLength(1);
    expect((await call("GET", "/v1/inbox", { token })).json.items).toHaveLength(1);
  });

  it("a transient failure that clears is delivered by the queue retry, once", async () => {
    const e = await live();
    const token = await earn(e.eventId, "flaky-player", 10);
    const r = await claim(e.eventId, token, 0, "w4");
    expect(r.json.delivery.outcome).toBe("retrying");
    const grant = { claimId: r.json.receipt.claimId, playerId: "flaky-player", eventId: e.eventId, milestoneIndex: 0, rewards: r.json.receipt.rewards, source: "claim", receipt: r.json.receipt };
    const result = await runQueue(grant, 1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await runQueue(grant, 2)).toMatchObject({ explicitAcks: [expect.any(String)] });
    // The retry is the same message (same webhook-id) with a fresh timestamp, so a 5-minute tolerance holds.
    const attempts = (await received()).filter((x) => x.key === grant.claimId);
    expect(attempts.map((x) => [x.status, x.verified])).toEqual([[503, true], [200, true]]);
    expect(attempts[1].timestamp).toBeGreaterThanOrEqual(attempts[0].timestamp);
    expect(await ledgerRows(e.eventId)).toEqual([expect.objectContaining({ player_id: "flaky-player", delivered_via: "webhook" })]);
    expect((await call("GET", "/v1/inbox", { token })).json.items).toEqual([]);
  });

  it("every delivery so far verified with the standardwebhooks verifier, under both secrets", async () => {
    const inventory = (await received()).filter((x) => x.path === "/inventory");
    expect(inventory.length).toBeGreaterThan(0);
    expect(inventory.every((x) => x.verified && x.signatures === 2)).toBe(true);
    const failures = (await (await fetch(server("/__failures"))).json()) as any[];
    expect(failures.filter((f) => f.path === "/inventory")).toEqual([]);
  });
});
