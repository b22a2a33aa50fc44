// The live half of a progress shard: its players' WebSockets, accepted with the Hibernation API so an idle shard
// costs nothing. Everything a socket needs after a wake-up lives in its tags and its serialized attachment, so a
// shard that was evicted still knows every socket and whose it is (cloudflare/workers-chat-demo does the same). The
// frames a socket may miss while away (state changes, milestones, notifications) are logged in the shard's SQLite
// under a seq, so a reconnect with ?since= gets them even from a shard that was evicted meanwhile.
import {
  CLOSE,
  LIVE_PROTOCOL,
  MAX_REPLAY_FRAMES,
  PING_FRAME,
  PONG_FRAME,
  ClientFrame,
  encodeFrame,
  replayPlan,
  socketBudget,
  type ServerFrame,
} from "../../domain/live";
import { clanIdOf } from "../../domain/clan";
import { socketsToSupersede, textExceeds } from "../../domain/limits";
import type { Player } from "../../domain/model";
import { zodProblems } from "../../lib/validation";
import { readConfig, type Config } from "../../config";

export type SocketAttachment = Player & {
  connectedAt: number;
  /** The token's exp, in ms: the socket is closed then (sockets accepted before this existed have none). */
  expiresAt?: number;
  window: { start: number; count: number };
};
type ProgressHandler = (player: Player, updates: never) => Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; code: string; message: string; details?: unknown }>;

export const playerTag = (playerId: string) => `p:${playerId}`;
/** A socket of a clan member also carries its clan, so a clan's frame reaches its members without a scan. */
export const clanTag = (clanId: string) => `c:${clanId}`;
const LOGGED = new Set<ServerFrame["type"]>(["event_state", "milestone", "notification", "adjusted"]);

