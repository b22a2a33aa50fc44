// The live channel through the real Worker and a hibernating ProgressShardActor.
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { shardName, shardOf } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken } from "./helpers";
import { connect, type Client } from "./live-helpers";
import { runInDurableObject } from "./helpers";

const MILESTONES = [
  { index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "c", type: "currency", itemId: "coins", quantity: 5 }], unlockMessage: "Halfway!" },
  { index: 1, progressThreshold: 1 },
];
const clients: Client[] = [];
const events: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) if (!c.closed) c.ws.close(1000, "done");
  for (const id of events.splice(0)) await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id)), (_o, s) => s.storage.deleteAlarm());
});
async function live(body: Record<string, unknown> = {}) {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: MILESTONES,
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2, ...body });
  events.push(e.eventId);
  return e;
}
async function open(eventId: string, playerId: string, via: "protocol" | "query" = "protocol") {
  const { res, client } = await connect(eventId, await playerToken(playerId), via);
  expect(res.status).toBe(101);
  clients.push(client!);
  return { res, client: client! };
}

describe("connecting", () => {
  it("accepts the token in Sec-WebSocket-Protocol or ?token=, echoes the protocol and sends a state snapshot", async () => {
    const e = await live();
    const a = await open(e.eventId, "sock-a");
    expect(a.res.headers.get("Sec-WebSocket-Protocol")).toBe("live-events.v1");
    expect(await a.client.next((f) => f.type === "event_state")).toMatchObject({ eventId: e.eventId, state: "active", change: "snapshot" });
    const b = await open(e.eventId, "sock-b", "query");
    expect(await b.client.next((f) => f.type === "event_state")).toMatchObject({ change: "snapshot" });
  });

  it("refuses bad tokens, plain HTTP and unknown events with JSON errors", async () => {
    const e = await live();
    expect((await connect(e.eventId, "not.a.jwt")).res.status).toBe(401);
    expect((await connect(e.eventId, await playerToken("x", {}, "wrong-secret"))).res.status).toBe(401);
    const plain = await call("GET", `/v1/events/${e.eventId}/live`, { token: await playerToken("x") });
    expect(plain.status).toBe(426);
    expect(plain.json.error.code).toBe("upgrade_required");
    expect((await connect("evt_00000000000000000000ffff", await playerToken("x"))).res.status).toBe(404);
  });
});

describe("messages", () => {
  it("progress frames get acks with the same exactly-once seq semantics, and milestone frames", async () => {
    const e = await live();
    const { client } = await open(e.eventId, "mover");
    client.send({ type: "progress", id: "a1", updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] });
    const ack = await client.next((f) => f.type === "ack" && f.id === "a1");
    expect(ack.progress).toMatchObject({ applied: [1], completion: 0.5, unlockedMilestones: [0] });
    expect(await client.next((f) => f.type === "milestone")).toMatchObject({ eventId: e.eventId, milestone: { index: 0, unlockMessage: "Halfway!" } });
    client.send({ type: "progress", id: "a2", updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] });
    expect((await client.next((f) => f.id === "a2")).progress).toMatchObject({ applied: [], duplicates: [1] });
    // The HTTP route and the socket share one progress record.
    const http = await call("GET", `/v1/events/${e.eventId}/progress`, { token: await playerToken("mover") });
    expect(http.json.objectives.pts.currentValue).toBe(5);
  });

  it("answers malformed frames with error frames and keeps the socket open", async () => {
    const e = await live();
    const { client } = await open(e.eventId, "messy");
    client.send("{not json");
    expect(await client.next((f) => f.type === "error" && f.code === "invalid_json")).toBeTruthy();
    client.send({ type: "progress", id: 7, updates: [] });
    const bad = await client.next((f) => f.type === "error" && f.id === 7);
    expect(bad).toMatchObject({ code: "invalid_frame", message: expect.stringContaining("updates") });
    client.send({ type: "dance" });
    expect(await client.next((f) => f.type === "error" && f.code === "invalid_frame" && f.id === undefined)).toBeTruthy();
    client.send({ type: "progress", id: "x", updates: [{ objectiveId: "pts", amount: -1, seq: 1 }] });
    expect(await client.next((f) => f.id === "x")).toMatchObject({ type: "error", code: "implausible_progress" });
    client.send('{"type":"ping"}');
    expect(await client.next((f) => f.type === "pong")).toBeTruthy();
    expect(client.closed).toBeNull();
  });

  it("rate-limits each socket and closes an abusive one with 1008", async () => {
    const e = await live();
    const { client } = await open(e.eventId, "flooder");
    for (let i = 0; i < 130; i++) client.send({ type: "ping", id: i }); // not the exact auto-response text, so counted
    await client.next((f) => f.type === "error" && f.code === "rate_limited");
    await new Promise((r) => setTimeout(r, 200));
    expect(client.closed?.code ?? (await new Promise<number>((res) => client.ws.addEventListener("close", (ev) => res(ev.code))))).toBe(1008);
  });
});

