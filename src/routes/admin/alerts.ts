// Ops: alerts (issue 14 part 4). The list with its filters, one alert, resolving one by hand (a reason, audited on
// the row: who, when, why) and the thresholds. The per-minute cron (src/jobs/alerts.ts) opens and resolves them.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { getAlert, listAlerts, resolveByHand } from "../../db/alerts";
import { alertThresholds as thresholds, readAlertThresholds, writeAlertThresholds } from "../../db/settings";
import { ALERT_ID, AlertList, AlertSettings, AlertSeverity, AlertThresholdsPatch, AlertView, DEFAULT_THRESHOLDS, ResolveAlertBody } from "../../domain/alerts";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { logLine } from "../../lib/log";

const ListQuery = z.strictObject({
  state: z.enum(["open", "resolved"]).optional(),
  severity: AlertSeverity.optional(),
  eventId: z.string().min(1).max(64).optional().meta({ description: "An event id; `*` for Worker-wide alerts." }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const AlertIdParam = z.object({ alertId: z.string().meta({ description: "alert_ + 32 hex digits", example: "alert_0123456789abcdef0123456789abcdef" }) });

const ops = { tags: ["Alerts"], security: OPERATOR };

function checkAlertId(id: string): string {
  if (!ALERT_ID.test(id)) throw new ApiError(404, "alert_not_found", `no alert with id "${id.slice(0, 64)}"`);
  return id;
}

async function settingsView(d1: D1Database) {
  const stored = await readAlertThresholds(d1);
  return {
    thresholds: await thresholds(d1),
    defaults: DEFAULT_THRESHOLDS,
    updatedAt: stored ? iso(stored.updatedAt) : null,
    updatedBy: stored?.updatedBy ?? null,
  };
}

export const adminAlertRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/",
      summary: "Alerts, newest first",
      description: "Filter by `state`, `severity` and `eventId`. The rules and their exact definitions are in the README (Alerts).",
      request: { query: ListQuery },
      responses: { 200: json(AlertList, "The alerts"), ...errors(400, 401, 403) },
    }),
    async (c) => c.json({ alerts: await listAlerts(c.env.DB, c.req.valid("query")) }, 200),
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/settings",
      summary: "The alert thresholds in force, and the defaults",
      responses: { 200: json(AlertSettings, "The thresholds"), ...errors(401, 403) },
    }),
    async (c) => c.json(await settingsView(c.env.DB), 200),
  )
  .openapi(
    createRoute({
      ...ops,
      method: "put",
      path: "/settings",
      summary: "Change alert thresholds (admin)",
      description: "Only the thresholds given change; the next evaluation uses them.",
      request: { body: jsonRequest(AlertThresholdsPatch) },
      responses: { 200: json(AlertSettings, "The thresholds after the change"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const now = Date.now();
      const stored = (await readAlertThresholds(c.env.DB))?.value ?? {};
      const patch = c.req.valid("json");
      await writeAlertThresholds(c.env.DB, { ...stored, ...patch }, c.var.operator, now);
      logLine("info", "analytics", "alert thresholds changed", { actor: c.var.operator, patch });
      return c.json(await settingsView(c.env.DB), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{alertId}",
      summary: "One alert",
      request: { params: AlertIdParam },
      responses: { 200: json(AlertView, "The alert"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const alert = await getAlert(c.env.DB, checkAlertId(c.req.valid("param").alertId));
      if (!alert) throw new ApiError(404, "alert_not_found", "no such alert");
      return c.json(alert, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{alertId}/resolve",
      summary: "Resolve an open alert by hand (operator), with a reason",
      description:
        "Recorded on the alert (resolvedBy, resolvedAt, resolveReason) and sent to the alerts webhook. While its condition still holds the alert is not reopened; once the condition clears, the next breach opens a new one.",
      request: { params: AlertIdParam, body: jsonRequest(ResolveAlertBody) },
      responses: { 200: json(AlertView, "The resolved alert"), ...errors(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const alertId = checkAlertId(c.req.valid("param").alertId);
      const { reason } = c.req.valid("json");
      const done = await resolveByHand(c.env.DB, alertId, c.var.operator, reason, Date.now());
      const alert = await getAlert(c.env.DB, alertId);
      if (!alert) throw new ApiError(404, "alert_not_found", "no such alert");
      if (!done) throw new ApiError(409, "alert_not_open", "this alert is already resolved", { resolvedAt: alert.resolvedAt, resolvedBy: alert.resolvedBy });
      logLine("info", "analytics", "alert resolved by hand", { alertId, alert: alert.kind, eventId: alert.eventId, actor: c.var.operator, reason });
      return c.json(alert, 200);
    },
  );
