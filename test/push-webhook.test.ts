// Push fan-out against a real HTTP push provider on 127.0.0.1 (test/webhook-server.ts serves /push).
// The seed's rules: a failed push is retried once after 1 h, then dead-lettered; the feed keeps the notification.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PUSH_RETRY_DELAY_SECONDS, type PushMessage } from "../src/queues/push";
import { parseWebhookSecrets, postSigned, signedHeaders } from "../src/lib/webhook";
import { LEGACY_SECRET, PUSH_SECRET } from "./webhook-secrets";
import worker from "../src/index";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";

const server = (path: string) => `${env.PUSH_WEBHOOK_URL.replace("/push", "")}${path}`;
const received = async () => (await (await fetch(server("/__received"))).json()) as any[];
const failures = async () => (await (await fetch(server("/__failures"))).json()) as any[];
async function run(queue: string, body: PushMessage, attempts: number) {
  const batch = createMessageBatch(queue, [{ id: `m${attempts}-${Math.random()}`, timestamp: new Date(), attempts, body }]);
  await worker.queue(batch as never, env);
  return getQueueResult(batch, createExecutionContext());
}
async function firedStart(name: string) {
  const t = await createTemplate({ name });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR) });
  await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(e.eventId)), (_o, s) => s.storage.deleteAlarm());
  const id = `${e.eventId}:start`;
  const body: PushMessage = { notificationId: id, eventId: e.eventId, type: "start", title: `${name} has started`, body: "b", audience: "all", batch: 0 };
  return { e, id, body };
}
const row = (id: string) => env.DB.prepare("SELECT status, push_failures, sent_at IS NOT NULL AS sent FROM notification_queue WHERE notification_id = ?").bind(id).first<any>();

describe("push delivery", () => {
  it("delivers a signed push with the notification id as idempotency key and marks it sent", async () => {
    const { id, body } = await firedStart("Sunny Days");
    const result = await run("push-notifications", body, 1);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await received()).find((r) => r.path === "/push" && r.key === `${id}:0`)).toMatchObject({ verified: true, status: 200, audience: "all" });
    expect(await row(id)).toMatchObject({ status: "sent", push_failures: 0, sent: 1 });
  });

  it("a failed push is retried once after an hour, then dead-lettered and marked failed; the feed still has it", async () => {
    const { e, id, body } = await firedStart("FAILPUSH Fest");
    const first = await run("push-notifications", body, 1);
    expect(first.retryMessages).toHaveLength(1);
    expect(PUSH_RETRY_DELAY_SECONDS).toBe(3600);
    expect(await row(id)).toMatchObject({ status: "pending", push_failures: 1 });
    const second = await run("push-notifications", body, 2);
    // With max_retries = 1 this retry is what moves the message to the dead-letter queue.
    expect(second.retryMessages).toHaveLength(1);
    expect(await row(id)).toMatchObject({ push_failures: 2 });
    const dead = await run("push-notifications-dlq", body, 1);
    expect(dead.explicitAcks).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: "failed", push_failures: 2 });
    const feed = await call("GET", "/v1/notifications?limit=100", { token: await playerToken("anyone") });
    expect(feed.json.notifications.map((n: any) => n.notificationId)).toContain(id);
    expect(e.eventId).toBeTruthy();
  });
});

describe("a wave's feed row, pushed in several zone groups", () => {
  it("is failed only while none of its groups arrived: one group dead-lettered and another delivered leaves it sent, in either order", async () => {
    for (const order of [["dead", "sent"], ["sent", "dead"]] as const) {
      const { id, body } = await firedStart(`Zone Groups ${order[0]}`);
      const groups: Record<string, PushMessage> = {
        sent: { ...body, audience: "zones", zones: ["Europe/London"], batch: 0 },
        dead: { ...body, title: "FAILPUSH", audience: "zones", zones: ["Asia/Kolkata"], batch: 1_800_000_000_000 },
      };
      for (const what of order) {
        if (what === "sent") expect((await run("push-notifications", groups.sent, 1)).explicitAcks).toHaveLength(1);
        else expect((await run("push-notifications-dlq", groups.dead, 1)).explicitAcks).toHaveLength(1);
        expect((await row(id)).status, `${order} after ${what}`).toBe(what === "dead" && order[0] === "dead" ? "failed" : "sent");
      }
    }
  });
});

describe("webhook signatures (Standard Webhooks)", () => {
  it("the receiver refuses a delivery whose body was altered after signing, so its checks are real", async () => {
    const original = JSON.stringify({ title: "real" });
    // Sign one body, send another: what a tampering proxy would do.
    const headers = await signedHeaders(parseWebhookSecrets(PUSH_SECRET), "tampered-1", original);
    const res = await fetch(env.PUSH_WEBHOOK_URL, { method: "POST", headers, body: JSON.stringify({ title: "forged" }) });
    expect(res.status).toBe(401);
    expect((await failures()).find((f) => f.key === "tampered-1")?.problems).toEqual(["push secret: No matching signature found"]);
  });

  it("a secret in the old raw form still signs per the spec (format raw) and keeps the deprecated X-Live-Events headers", async () => {
    const url = env.PUSH_WEBHOOK_URL.replace("/push", "/legacy");
    expect(await postSigned(url, { hello: "wörld" }, LEGACY_SECRET, "legacy-1")).toBe(200);
    expect((await received()).find((r) => r.key === "legacy-1")).toMatchObject({ verified: true, signatures: 1, legacyHeaders: true });
  });

  it("every push delivery verified with the standardwebhooks verifier; the only failure is the deliberate forgery", async () => {
    const push = (await received()).filter((r) => r.path === "/push" && !String(r.key).startsWith("tampered-"));
    expect(push.length).toBeGreaterThan(0);
    expect(push.every((r) => r.verified && r.signatures === 1 && !r.legacyHeaders)).toBe(true);
    expect((await failures()).filter((f) => !String(f.key).startsWith("tampered-"))).toEqual([]);
  });
});