export class ShardLive {
  private readonly config: Config;
  /** The last seq logged: the cursor a snapshot hands out. Never trimmed away, so it survives eviction via the table. */
  private latest: number;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
    private readonly sql: SqlStorage,
  ) {
    // Answered by the runtime without waking the object: keep-alive pings are free.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    this.config = readConfig(env);
    this.latest = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM live_log").one().s ?? 0;
  }

  /**
   * Accepts a player's socket. Past the per-player cap their oldest socket is closed first. A socket that says where
   * it left off (`since`) gets what it missed, or "refetch"; then, always last, the snapshot with the cursor.
   */
  accept(player: Player, opts: { snapshot: ServerFrame; since: number | null; expiresAt: number | null; protocol: string | null }): Response {
    const tag = playerTag(player.playerId);
    const open = this.ctx
      .getWebSockets(tag)
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => ({ ws, connectedAt: (ws.deserializeAttachment() as SocketAttachment | null)?.connectedAt ?? 0 }));
    for (const old of socketsToSupersede(open, this.config.maxSocketsPerPlayer)) {
      closeQuietly(old.ws, CLOSE.superseded, `more than ${this.config.maxSocketsPerPlayer} sockets for this player; this one was the oldest`);
    }
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    const clan = clanIdOf(player);
    this.ctx.acceptWebSocket(server, clan ? [tag, clanTag(clan)] : [tag]);
    const attachment: SocketAttachment = { ...player, connectedAt: Date.now(), window: { start: 0, count: 0 } };
    if (opts.expiresAt !== null) attachment.expiresAt = opts.expiresAt;
    server.serializeAttachment(attachment);
    for (const text of this.replay(player.playerId, opts.since)) server.send(text);
    server.send(encodeFrame({ ...opts.snapshot, seq: this.latest } as ServerFrame));
    return new Response(null, { status: 101, webSocket: client, headers: opts.protocol ? { "Sec-WebSocket-Protocol": opts.protocol } : {} });
  }

  async onMessage(ws: WebSocket, message: string | ArrayBuffer, handleProgress: ProgressHandler): Promise<void> {
    const a = ws.deserializeAttachment() as SocketAttachment | null;
    if (!a) return ws.close(1011, "lost session");
    const now = Date.now();
    // The sweep closes it at exp; a frame that arrives before the sweep runs must not be served either.
    if (a.expiresAt !== undefined && now >= a.expiresAt) return closeQuietly(ws, CLOSE.tokenExpired, TOKEN_EXPIRED);
    const perSecond = this.config.socketMessagesPerSecond;
    const budget = socketBudget(a.window, now, perSecond);
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
    const result = await handleProgress({ playerId: a.playerId, level: a.level, clan: a.clan, tz: a.tz, ...(a.tzClaimed ? { tzClaimed: true } : {}) }, frame.updates as never);
    if (result.ok) this.send(ws, { type: "ack", id: frame.id, progress: result.value });
    else this.send(ws, { type: "error", id: frame.id, code: result.code, message: result.message, details: result.details });
  }

  /**
   * One encode, many sends: a broadcast to thousands of sockets must not validate or stringify per socket. State
   * changes, milestones and notifications are logged first under the next seq (for one player, or for all), so a
   * socket that is away now gets them when it comes back with ?since=.
   */
  broadcast(frame: ServerFrame, playerId?: string): number {
    const text = LOGGED.has(frame.type) ? this.log(frame, playerId ?? null) : encodeFrame(frame);
    let sent = 0;
    for (const ws of playerId ? this.ctx.getWebSockets(playerTag(playerId)) : this.ctx.getWebSockets()) {
      try {
        ws.send(text);
        sent++;
      } catch {
        // A socket that is closing; the runtime reports its close separately.
      }
    }
    return sent;
  }

  /** Closes every socket whose token expired by `now`; returns when the next one expires (null: none will). */
  closeExpired(now: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const expiresAt = (ws.deserializeAttachment() as SocketAttachment | null)?.expiresAt;
      if (expiresAt === undefined) continue;
      if (expiresAt <= now) closeQuietly(ws, CLOSE.tokenExpired, TOKEN_EXPIRED);
      else next = next === null ? expiresAt : Math.min(next, expiresAt);
    }
    return next;
  }

  /**
   * Completes a closing handshake the client started. A close without a code arrives as 1005, which may not be sent
   * back: answering nothing left the client waiting about 10 s for a 1006, so it gets a normal 1000. After 1006 or
   * 1015 the connection is already gone.
   */
  onClose(ws: WebSocket, code: number, reason: string): void {
    if (code === 1006 || code === 1015) return;
    closeQuietly(ws, code === 1005 ? CLOSE.normal : code, reason);
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.ctx.getWebSockets()) closeQuietly(ws, code, reason);
  }

  private log(frame: ServerFrame, playerId: string | null): string {
    const seq = this.latest + 1;
    const text = encodeFrame({ ...frame, seq } as ServerFrame);
    this.sql.exec("INSERT INTO live_log (seq, player_id, frame) VALUES (?, ?, ?)", seq, playerId, text);
    // Bounded: the oldest go once there are more than the configured number (never the latest, the cursor).
    if (seq > this.config.liveReplayFrames) this.sql.exec("DELETE FROM live_log WHERE seq <= ?", seq - this.config.liveReplayFrames);
    this.latest = seq;
    return text;
  }

  /** What a socket reconnecting from `since` missed, as frames to send before its snapshot. */
  private replay(playerId: string, since: number | null): string[] {
    if (since === null) return [];
    const oldest = this.sql.exec<{ s: number | null }>("SELECT MIN(seq) AS s FROM live_log").one().s ?? 0;
    const plan = replayPlan(since, { oldest, latest: this.latest });
    if (plan.kind === "none") return [];
    if (plan.kind === "refetch") return [encodeFrame({ type: "refetch", since, reason: plan.reason })];
    const rows = this.sql
      .exec<{ frame: string }>("SELECT frame FROM live_log WHERE seq > ? AND (player_id IS NULL OR player_id = ?) ORDER BY seq LIMIT ?", since, playerId, MAX_REPLAY_FRAMES + 1)
      .toArray();
    if (rows.length > MAX_REPLAY_FRAMES) return [encodeFrame({ type: "refetch", since, reason: "too_many" })];
    return rows.map((r) => r.frame);
  }

  private send(ws: WebSocket, frame: ServerFrame) {
    try {
      ws.send(encodeFrame(frame));
    } catch {
      // closed meanwhile
    }
  }
}

const TOKEN_EXPIRED = "token expired; reconnect with a fresh token";

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
