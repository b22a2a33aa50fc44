// A socket's life on the live channel (issue 10, items 11, 13 and 14): it ends with its token, completes the close
// handshake, ends with its event, and a reconnect with ?since= replays what it missed (from the shard's SQLite, so
// an evicted shard still has it).
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { shardName } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { connect, type Client } from "./live-helpers";

const MILESTONES = [
  { index: 0, progressThreshold: 0.5, unlockMessage: "Halfway!" },
  { index: 1, progressThreshold: 1, unlockMessage: "Done!" },
];
const clients: Client[] = [];
const events: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) if (!c.closed) c.ws.close(1000, "done");
  for (const id of events.splice(0)) await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id)), (_o, s) => s.storage.deleteAlarm());
});
async function live() {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: MILESTONES,
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 });
  events.push(e.eventId);
  return e;
}
async function open(eventId: string, token: string, query: Record<string, string> = {}) {
  const { res, client } = await connect(eventId, token, "protocol", query);
  expect(res.status).toBe(101);
  clients.push(client!);
  return client!;
}
const snapshotOf = (c: Client) => c.next((f) => f.type === "event_state" && f.change === "snapshot");
const shard = (eventId: string) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, 0)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a socket ends with its token", () => {
  it("is closed with 4401 when the token stops being accepted (exp + leeway), and a frame sent after is not acknowledged", async () => {
    const e = await live();
    // The default 30 s clock leeway keeps a token good until exp + 30 s: this one has 2 s of that left.
    const LEEWAY = 30;
    const exp = Math.floor(Date.now() / 1000) + 2 - LEEWAY;
    const token = await playerToken("short-lived", { exp });
    const ws = await open(e.eventId, token);
    await snapshotOf(ws);
    ws.send({ type: "progress", id: "before", updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] });
    expect(await ws.next((f) => f.id === "before")).toMatchObject({ type: "ack" });
    // An idle socket of the same player, closed by the shard's schedule rather than by a frame.
    const idle = await open(e.eventId, token);
    await snapshotOf(idle);
    await sleep((exp + LEEWAY) * 1000 - Date.now() + 50);
    try {
      ws.send({ type: "progress", id: "after", updates: [{ objectiveId: "pts", amount: 1, seq: 2 }] });
    } catch {
      // already closed by the sweep: just as good
    }
    expect(await ws.closeEvent()).toMatchObject({ code: 4401, reason: expect.stringContaining("token expired") });
    expect(ws.frames.some((f) => f.id === "after" && f.type === "ack")).toBe(false);
    await runDurableObjectAlarm(shard(e.eventId)); // in case the sweep has not fired yet
    expect(await idle.closeEvent()).toMatchObject({ code: 4401 });
    // Over HTTP the same token is refused, and nothing sent after it expired was applied.
    expect((await call("GET", `/v1/events/${e.eventId}/progress`, { token })).status).toBe(401);
    const stored = await call("GET", `/v1/admin/events/${e.eventId}/players/short-lived/progress`);
    expect(stored.json).toMatchObject({ lastSeq: 1, objectives: { pts: { currentValue: 1 } } });
  });
});

describe("closing", () => {
  it("a client close without a code completes the handshake at once (the shard answers 1000)", async () => {
    const e = await live();
    const ws = await open(e.eventId, await playerToken("quiet"));
    await snapshotOf(ws);
    ws.ws.close();
    const closed = await ws.closeEvent(2000);
    expect([1000, 1005]).toContain(closed.code);
  });

  it("sockets stay open through expiry (claims go on) and are closed with 4410 when the event is archived", async () => {
    const e = await live();
    const ws = await open(e.eventId, await playerToken("to-the-end"));
    await snapshotOf(ws);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
    expect(await ws.next((f) => f.change === "expired")).toMatchObject({ state: "expired" });
    await sleep(100);
    expect(ws.closed).toBeNull();
    const endTime = Date.parse((await call("GET", `/v1/admin/events/${e.eventId}`)).json.endTime);
    await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(e.eventId)), (o: any) => o.tick(endTime + 25 * HOUR));
    expect(await ws.next((f) => f.change === "archived")).toMatchObject({ state: "archived" });
    expect(await ws.closeEvent()).toMatchObject({ code: 4410 });
  });
});

