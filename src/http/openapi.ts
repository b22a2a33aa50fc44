// Routes are declared with @hono/zod-openapi's createRoute so one zod schema both validates a request and describes it
// in GET /openapi.json. Every route module builds its app with openApiApp(), which keeps the error shape and messages
// the API has always had: request bodies are read here (size-limited before buffering, then parsed and checked), and
// query and path failures go through defaultHook.
import { OpenAPIHono, type Hook, type RouteConfig } from "@hono/zod-openapi";
import type { Context, Env as HonoEnv, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { zodProblems } from "../lib/validation";
import { ApiError, validationError } from "./errors";
import { ClientDisconnected } from "./validate";

/** The one error shape, as a component every 4xx response refers to. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "Stable, machine-readable: validation_failed, event_not_found, …" }),
      message: z.string().meta({ description: "For people: what was expected and what came." }),
      details: z.unknown().optional().meta({ description: "validation_failed: { fields: [{ path, message }] }; others per code." }),
    }),
  })
  .meta({ id: "Error" });

/** Bodies up to this size unless a route says otherwise (the progress route uses PROGRESS_MAX_BYTES). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

const tooLarge = (maxBytes: number) => new ApiError(413, "payload_too_large", `request body must be at most ${maxBytes} bytes`, { maxBytes });

/** A body schema failure: 422 with the field paths, or 400 when a rule marks the request as malformed outright. */
function bodyError(error: z.ZodError): ApiError {
  const badRequest = error.issues.some((i) => i.code === "custom" && (i.params as { status?: number } | undefined)?.status === 400);
  return validationError(zodProblems(error), badRequest ? 400 : 422);
}

/** Query, path and header failures are 400 (the request names nothing valid); body failures as bodyError says. */
export const defaultHook: Hook<unknown, HonoEnv, string, unknown> = (result) => {
  if (result.success) return;
  throw result.target === "json" ? bodyError(result.error as z.ZodError) : validationError(zodProblems(result.error as z.ZodError), 400);
};

type MaxBytes = number | ((c: Context) => number);
type BodyOptions = { optional: boolean; maxBytes: MaxBytes };
const bodyOptions = new WeakMap<object, BodyOptions>();

/**
 * A JSON request body for createRoute. Required unless `optional` (an empty optional body validates as `{}`);
 * `maxBytes` caps it, refused from Content-Length or while streaming, before it is buffered.
 */
export function jsonRequest<S extends z.ZodType>(schema: S, opts: { optional?: boolean; maxBytes?: MaxBytes; description?: string } = {}) {
  const body = { content: { "application/json": { schema } }, required: !opts.optional, ...(opts.description ? { description: opts.description } : {}) };
  bodyOptions.set(body, { optional: opts.optional ?? false, maxBytes: opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES });
  return body;
}

/**
 * hono/body-limit with our 413. A failure while the limiter itself reads the stream (no Content-Length) is the
 * client going away mid-body, not a server error; failures further down are left as they are.
 */
export function limitBody(maxBytes: MaxBytes): MiddlewareHandler {
  return async (c, next) => {
    const maxSize = typeof maxBytes === "function" ? maxBytes(c) : maxBytes;
    let downstream = false;
    try {
      const limiter = bodyLimit({ maxSize, onError: () => { throw tooLarge(maxSize); } });
      return await limiter(c, async () => {
        downstream = true;
        await next();
      });
    } catch (err) {
      if (downstream || err instanceof ApiError) throw err;
      throw new ClientDisconnected(err);
    }
  };
}

/**
 * Reads and checks a JSON body as the API always has: any Content-Type (clients that forget the header still get a
 * useful answer), malformed JSON → 400 invalid_json, a missing required body → 400, schema failures via bodyError.
 * hono's own json validator answers a missing Content-Type with 415 and an empty body with `{}`.
 */
function jsonValidator(schema: z.ZodType, optional: boolean): MiddlewareHandler {
  return async (c, next) => {
    let raw: string;
    try {
      raw = await c.req.text();
    } catch (err) {
      throw new ClientDisconnected(err);
    }
    let value: unknown = {};
    if (raw.trim() !== "") {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new ApiError(400, "invalid_json", "request body is not valid JSON");
      }
    } else if (!optional) {
      throw new ApiError(400, "invalid_json", "request body is required");
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw bodyError(parsed.error);
    c.req.addValidatedData("json", parsed.data as object);
    await next();
  };
}

const asArray = (m: RouteConfig["middleware"]): MiddlewareHandler[] => (m === undefined ? [] : Array.isArray(m) ? m : [m as MiddlewareHandler]);

/**
 * An OpenAPIHono whose JSON bodies are read by limitBody + jsonValidator instead of zod-openapi's own validator: the
 * route is documented exactly as declared, and `c.req.valid("json")` holds the checked body as usual.
 */
class ApiApp<E extends HonoEnv> extends OpenAPIHono<E> {
  constructor() {
    super({ defaultHook: defaultHook as never });
    const base = this.openapi;
    this.openapi = ((route: RouteConfig, handler: never, hook?: never) => {
      const body = route.request?.body;
      const schema = (body?.content?.["application/json"] as { schema?: z.ZodType } | undefined)?.schema;
      if (!body || !schema) return base(route as never, handler, hook);
      const { middleware, hide, ...described } = route;
      if (!hide) this.openAPIRegistry.registerPath(described);
      const opts = bodyOptions.get(body) ?? { optional: body.required !== true, maxBytes: DEFAULT_MAX_BODY_BYTES };
      const { body: _documented, ...request } = route.request!;
      return base(
        { ...described, request, hide: true, middleware: [...asArray(middleware), limitBody(opts.maxBytes), jsonValidator(schema, opts.optional)] } as never,
        handler,
        hook,
      );
    }) as typeof base;
  }
}

/** The app every route module is built on. */
export const openApiApp = <E extends HonoEnv>(): OpenAPIHono<E> => new ApiApp<E>();

// ---- shared pieces of route declarations -----------------------------------------------------------------------------

export const SECURITY_SCHEMES = {
  playerBearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A player JWT minted by the game's auth server." },
  operatorBearer: { type: "http", scheme: "bearer", description: "An operator or admin key (ops routes)." },
  serverBearer: { type: "http", scheme: "bearer", description: "A server-to-server key for game servers." },
  calendarFeedToken: { type: "apiKey", in: "query", name: "token", description: "The read-only calendar feed token (GET /v1/admin/calendar only)." },
} as const;
export const PLAYER = [{ playerBearer: [] }];
export const OPERATOR = [{ operatorBearer: [] }];

const ERROR_TEXT = {
  400: "Malformed request: invalid JSON, a missing body or bad query/path values (code says which)",
  401: "Missing or invalid credentials",
  403: "Credentials valid but not allowed here",
  404: "No such resource",
  409: "Conflicts with the current state",
  410: "Gone: the window for this closed",
  413: "Body larger than the route allows",
  422: "Body failed validation; details.fields names each problem",
  426: "This route speaks WebSocket only",
  429: "Rate limited; wait Retry-After seconds",
  503: "The Worker lacks a setting this route needs (code says which); an operator's to fix",
} as const;
type ErrorStatus = keyof typeof ERROR_TEXT;
type ErrorResponse = { description: string; content: { "application/json": { schema: typeof ErrorBody } } };

/** The error responses a route can give, each with the shared Error body. */
export function errors<const S extends ErrorStatus[]>(...statuses: S): { [K in S[number]]: ErrorResponse } {
  return Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s], content: { "application/json": { schema: ErrorBody } } }])) as never;
}

/** A JSON success response. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { "application/json": { schema } } });

/** Path parameters as documented; the handler still checks the format (a malformed id is a 404, as before). */
export const EventIdParam = z.string().meta({ description: "An event id (evt_ + 8–40 of a-z0-9).", example: "evt_0123456789abcdef01234567" });
