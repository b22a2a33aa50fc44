// A typed client for game clients and tools. The HTTP half is openapi-fetch over `paths` generated from the Worker's
// own /openapi.json (client/schema.d.ts, `npm run client:generate`), so every path, body and answer is checked by the
// compiler against the zod schemas the server validates with. The live half is ./live.ts.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { LiveChannel, type LiveOptions } from "./live";

export * from "./live";
export type { components, paths } from "./schema";
export type ApiErrorBody = components["schemas"]["Error"];

/** A non-2xx answer: the server's `{ error: { code, message, details? } }`, with the status and Retry-After if sent. */
export class LiveEventsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Retry-After in seconds: the server sends seconds, a proxy may send an HTTP date. */
function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export type ClientOptions = {
  baseUrl: string;
  /** The bearer credential: a player JWT, an operator key or a server key; a function is asked before every request. */
  token?: string | (() => string | Promise<string>);
  /** Defaults to globalThis.fetch; pass your engine's or a test runtime's. */
  fetch?: (request: Request) => Promise<Response>;
};

/** A fresh Idempotency-Key. Keep it with the attempt and send the same one on every retry of that attempt. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export type LiveEventsClient = Client<paths> & {
  /** Unwraps an openapi-fetch result: the data, or a LiveEventsError thrown with the server's code. */
  ok<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T>;
  /** The event's live channel; call `.connect()` on it. */
  live(eventId: string, opts?: Partial<Omit<LiveOptions, "baseUrl" | "eventId">>): LiveChannel;
};

export function createLiveEventsClient(options: ClientOptions): LiveEventsClient {
  const token = options.token;
  const readToken = async () => (typeof token === "function" ? await token() : token);
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const auth: Middleware = {
    async onRequest({ request }) {
      const t = await readToken();
      if (t && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
  };
  api.use(auth);
  async function ok<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await result;
    if (response.ok) return data as T;
    const body = (error ?? {}) as Partial<ApiErrorBody>;
    const retry = response.headers.get("Retry-After");
    throw new LiveEventsError(
      response.status,
      body.error?.code ?? `http_${response.status}`,
      body.error?.message ?? response.statusText,
      body.error?.details,
      retryAfterSeconds(retry),
    );
  }
  return Object.assign(api, {
    ok,
    live(eventId: string, opts: Partial<Omit<LiveOptions, "baseUrl" | "eventId">> = {}) {
      const liveToken = opts.token ?? (async () => {
        const t = await readToken();
        if (!t) throw new Error("the live channel needs a player token");
        return t;
      });
      return new LiveChannel({ ...opts, baseUrl: options.baseUrl, eventId, token: liveToken });
    },
  });
}