describe("resuming with ?since=", () => {
  it("replays what the player missed (their milestones, the event's state changes), then a snapshot with their progress", async () => {
    const e = await live();
    const token = await playerToken("resumer");
    const first = await open(e.eventId, token);
    const hello = await snapshotOf(first);
    expect(hello).toMatchObject({ seq: expect.any(Number), progress: null });
    first.send({ type: "progress", id: "p1", updates: [{ objectiveId: "pts", amount: 2, seq: 1 }] });
    await first.next((f) => f.id === "p1");
    first.ws.close(1000, "going away");
    await first.closeEvent();
    const cursor = hello.seq;

    // While it is away: its own milestone (over HTTP), a pause, and another player's milestone.
    await call("POST", `/v1/events/${e.eventId}/progress`, { token, body: { updates: [{ objectiveId: "pts", amount: 3, seq: 2 }] } });
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    await call("POST", `/v1/admin/events/${e.eventId}/resume`);
    await evictDurableObject(shard(e.eventId));

    const back = await open(e.eventId, token, { since: String(cursor) });
    const snap = await snapshotOf(back);
    const replayed = back.frames.slice(0, back.frames.indexOf(snap));
    expect(replayed.map((f) => f.type === "milestone" ? `milestone ${f.milestone.index}` : f.change)).toEqual(["milestone 0", "paused", "resumed"]);
    const seqs = replayed.map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBeGreaterThan(cursor);
    expect(snap).toMatchObject({ state: "active", seq: seqs.at(-1), progress: { completion: 0.5, unlockedMilestones: [0], lastSeq: 2, objectives: { pts: { currentValue: 5 } } } });

    // Another player's milestone is not theirs to replay; the cursor moves past it all the same.
    await call("POST", `/v1/events/${e.eventId}/progress`, { token: await playerToken("someone-else"), body: { updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] } });
    back.ws.close(1000);
    await back.closeEvent();
    const again = await open(e.eventId, token, { since: String(snap.seq) });
    const snap2 = await snapshotOf(again);
    expect(again.frames.indexOf(snap2)).toBe(0);
    expect(snap2.seq).toBeGreaterThan(snap.seq);

    // A cursor this shard never gave out: refetch, then the snapshot.
    const lost = await open(e.eventId, token, { since: String(snap2.seq + 1000) });
    await snapshotOf(lost);
    expect(lost.frames[0]).toEqual({ type: "refetch", since: snap2.seq + 1000, reason: "unknown_cursor" });
  });

  it("a cursor older than the bounded log gets refetch instead of a partial replay; a bad cursor is 400", async () => {
    const e = await live();
    const token = await playerToken("long-gone");
    const ws = await open(e.eventId, token);
    const hello = await snapshotOf(ws);
    ws.ws.close(1000);
    await ws.closeEvent();
    // More state frames than the log keeps (LIVE_REPLAY_FRAMES, 1000).
    await runInDurableObject(shard(e.eventId), async (o: any) => {
      for (let i = 0; i < 1005; i++) await o.broadcast({ type: "event_state", eventId: e.eventId, state: "active", change: "ending_soon", startTime: e.startTime, endTime: e.endTime, at: new Date().toISOString() });
    });
    const back = await open(e.eventId, token, { since: String(hello.seq) });
    const snap = await snapshotOf(back);
    expect(back.frames[0]).toEqual({ type: "refetch", since: hello.seq, reason: "too_old" });
    expect(back.frames.indexOf(snap)).toBe(1);
    const held = await runInDurableObject(shard(e.eventId), (_o, s) => s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM live_log").one().n);
    expect(held).toBe(1000);

    const bad = await call("GET", `/v1/events/${e.eventId}/live?since=-1&token=${token}`, { token: null, headers: { Upgrade: "websocket" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("validation_failed");
  });
});
