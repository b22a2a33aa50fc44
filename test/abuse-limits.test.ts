// Per-player limits through the real Worker and ProgressShardActor (issue 10, items 6–8 and 10): one player's sockets
// and HTTP progress share one budget on their shard, so what they flood is refused quickly while a bystander on the
// same shard is served. Floods stay modest (a few sockets, a few hundred frames): the point is what the limiter
// refuses, not wall-clock timings.
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { connect, type Client } from "./live-helpers";

const clients: Client[] = [];
const events: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) if (!c.closed) c.ws.close(1000, "done");
  for (const id of events.splice(0)) await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id)), (_o, s) => s.storage.deleteAlarm());
});

/** One shard, so every player here shares it with the bystander. */
async function oneShardEvent() {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 1e9, trackingKey: "pts" }],
    milestones: [{ index: 0, progressThreshold: 1 }],
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 });
  events.push(e.eventId);
  return e;
}
async function open(eventId: string, playerId: string) {
  const { res, client } = await connect(eventId, await playerToken(playerId));
  expect(res.status).toBe(101);
  clients.push(client!);
  await client!.next((f) => f.type === "event_state");
  return client!;
}
const updates = (n: number, from: number, amount: unknown = 1) => Array.from({ length: n }, (_, i) => ({ objectiveId: "pts", amount, seq: from + i }));
const post = (eventId: string, token: string, body: unknown) => call("POST", `/v1/events/${eventId}/progress`, { token, body });

describe("sockets per player", () => {
  it("a player's socket past MAX_SOCKETS_PER_PLAYER (3) closes their oldest with 4409; other players keep theirs", async () => {
    const e = await oneShardEvent();
    const bystander = await open(e.eventId, "calm");
    const mine: Client[] = [];
    for (let i = 0; i < 3; i++) mine.push(await open(e.eventId, "greedy"));
    const fourth = await open(e.eventId, "greedy");
    expect(await mine[0].closeEvent()).toMatchObject({ code: 4409, reason: expect.stringContaining("socket") });
    for (const c of [mine[1], mine[2], fourth, bystander]) expect(c.closed).toBeNull();
    // The three that are left all work.
    for (const [i, c] of [mine[1], mine[2], fourth].entries()) {
      c.send({ type: "progress", id: `s${i}`, updates: updates(1, i + 1) });
      expect(await c.next((f) => f.id === `s${i}`)).toMatchObject({ type: "ack" });
    }
  });
});

