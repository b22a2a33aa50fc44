// A small WebSocket client for tests: connects through the real Worker and collects frames.
import { exports } from "cloudflare:workers";

export type Client = {
  ws: WebSocket;
  frames: any[];
  closed: { code: number; reason: string } | null;
  next: (pred: (f: any) => boolean, ms?: number) => Promise<any>;
  send: (v: unknown) => void;
  /** Resolves with the close the server sent (or the one already seen); rejects after `ms`. */
  closeEvent: (ms?: number) => Promise<{ code: number; reason: string }>;
};

export async function connect(eventId: string, token: string, via: "protocol" | "query" = "protocol", query: Record<string, string> = {}) {
  const params = new URLSearchParams(query);
  if (via === "query") params.set("token", token);
  const qs = params.toString();
  const url = `http://live-events.test/v1/events/${eventId}/live${qs ? `?${qs}` : ""}`;
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (via === "protocol") headers["Sec-WebSocket-Protocol"] = `live-events.v1, ${token}`;
  const res = await exports.default.fetch(new Request(url, { headers }));
  if (!res.webSocket) return { res, client: null };
  const ws = res.webSocket;
  const client: Client = {
    ws,
    frames: [],
    closed: null,
    send: (v) => ws.send(typeof v === "string" ? v : JSON.stringify(v)),
    next: (pred, ms = 3000) =>
      new Promise((resolve, reject) => {
        const found = client.frames.find(pred);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no matching frame in ${ms} ms; got ${JSON.stringify(client.frames).slice(0, 500)}`)), ms);
        const check = () => {
          const f = client.frames.find(pred);
          if (f) {
            clearTimeout(timer);
            ws.removeEventListener("message", check);
            resolve(f);
          }
        };
        ws.addEventListener("message", check);
      }),
    closeEvent: (ms = 3000) =>
      new Promise((resolve, reject) => {
        if (client.closed) return resolve(client.closed);
        const timer = setTimeout(() => reject(new Error(`no close in ${ms} ms`)), ms);
        ws.addEventListener("close", (e) => {
          clearTimeout(timer);
          resolve({ code: e.code, reason: e.reason });
        });
      }),
  };
  ws.addEventListener("message", (e) => {
    client.frames.push(JSON.parse(e.data as string));
  });
  ws.addEventListener("close", (e) => {
    client.closed = { code: e.code, reason: e.reason };
  });
  ws.accept();
  return { res, client };
}