describe("state frames", () => {
  it("every connected socket hears activation, pause, resume and expiry", async () => {
    const t = await createTemplate({ objectives: [{ objectiveId: "pts", description: "P", type: "collect", targetValue: 10, trackingKey: "pts" }], milestones: MILESTONES });
    const e = await createEvent(t.templateId, { startTime: inMs(HOUR), endTime: inMs(2 * HOUR), shardCount: 2 });
    events.push(e.eventId);
    const players = ["s1", "s2", "s3", "s4", "s5", "s6"];
    expect(new Set(players.map((p) => shardOf(p, 2))).size).toBe(2);
    const socks = await Promise.all(players.map(async (p) => (await open(e.eventId, p)).client));
    for (const s of socks) expect(await s.next((f) => f.type === "event_state")).toMatchObject({ state: "scheduled", change: "snapshot" });
    await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(e.eventId)), (o: any) => o.tick(Date.parse(e.startTime)));
    for (const s of socks) expect(await s.next((f) => f.change === "activated")).toMatchObject({ state: "active" });
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    for (const s of socks) await s.next((f) => f.change === "paused");
    await call("POST", `/v1/admin/events/${e.eventId}/resume`);
    for (const s of socks) await s.next((f) => f.change === "resumed");
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
    for (const s of socks) expect(await s.next((f) => f.change === "expired")).toMatchObject({ state: "expired" });
  });

  it("a running event whose end moves tells its sockets, with the new times, so countdowns stay true", async () => {
    const t = await createTemplate({ objectives: [{ objectiveId: "pts", description: "P", type: "collect", targetValue: 10, trackingKey: "pts" }], milestones: MILESTONES });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 });
    events.push(e.eventId);
    const sock = (await open(e.eventId, "countdown-watcher")).client;
    await sock.next((f) => f.type === "event_state" && f.change === "snapshot");
    const newEnd = new Date(Date.parse(e.endTime) + 3 * HOUR).toISOString();
    expect((await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { endTime: newEnd } })).status).toBe(200);
    expect(await sock.next((f) => f.type === "event_state" && f.change === "rescheduled")).toMatchObject({ state: "active", startTime: e.startTime, endTime: newEnd });
  });

  it("in real time, a socket hears 'activated' even when the start notification reaches its shard first", async () => {
    const t = await createTemplate({ objectives: [{ objectiveId: "pts", description: "P", type: "collect", targetValue: 10, trackingKey: "pts" }], milestones: MILESTONES });
    const e = await createEvent(t.templateId, { startTime: inMs(2500), endTime: inMs(HOUR), shardCount: 1 });
    events.push(e.eventId);
    const { client } = await open(e.eventId, "on-time");
    await client.next((f) => f.change === "snapshot");
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(e.startTime) - Date.now()) + 50));
    await runDurableObjectAlarm(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(e.eventId))); // in case it has not fired yet
    expect(await client.next((f) => f.change === "activated")).toMatchObject({ state: "active" });
    expect(await client.next((f) => f.notificationType === "start")).toBeTruthy();
  });

  it("a shard evicted from memory (sockets hibernated) still knows its sockets and their players", async () => {
    const e = await live({ shardCount: 1 });
    const { client } = await open(e.eventId, "sleeper");
    await client.next((f) => f.type === "event_state");
    const shard = env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(e.eventId, 0)));
    await evictDurableObject(shard);
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    expect(await client.next((f) => f.change === "paused")).toBeTruthy();
    await call("POST", `/v1/admin/events/${e.eventId}/resume`);
    await evictDurableObject(shard);
    client.send({ type: "progress", id: "after-wake", updates: [{ objectiveId: "pts", amount: 10, seq: 1 }] });
    expect((await client.next((f) => f.id === "after-wake")).progress).toMatchObject({ applied: [1], completion: 1 });
    expect(await client.next((f) => f.type === "milestone" && f.milestone.index === 1)).toBeTruthy();
    const stored = await call("GET", `/v1/admin/events/${e.eventId}/players/sleeper/progress`);
    expect(stored.json.objectives.pts.currentValue).toBe(10);
  });
});
