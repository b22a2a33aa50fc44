// The typed client (client/) used as a game and an ops tool would use it, against the real Worker: HTTP through
// openapi-fetch with the generated types, idempotent claims, errors as LiveEventsError, and the live channel with
// its reconnect-and-resume. Only the transport is the test runtime's: requests go to the Worker's fetch handler, and
// sockets are opened by upgrading through it (workerd cannot dial its own listener).
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLOSE, LIVE_PROTOCOL, LiveEventsError, createLiveEventsClient, liveUrl, newIdempotencyKey, reconnectDelay, type ServerFrame, type SocketLike } from "../client";
import { CLOSE as SERVER_CLOSE, LIVE_PROTOCOL as SERVER_PROTOCOL } from "../src/domain/live";
import { ADMIN, HOUR, inMs, playerToken, templateBody } from "./helpers";
import { REWARD_MILESTONES } from "./rewards-helpers";

const BASE = "http://live-events.test";
const viaWorker = (request: Request) => exports.default.fetch(request);

/** Opens a socket the way a browser would, through the Worker's upgrade route; keeps each for the test to cut. */
function socketOpener() {
  const opened: WebSocket[] = [];
  const open = async (url: string, protocols: string[]): Promise<SocketLike> => {
    const res = await exports.default.fetch(new Request(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": protocols.join(", ") } }));
    if (!res.webSocket) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
    res.webSocket.accept();
    opened.push(res.webSocket);
    return res.webSocket as unknown as SocketLike;
  };
  return { open, opened };
}

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function liveRewardEvent() {
  const ops = createLiveEventsClient({ baseUrl: BASE, token: ADMIN, fetch: viaWorker });
  const body = templateBody({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: REWARD_MILESTONES,
  });
  const template = await ops.ok(ops.POST("/v1/admin/templates", { body: body as never }));
  const event = await ops.ok(ops.POST("/v1/admin/events", { body: { templateId: template.templateId, startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 } }));
  return event.eventId;
}

describe("typed client over HTTP", () => {
  it("joins, reports progress and claims with an idempotency key that makes a retry safe", async () => {
    const eventId = await liveRewardEvent();
    const game = createLiveEventsClient({ baseUrl: BASE, token: () => playerToken("client-p1"), fetch: viaWorker });

    const active = await game.ok(game.GET("/v1/events/active"));
    expect(active.events.map((e) => e.eventId)).toContain(eventId);

    const joined = await game.POST("/v1/events/{eventId}/join", { params: { path: { eventId } } });
    expect(joined.response.status).toBe(201);

    const progress = await game.ok(game.POST("/v1/events/{eventId}/progress", { params: { path: { eventId } }, body: { updates: [{ objectiveId: "pts", amount: 10, seq: 1 }] } }));
    expect(progress.completion).toBe(1);

    const key = newIdempotencyKey();
    const first = await game.POST("/v1/events/{eventId}/milestones/{index}/claim", { params: { path: { eventId, index: "0" }, header: { "idempotency-key": key } } });
    expect(first.response.status).toBe(201);
    const retry = await game.POST("/v1/events/{eventId}/milestones/{index}/claim", { params: { path: { eventId, index: "0" }, header: { "idempotency-key": key } } });
    expect(retry.response.status).toBe(200);
    expect(retry.data?.replayed).toBe(true);
    expect(retry.data?.receipt?.claimId).toBe(first.data?.receipt?.claimId);
    expect(String(first.data?.receipt?.jws).split(".")).toHaveLength(3);
  });

  it("turns the server's error body into a LiveEventsError with its code", async () => {
    const game = createLiveEventsClient({ baseUrl: BASE, token: await playerToken("client-p2"), fetch: viaWorker });
    const missing = game.ok(game.GET("/v1/events/{eventId}", { params: { path: { eventId: "evt_000000000000000000000000" } } }));
    await expect(missing).rejects.toBeInstanceOf(LiveEventsError);
    await expect(missing).rejects.toMatchObject({ status: 404, code: "event_not_found" });

    const anonymous = createLiveEventsClient({ baseUrl: BASE, fetch: viaWorker });
    await expect(anonymous.ok(anonymous.GET("/v1/events/active"))).rejects.toMatchObject({ status: 401, code: "unauthorized" });
  });
});

describe("typed client's live channel", () => {
  it("speaks the server's protocol name and close codes", () => {
    expect(LIVE_PROTOCOL).toBe(SERVER_PROTOCOL);
    expect(CLOSE).toEqual(SERVER_CLOSE);
  });

  it("gets the snapshot, acks progress, and after a dropped connection reconnects and resumes from its cursor", async () => {
    const eventId = await liveRewardEvent();
    const game = createLiveEventsClient({ baseUrl: BASE, token: () => playerToken("client-live"), fetch: viaWorker });
    await game.ok(game.POST("/v1/events/{eventId}/join", { params: { path: { eventId } } }));

    const sockets = socketOpener();
    const frames: ServerFrame[] = [];
    const opens: { reconnect: boolean; since: number | null }[] = [];
    const closes: { code: number; willReconnect: boolean }[] = [];
    const channel = game.live(eventId, {
      openSocket: sockets.open,
      backoff: { baseMs: 20, maxMs: 100 },
      onFrame: (f) => frames.push(f),
      onOpen: (info) => opens.push(info),
      onClose: (info) => closes.push(info),
    });
    await channel.connect();
    await until(() => opens.length === 1);
    expect(opens[0]).toEqual({ reconnect: false, since: null });
    const snapshot = frames.find((f) => f.type === "event_state");
    expect(snapshot).toMatchObject({ type: "event_state", change: "snapshot", state: "active" });

    const ack = await channel.progress([{ objectiveId: "pts", amount: 6, seq: 1 }]);
    expect(ack.progress).toMatchObject({ completion: 0.6 });
    // Milestone 0 (at 0.5) unlocked: a replayable frame, so the cursor moves past the snapshot's.
    await until(() => frames.some((f) => f.type === "milestone"));
    const cursor = channel.cursor;
    expect(cursor).toBeGreaterThan(0);

    // The network drops: the channel was not closed by its owner, so it reconnects and asks for what it missed.
    sockets.opened[0].close(1011, "network drop");
    await until(() => opens.length === 2);
    expect(closes[0]).toMatchObject({ willReconnect: true });
    expect(opens[1]).toEqual({ reconnect: true, since: cursor });
    const again = await channel.progress([{ objectiveId: "pts", amount: 4, seq: 2 }]);
    expect(again.progress).toMatchObject({ completion: 1 });

    channel.close();
    await until(() => !channel.connected);
    expect(sockets.opened).toHaveLength(2);
  });

  it("connects once however often connect() is called, settles a waiting progress() on close(), and survives a token service outage", async () => {
    const eventId = await liveRewardEvent();
    let tokenServiceDown = false;
    const token = async () => {
      if (tokenServiceDown) {
        tokenServiceDown = false;
        throw new Error("token service down");
      }
      return playerToken("client-guard");
    };
    const game = createLiveEventsClient({ baseUrl: BASE, token, fetch: viaWorker });
    await game.ok(game.POST("/v1/events/{eventId}/join", { params: { path: { eventId } } }));
    const sockets = socketOpener();
    const opens: unknown[] = [];
    const closes: { code: number; willReconnect: boolean }[] = [];
    const channel = game.live(eventId, { openSocket: sockets.open, backoff: { baseMs: 10, maxMs: 50 }, onOpen: (o) => opens.push(o), onClose: (c) => closes.push(c) });
    await Promise.all([channel.connect(), channel.connect()]);
    await channel.connect();
    await until(() => opens.length === 1);
    expect(sockets.opened).toHaveLength(1);

    // Dropped; the reconnect's token() throws; the channel backs off and tries again instead of dying.
    tokenServiceDown = true;
    sockets.opened[0].close(1011, "network drop");
    await until(() => opens.length === 2);
    expect(closes.map((c) => c.code)).toEqual([1011, 1006]);
    expect(closes.every((c) => c.willReconnect)).toBe(true);
    expect(sockets.opened).toHaveLength(2);

    const waiting = channel.progress([{ objectiveId: "pts", amount: 1, seq: 1 }]);
    channel.close();
    await expect(waiting).rejects.toMatchObject({ code: "closed" });
  });

  it("keeps the base URL's path prefix for the socket, as for HTTP", () => {
    expect(liveUrl("https://games.example.com/api/", "evt_1", null)).toBe("wss://games.example.com/api/v1/events/evt_1/live");
    expect(liveUrl("http://127.0.0.1:8787", "evt_1", 42)).toBe("ws://127.0.0.1:8787/v1/events/evt_1/live?since=42");
  });

  it("refuses to send while disconnected, and does not reconnect after the event closed the socket", async () => {
    const channel = createLiveEventsClient({ baseUrl: BASE, token: "x", fetch: viaWorker }).live("evt_000000000000000000000000");
    await expect(channel.progress([{ objectiveId: "pts", amount: 1, seq: 1 }])).rejects.toMatchObject({ code: "not_connected" });
  });

  it("spreads reconnects: doubling delays, capped, with jitter between half and one and a half", () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(reconnectDelay(1, policy, () => 0.5)).toBe(100);
    expect(reconnectDelay(3, policy, () => 0.5)).toBe(400);
    expect(reconnectDelay(10, policy, () => 0.5)).toBe(1000);
    expect(reconnectDelay(2, policy, () => 0)).toBe(100);
    expect(reconnectDelay(2, policy, () => 0.999)).toBe(300);
  });
});

describe("committed client types", () => {
  it("were generated from the Worker's current /openapi.json (else: npm run client:generate)", async () => {
    const served = (await (await viaWorker(new Request(`${BASE}/openapi.json`))).json()) as Record<string, unknown>;
    delete served.servers;
    const committed = (await import("../client/openapi.json")).default as Record<string, unknown>;
    expect(committed).toEqual(served);
  });
});

void env;
