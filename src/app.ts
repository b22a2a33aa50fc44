// The Worker's HTTP side as one Hono app: middleware every answer passes through, the routes, the API description.
// src/index.ts serves it; test/openapi.test.ts walks its routes to check each one is described.
import { createRoute } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Health } from "./domain/views";
import type { AppEnv } from "./http/auth";
import { ApiError, noRoute } from "./http/errors";
import { corsForConfig, securityHeaders } from "./http/headers";
import { SECURITY_SCHEMES, json, openApiApp } from "./http/openapi";
import { withOperationIds } from "./http/operation-ids";
import { sampleResponseTimes } from "./http/response-times";
import { ClientDisconnected } from "./http/validate";
import { adminApp } from "./routes/admin";
import { benchRoutes } from "./routes/bench";
import { liveRoutes } from "./routes/live";
import { playerApp } from "./routes/player";
import { serverApp } from "./routes/server";
import { telemetryApp } from "./routes/telemetry";
import { wellKnownApp } from "./routes/well-known";
import { logLine } from "./lib/log";
import { PrivacySaltMissing } from "./lib/pseudonym";

// Two apps, each behind its own guard and mounted once: ops at /v1/admin, players at /v1. The player guard covers
// all of /v1/*, and Hono runs matching handlers in registration order (a handler that answers ends the chain), so
// everything that authenticates otherwise is registered before the player app and answers its paths in full:
// - the live socket, which checks the token it carries in Sec-WebSocket-Protocol or ?token= itself (browsers
//   cannot set headers on a socket);
// - the bench echo, which needs no caller and is off unless ENABLE_BENCH_ROUTES=true;
// - the admin app, the game servers' app and their telemetry ingest, each ending in its own 404.
// Before all of them: the response-time sample (the p95 alert), the headers every answer carries, and CORS, whose
// preflights must be answered before any guard.
export const app = openApiApp<AppEnv>();
app.use(sampleResponseTimes).use(securityHeaders).use(corsForConfig);
app
  .openapi(
    createRoute({ tags: ["Operations"], method: "get", path: "/health", summary: "Liveness", responses: { 200: json(Health, "The Worker is up") } }),
    (c) => c.json({ ok: true as const }, 200),
  )
  .route("/.well-known", wellKnownApp)
  .route("/v1/events", liveRoutes)
  .route("/v1/_bench", benchRoutes)
  .route("/v1/admin", adminApp)
  .route("/v1/server", serverApp)
  .route("/v1/telemetry", telemetryApp)
  .route("/v1", playerApp);

for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
// The API description and its reader: public, like the routes they describe are discoverable anyway.
// Served by hand rather than with app.doc31 so each operation gets its id from the table in src/http/operation-ids.ts.
app.get("/openapi.json", (c) =>
  c.json(
    withOperationIds(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Live events API",
          version: "1",
          description: "Live events for games: templates, scheduling, progress, rewards and notifications. Every error is `{ error: { code, message, details? } }`.",
        },
        servers: [{ url: new URL(c.req.url).origin }],
      }),
    ),
  ),
);
// Pinned: the page runs on this API's origin, so what it loads must not change under us with jsDelivr's "latest".
app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Live events API", cdn: "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0" }));

app.notFound((c) => c.json(noRoute(c).toJSON(), 404));

app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(err.toJSON(), err.status);
  // Hono's own refusals (a body whose Content-Type no route takes, say) in the one error shape.
  if (err instanceof HTTPException && err.status < 500) {
    const status = err.status as ContentfulStatusCode;
    return c.json(new ApiError(status, status === 415 ? "unsupported_media_type" : "bad_request", err.message || "bad request").toJSON(), status);
  }
  // The client went away mid-body: nobody is there to read the answer, and nothing of ours failed, so no stack and
  // no error-level line (those mean a bug here), just a note of it.
  if (err instanceof ClientDisconnected) {
    logLine("info", "player", "client disconnected mid-request", { path: c.req.path, error: String(err.cause) });
    return c.json(new ApiError(400, "client_disconnected", "the request body ended before it was complete").toJSON(), 400);
  }
  // A deployment without PRIVACY_SALT: the operator's to fix, so say what is missing (and log it) rather than a bare 500.
  if (err instanceof PrivacySaltMissing) {
    logLine("error", "error", err.message, { path: c.req.path });
    return c.json(new ApiError(503, "privacy_not_configured", err.message).toJSON(), 503);
  }
  // Anything else is our bug: log it whole, tell the caller only that it happened.
  logLine("error", "error", "unhandled error", { path: c.req.path, method: c.req.method, error: String(err), stack: (err as Error)?.stack });
  return c.json(new ApiError(500, "internal_error", "internal error").toJSON(), 500);
});