describe("one progress budget per player, across sockets and HTTP", () => {
  it("a flood from three sockets is refused with rate_limited frames past the budget; a bystander on the shard is served", async () => {
    const e = await oneShardEvent();
    const socks = [await open(e.eventId, "flood"), await open(e.eventId, "flood"), await open(e.eventId, "flood")];
    const calm = await open(e.eventId, "calm");
    // 3 sockets × 15 frames × 100 updates, and 8 HTTP requests of 100 updates alongside: under each socket's own frame
    // limit (20/s), far over the player's budget (10 requests and 200 updates a second, 2 s of burst: 4 such at once).
    let seq = 1;
    for (let f = 0; f < 15; f++) for (const [s, ws] of socks.entries()) ws.send({ type: "progress", id: `f${s}-${f}`, updates: updates(100, (seq += 100)) });
    const token = await playerToken("flood");
    const https = await Promise.all(Array.from({ length: 8 }, (_, i) => post(e.eventId, token, { updates: updates(100, 1e6 + i * 100) })));
    const answers = await Promise.all(socks.flatMap((ws, s) => Array.from({ length: 15 }, (_, f) => ws.next((x) => x.id === `f${s}-${f}`, 10_000))));
    const acked = answers.filter((a) => a.type === "ack");
    const limited = answers.filter((a) => a.type === "error" && a.code === "rate_limited");
    expect(acked.length + limited.length).toBe(45);
    expect(limited[0]).toMatchObject({ message: expect.stringContaining("per second"), details: { retryAfter: expect.any(Number) } });
    // Sockets and HTTP draw on the one budget: about four batches in all (a few more refill while the shard works).
    const httpOk = https.filter((r) => r.status === 200);
    expect(acked.length + httpOk.length).toBeLessThanOrEqual(8);
    const http429 = https.filter((r) => r.status === 429);
    expect(http429.length).toBeGreaterThanOrEqual(1);
    expect(http429[0].json.error.code).toBe("rate_limited");
    expect(Number(http429[0].headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // The bystander is not: its socket frame and its HTTP request are applied.
    calm.send({ type: "progress", id: "c1", updates: updates(5, 1) });
    expect((await calm.next((f) => f.id === "c1")).progress).toMatchObject({ applied: [1, 2, 3, 4, 5] });
    expect((await post(e.eventId, await playerToken("calm"), { updates: updates(1, 6) })).status).toBe(200);
    // Nothing refused was applied.
    const held = (await call("GET", `/v1/events/${e.eventId}/progress`, { token: await playerToken("flood") })).json;
    const applied = [...acked.map((a) => a.progress), ...httpOk.map((r) => r.json)].reduce((n, p) => n + p.applied.length, 0);
    expect(held.objectives.pts.currentValue).toBe(applied);
  });

  it("parallel HTTP loops from one token get 429 with Retry-After past the budget, and are served again after it", async () => {
    const e = await oneShardEvent();
    const token = await playerToken("looper");
    const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => post(e.eventId, token, { updates: updates(1, i + 1) })));
    const ok = rs.filter((r) => r.status === 200);
    const limited = rs.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(32);
    // 20 at once (2 s of 10/s), plus whatever refilled while the shard worked through them.
    expect(ok.length).toBeLessThanOrEqual(25);
    expect(limited.length).toBeGreaterThanOrEqual(7);
    expect(limited[0].json.error).toMatchObject({ code: "rate_limited", details: { retryAfter: expect.any(Number) } });
    const wait = Number(limited[0].headers.get("Retry-After"));
    expect(wait).toBeGreaterThanOrEqual(1);
    // Updates count as well as requests: a few full batches spend the update budget (400) long before the request one.
    const other = await playerToken("batcher");
    const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => post(e.eventId, other, { updates: updates(100, i * 100 + 1) })));
    expect(batches.filter((r) => r.status === 200).length).toBeLessThanOrEqual(5);
    expect(batches.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(3);
    expect((await post(e.eventId, await playerToken("bystander"), { updates: updates(1, 1) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, wait * 1000));
    expect((await post(e.eventId, token, { updates: updates(1, 100) })).status).toBe(200);
  });
});

describe("size and shape limits", () => {
  const padded = (body: unknown, bytes: number) => {
    const text = JSON.stringify(body);
    return text.slice(0, -1) + " ".repeat(bytes - text.length) + "}";
  };

  it("a socket frame over PROGRESS_MAX_BYTES (64 KB) gets frame_too_large and the socket stays open", async () => {
    const e = await oneShardEvent();
    const ws = await open(e.eventId, "big-frames");
    ws.send(padded({ type: "progress", id: "big", updates: updates(1, 1) }, 70 * 1024));
    expect(await ws.next((f) => f.type === "error")).toMatchObject({ code: "frame_too_large", details: { maxBytes: 65536 } });
    ws.send({ type: "progress", id: "small", updates: updates(1, 1) });
    expect(await ws.next((f) => f.id === "small")).toMatchObject({ type: "ack", progress: { applied: [1] } });
  });

  it("an HTTP progress body over the limit is 413, whether its length is declared or streamed", async () => {
    const e = await oneShardEvent();
    const token = await playerToken("big-bodies");
    const url = `http://live-events.test/v1/events/${e.eventId}/progress`;
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const declared = await call("POST", `/v1/events/${e.eventId}/progress`, { token, raw: padded({ updates: updates(1, 1) }, 70 * 1024), headers: { "Content-Type": "application/json" } });
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatchObject({ code: "payload_too_large", details: { maxBytes: 65536 } });

    // A declared 10 MB that never arrives: refused from Content-Length, before any of it is read.
    const { readable, writable } = new FixedLengthStream(10_000_000);
    const writer = writable.getWriter();
    writer.write(new TextEncoder().encode('{"updates":[')).catch(() => {});
    const early = await exports.default.fetch(new Request(url, { method: "POST", headers, body: readable }));
    expect(early.status).toBe(413);
    writer.abort().catch(() => {});

    // No length at all: counted while streaming, refused once past the limit.
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent++ === 0) c.enqueue(new TextEncoder().encode(`{"updates":${JSON.stringify(updates(1, 1))}`));
        else if (sent < 8) c.enqueue(chunk);
        else {
          c.enqueue(new TextEncoder().encode("}"));
          c.close();
        }
      },
    });
    const streamed = await exports.default.fetch(new Request(url, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit));
    expect(streamed.status).toBe(413);
    expect((await streamed.json<any>()).error.code).toBe("payload_too_large");
    // Under the limit is still fine.
    expect((await call("POST", `/v1/events/${e.eventId}/progress`, { token, raw: padded({ updates: updates(1, 1) }, 32 * 1024), headers: { "Content-Type": "application/json" } })).status).toBe(200);
  });

  it("a deeply nested amount is refused at the edge: 422 over HTTP, an invalid_frame error on the socket", async () => {
    const e = await oneShardEvent();
    const token = await playerToken("nester");
    let deepArray = "1";
    for (let i = 0; i < 2425; i++) deepArray = `[${deepArray}]`;
    const http = await call("POST", `/v1/events/${e.eventId}/progress`, {
      token,
      raw: `{"updates":[{"objectiveId":"pts","amount":${deepArray},"seq":1}]}`,
      headers: { "Content-Type": "application/json" },
    });
    expect(http.status).toBe(422);
    expect(http.json.error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("updates[0].amount must not nest deeper than 4 levels") });

    const ws = await open(e.eventId, "nester");
    let deepObject = "1";
    for (let i = 0; i < 8000; i++) deepObject = `{"a":${deepObject}}`;
    ws.send(`{"type":"progress","id":"deep","updates":[{"objectiveId":"pts","amount":${deepObject},"seq":1}]}`);
    expect(await ws.next((f) => f.id === "deep")).toMatchObject({ type: "error", code: "invalid_frame", message: expect.stringContaining("nest deeper") });
    // A shallow nonsense amount is still a plausibility flag, as before.
    ws.send({ type: "progress", id: "odd", updates: [{ objectiveId: "pts", amount: { a: [1] }, seq: 1 }] });
    expect(await ws.next((f) => f.id === "odd")).toMatchObject({ type: "error", code: "implausible_progress" });
    expect(ws.closed).toBeNull();
  });
});

