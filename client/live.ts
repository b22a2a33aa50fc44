// The live channel for game clients: one WebSocket per event, reconnected with backoff and resumed from the last
// `seq` seen (`?since=`), so a dropped connection loses no event_state, milestone or notification frame. Frame types
// come from the server's own schemas through the OpenAPI document (components LiveServerFrame / LiveClientFrame).
import type { components } from "./schema";

export type ServerFrame = components["schemas"]["LiveServerFrame"];
export type ClientFrame = components["schemas"]["LiveClientFrame"];
export type ProgressUpdate = Extract<ClientFrame, { type: "progress" }>["updates"][number];

/** The subprotocol the server speaks; the token travels beside it in Sec-WebSocket-Protocol (browsers cannot set headers). */
export const LIVE_PROTOCOL = "live-events.v1";

/** Close codes the server uses (README "Live channel"). */
export const CLOSE = { normal: 1000, abuse: 1008, tokenExpired: 4401, superseded: 4409, eventClosed: 4410 } as const;

/** What a channel needs of a socket: the browser's and Node's WebSocket, or workerd's (tests). */
export type SocketLike = {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", fn: (e: { data: unknown }) => void): void;
  addEventListener(type: "close", fn: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", fn: (e: unknown) => void): void;
};

export type LiveOptions = {
  /** http(s) or ws(s) base URL of the API, e.g. https://events.example.com */
  baseUrl: string;
  eventId: string;
  /** Called before every (re)connect: return a fresh player token when the old one is about to expire. */
  token: () => string | Promise<string>;
  /** Opens the socket; defaults to `new WebSocket(url, protocols)`. */
  openSocket?: (url: string, protocols: string[]) => SocketLike | Promise<SocketLike>;
  /** Reconnect delays: base·2^(n−1) capped at max, with ±50 % jitter so a server restart is not met by a stampede. */
  backoff?: { baseMs: number; maxMs: number };
  /** Stop after this many failed reconnects in a row (default: never). */
  maxRetries?: number;
  onFrame?: (frame: ServerFrame) => void;
  /** The socket is (re)connected and its snapshot arrived. */
  onOpen?: (info: { reconnect: boolean; since: number | null }) => void;
  /** Every close; `willReconnect` says whether the channel tries again and after how long. */
  onClose?: (info: { code: number; reason: string; willReconnect: boolean; delayMs: number }) => void;
};

type Pending = { resolve: (frame: Extract<ServerFrame, { type: "ack" }>) => void; reject: (err: LiveFrameError) => void };

/** A progress frame the server refused (rate_limited, invalid_frame, event_not_active, …): the HTTP route's error codes. */
export class LiveFrameError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Codes after which reconnecting cannot help: the event is over, or another session of this player took the slot. */
const FINAL_CLOSES = new Set<number>([CLOSE.eventClosed, CLOSE.superseded, CLOSE.abuse]);

/** The socket URL under the API's base URL (its path prefix kept, as openapi-fetch keeps it for HTTP), resuming after `since`. */
export function liveUrl(baseUrl: string, eventId: string, since: number | null): string {
  const url = new URL(baseUrl.replace(/^http/, "ws"));
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/events/${encodeURIComponent(eventId)}/live`;
  if (since !== null) url.searchParams.set("since", String(since));
  return url.toString();
}

export function reconnectDelay(failures: number, policy: { baseMs: number; maxMs: number }, random = Math.random): number {
  const n = Math.max(1, failures);
  const capped = Math.min(policy.baseMs * 2 ** (n - 1), policy.maxMs);
  return Math.round(capped * (0.5 + random()));
}

export class LiveChannel {
  private socket: SocketLike | null = null;
  private opening = false;
  private lastSeq: number | null = null;
  private failures = 0;
  private stopped = false;
  private connectedOnce = false;
  private nextId = 1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly opts: LiveOptions & { backoff: { baseMs: number; maxMs: number } };

  constructor(opts: LiveOptions) {
    this.opts = { backoff: { baseMs: 500, maxMs: 30_000 }, ...opts };
  }

  /** The seq of the newest replayable frame seen: what the next reconnect asks to resume from. */
  get cursor(): number | null {
    return this.lastSeq;
  }

  get connected(): boolean {
    return this.socket !== null && this.socket.readyState === 1;
  }

  /** Opens the channel; a second call while it is open, opening or waiting to reconnect does nothing. */
  async connect(): Promise<void> {
    this.stopped = false;
    if (this.socket || this.opening || this.timer) return;
    await this.open();
  }

  /** Sends progress over the socket; resolves with the server's ack (the player's progress), rejects on an error frame. */
  progress(updates: ProgressUpdate[]): Promise<Extract<ServerFrame, { type: "ack" }>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) return Promise.reject(new LiveFrameError("not_connected", "the live channel is not connected"));
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ type: "progress", id, updates } satisfies ClientFrame));
    });
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(CLOSE.normal, "client closed");
    // The socket's own close event is ignored from here on (it is no longer this.socket), so settle what waits now.
    this.failPending(new LiveFrameError("closed", "the live channel was closed before the server answered"));
  }

  private async open(): Promise<void> {
    this.opening = true;
    let socket: SocketLike;
    try {
      // A token service that is briefly down is a failed attempt like any other: retried with backoff, never fatal.
      const token = await this.opts.token();
      const open = this.opts.openSocket ?? ((u: string, p: string[]) => new WebSocket(u, p) as unknown as SocketLike);
      socket = await open(liveUrl(this.opts.baseUrl, this.opts.eventId, this.lastSeq), [LIVE_PROTOCOL, token]);
    } catch (err) {
      this.opening = false;
      if (!this.stopped) this.scheduleReconnect(1006, String(err));
      return;
    }
    this.opening = false;
    if (this.stopped) return socket.close(CLOSE.normal, "client closed");
    this.socket = socket;
    const since = this.lastSeq;
    socket.addEventListener("message", (e) => this.onMessage(e.data, since));
    socket.addEventListener("close", (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failPending(new LiveFrameError("disconnected", "the socket closed before the server answered"));
      this.scheduleReconnect(e.code, e.reason);
    });
    socket.addEventListener("error", () => {});
  }

  private onMessage(data: unknown, since: number | null): void {
    if (typeof data !== "string") return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    if ("seq" in frame && typeof frame.seq === "number" && (this.lastSeq === null || frame.seq > this.lastSeq)) this.lastSeq = frame.seq;
    if (frame.type === "event_state" && frame.change === "snapshot") {
      // The snapshot, not the transport's open event, marks a usable channel: workerd's accepted sockets never fire one.
      this.opts.onOpen?.({ reconnect: this.connectedOnce, since });
      this.connectedOnce = true;
      this.failures = 0;
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.id !== undefined) {
      const waiting = this.pending.get(String(frame.id));
      if (waiting) {
        this.pending.delete(String(frame.id));
        if (frame.type === "ack") waiting.resolve(frame);
        else waiting.reject(new LiveFrameError(frame.code, frame.message, frame.details));
      }
    }
    this.opts.onFrame?.(frame);
  }

  private failPending(err: LiveFrameError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private scheduleReconnect(code: number, reason: string): void {
    const final = this.stopped || FINAL_CLOSES.has(code);
    this.failures += 1;
    const exhausted = this.opts.maxRetries !== undefined && this.failures > this.opts.maxRetries;
    // An expired token is no failure of the network: reconnect at once with the fresh token `token()` returns.
    const delayMs = code === CLOSE.tokenExpired ? 0 : reconnectDelay(this.failures, this.opts.backoff);
    const willReconnect = !final && !exhausted;
    this.opts.onClose?.({ code, reason, willReconnect, delayMs: willReconnect ? delayMs : 0 });
    if (!willReconnect || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) void this.open();
    }, delayMs);
  }
}
