// The live half of a progress shard: its players' WebSockets, accepted with the Hibernation API so an idle shard
// costs nothing. Everything a socket needs after a wake-up lives in its tags and its serialized attachment, so a
// shard that was evicted still knows every socket and whose it is (cloudflare/workers-chat-demo does the same).
import { CLOSE, LIVE_PROTOCOL, PING_FRAME, PONG_FRAME, ClientFrame, encodeFrame, socketBudget, type ServerFrame } from "../../domain/live";
import { socketsToSupersede, textExceeds } from "../../domain/limits";
import type { Player } from "../../domain/model";
import { zodProblems } from "../../lib/validation";
import { readConfig, type Config } from "../../config";

export type SocketAttachment = Player & { connectedAt: number; window: { start: number; count: number } };
type ProgressHandler = (player: Player, updates: never) => Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; code: string; message: string; details?: unknown }>;

export const playerTag = (playerId: string) => `p:${playerId}`;

export class ShardLive {
  private readonly config: Config;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
  ) {
    // Answered by the runtime without waking the object: keep-alive pings are free.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    this.config = readConfig(env);
  }

  /** Accepts a player's socket; past the per-player cap their oldest socket is closed first. */
  accept(player: Player, hello: ServerFrame, protocol: string | null): Response {
    const open = this.ctx
      .getWebSockets(playerTag(player.playerId))
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => ({ ws, connectedAt: (ws.deserializeAttachment() as SocketAttachment | null)?.connectedAt ?? 0 }));
    for (const old of socketsToSupersede(open, this.config.maxSocketsPerPlayer)) {
      closeQuietly(old.ws, CLOSE.superseded, `more than ${this.config.maxSocketsPerPlayer} sockets for this player; this one was the oldest`);
    }
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    this.ctx.acceptWebSocket(server, [playerTag(player.playerId)]);
    const attachment: SocketAttachment = { ...player, connectedAt: Date.now(), window: { start: 0, count: 0 } };
    server.serializeAttachment(attachment);
    server.send(encodeFrame(hello));
    return new Response(null, { status: 101, webSocket: client, headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : {} });
  }

  async onMessage(ws: WebSocket, message: string | ArrayBuffer, handleProgress: ProgressHandler): Promise<void> {
    const a = ws.deserializeAttachment() as SocketAttachment | null;
    if (!a) return ws.close(1011, "lost session");
    const perSecond = this.config.socketMessagesPerSecond;
    const budget = socketBudget(a.window, Date.now(), perSecond);
    ws.serializeAttachment({ ...a, window: budget.window });
    if (budget.verdict === "close") return ws.close(CLOSE.abuse, "message rate limit exceeded");
    if (budget.verdict === "throttle") return this.send(ws, { type: "error", code: "rate_limited", message: `at most ${perSecond} messages per second` });

    const maxBytes = this.config.progressMaxBytes;
    if (typeof message === "string" ? textExceeds(message, maxBytes) : message.byteLength > maxBytes) {
      return this.send(ws, { type: "error", code: "frame_too_large", message: `frames must be at most ${maxBytes} bytes`, details: { maxBytes } });
    }
    if (typeof message !== "string") return this.send(ws, { type: "error", code: "invalid_frame", message: "frames must be JSON text" });
    let raw: unknown;
    try {
      raw = JSON.parse(message);
    } catch {
      return this.send(ws, { type: "error", code: "invalid_json", message: "frame is not valid JSON" });
    }
    const parsed = ClientFrame.safeParse(raw);
    const id = (raw as { id?: string | number } | null)?.id;
    const safeId = typeof id === "string" ? id.slice(0, 64) : typeof id === "number" && Number.isInteger(id) ? id : undefined;
    if (!parsed.success) {
      const fields = zodProblems(parsed.error);
      return this.send(ws, { type: "error", id: safeId, code: "invalid_frame", message: fields.map((f) => `${f.path} ${f.message}`.trim()).join("; "), details: { fields } });
    }
    const frame = parsed.data;
    if (frame.type === "ping") return this.send(ws, { type: "pong", id: frame.id });
    const result = await handleProgress({ playerId: a.playerId, level: a.level, clan: a.clan }, frame.updates as never);
    if (result.ok) this.send(ws, { type: "ack", id: frame.id, progress: result.value });
    else this.send(ws, { type: "error", id: frame.id, code: result.code, message: result.message, details: result.details });
  }

  /** One encode, many sends: a broadcast to thousands of sockets must not validate or stringify per socket. */
  broadcast(frame: ServerFrame, tag?: string): number {
    const text = encodeFrame(frame);
    let sent = 0;
    for (const ws of tag ? this.ctx.getWebSockets(tag) : this.ctx.getWebSockets()) {
      try {
        ws.send(text);
        sent++;
      } catch {
        // A socket that is closing; the runtime reports its close separately.
      }
    }
    return sent;
  }

  private send(ws: WebSocket, frame: ServerFrame) {
    try {
      ws.send(encodeFrame(frame));
    } catch {
      // closed meanwhile
    }
  }

}

/** Closing a socket that is already closing throws; either way it ends, which is all the caller wants. */
function closeQuietly(ws: WebSocket, code: number, reason: string) {
  try {
    ws.close(code, reason);
  } catch {
    // already closing or closed
  }
}

/** Picks the player token out of `Sec-WebSocket-Protocol` (browsers cannot set headers) or `?token=`. */
export function socketCredentials(request: Request): { token: string | null; protocol: string | null } {
  const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const token = offered.find((p) => p.split(".").length === 3) ?? new URL(request.url).searchParams.get("token");
  return { token: token ?? null, protocol: offered.includes(LIVE_PROTOCOL) ? LIVE_PROTOCOL : null };
}