describe("a client that disconnects mid-body", () => {
  it("is logged as a client disconnect, not as an unhandled server error", async () => {
    const e = await oneShardEvent();
    const errors = vi.spyOn(console, "error");
    const infos = vi.spyOn(console, "log");
    try {
      // The body promises 1,000 bytes and ends after a dozen: what the runtime reports as "Network connection lost".
      const { readable, writable } = new FixedLengthStream(1000);
      const writer = writable.getWriter();
      writer.write(new TextEncoder().encode('{"updates":[')).catch(() => {});
      setTimeout(() => writer.close().catch(() => {}), 20);
      const res = await exports.default.fetch(
        new Request(`http://live-events.test/v1/events/${e.eventId}/progress`, { method: "POST", headers: { Authorization: `Bearer ${await playerToken("leaver")}` }, body: readable }),
      );
      expect(res.status).toBe(400);
      expect((await res.json<any>()).error.code).toBe("client_disconnected");
      const logged = (spy: typeof errors) => spy.mock.calls.map((c) => String(c[0]));
      expect(logged(errors).filter((l) => l.includes("unhandled error"))).toEqual([]);
      expect(logged(infos).some((l) => l.includes("client disconnected"))).toBe(true);
    } finally {
      errors.mockRestore();
      infos.mockRestore();
    }
  });
});
