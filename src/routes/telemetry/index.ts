// Game telemetry, mounted once at /v1/telemetry behind requireTelemetryWriter (a server key with analytics:write, or
// the ADMIN_TOKEN). Registered before the player app in src/app.ts and answering its own 404, so nothing here reaches
// the player guard. Batched (MAX_TELEMETRY_BATCH records) and idempotent per record id; raw rows go to D1 (the only
// source every figure is computed from) and, when the optional TELEMETRY_AE binding exists, to Workers Analytics Engine.
import { createRoute } from "@hono/zod-openapi";
import { insertPurchases, insertSessions } from "../../db/telemetry";
import { IngestResult, PurchaseBatch, SessionBatch, purchaseRows, rowsToMirror, sessionRows, uniqueById } from "../../domain/telemetry";
import { requireTelemetryWriter, type AppEnv } from "../../http/auth";
import { noRoute } from "../../http/errors";
import { errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { mirrorPurchases, mirrorSessions } from "../../http/telemetry-mirror";
import { logLine } from "../../lib/log";

const SERVER: Record<string, string[]>[] = [{ serverBearer: [] }, { operatorBearer: [] }];
const ops = { tags: ["Telemetry"], security: SERVER };

const ingestRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/sessions",
      summary: "Ingest play sessions (analytics:write)",
      description:
        "Up to 500 sessions. A session whose id is already stored is counted as a duplicate and left as it was; a bad record fails the whole batch (422 naming `sessions[i].field`). With an Analytics Engine binding, only newly stored records are mirrored, at most 250 per request (the platform's limit per invocation); the rest are in D1 only.",
      request: { body: jsonRequest(SessionBatch) },
      responses: { 200: json(IngestResult, "What was stored"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const { sessions } = c.req.valid("json");
      const rows = uniqueById(sessionRows(sessions, Date.now()));
      const ids = await insertSessions(c.env.DB, rows);
      const inserted = ids.length;
      await mirrorSessions(c.env, rowsToMirror(rows, ids));
      logLine("info", "telemetry", "sessions ingested", { by: c.var.operator, received: sessions.length, inserted });
      return c.json({ received: sessions.length, inserted, duplicates: sessions.length - inserted }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/purchases",
      summary: "Ingest purchases (analytics:write)",
      description: "Up to 500 purchases. Idempotent per purchase id, as for sessions. `amount` is in the game's reporting currency.",
      request: { body: jsonRequest(PurchaseBatch) },
      responses: { 200: json(IngestResult, "What was stored"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const { purchases } = c.req.valid("json");
      const rows = uniqueById(purchaseRows(purchases, Date.now()));
      const ids = await insertPurchases(c.env.DB, rows);
      const inserted = ids.length;
      await mirrorPurchases(c.env, rowsToMirror(rows, ids));
      logLine("info", "telemetry", "purchases ingested", { by: c.var.operator, received: purchases.length, inserted });
      return c.json({ received: purchases.length, inserted, duplicates: purchases.length - inserted }, 200);
    },
  );

export const telemetryApp = openApiApp<AppEnv>()
  .use(requireTelemetryWriter)
  .route("/", ingestRoutes)
  .all("*", (c) => {
    throw noRoute(c);
  });
