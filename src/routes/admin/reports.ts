// Ops: an event's analytics report (KPIs, participation per hour, completion funnel, reward claims, notification
// funnel) as JSON or CSV. An ended event's report is the one stored at expiry (refreshed hourly until its 7-day
// retention is known); a running event's is computed now from D1 and not stored.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { readConfig } from "../../config";
import { buildReport, storedReport } from "../../db/analytics";
import { reportFailure } from "../../db/rollups";
import { EventReport, reportCsv } from "../../domain/report";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { checkEventId } from "../../http/ids";
import { EventIdParam, OPERATOR, errors, openApiApp } from "../../http/openapi";

const ReportQuery = z.strictObject({ format: z.enum(["json", "csv"]).default("json") });

export const adminReportRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["Analytics"],
    security: OPERATOR,
    method: "get",
    path: "/{eventId}/report",
    summary: "An event's report (JSON, or ?format=csv)",
    description: "KPIs as defined in the README (Analytics), with the participation curve per hour, the completion funnel by milestone, reward claims and the notification funnel. Aggregates only: no player ids.",
    request: { params: z.object({ eventId: EventIdParam }), query: ReportQuery },
    responses: {
      200: {
        description: "The report",
        content: { "application/json": { schema: EventReport }, "text/csv": { schema: z.string().meta({ description: "section,key,metric,value rows" }) } },
      },
      ...errors(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const eventId = checkEventId(c.req.valid("param").eventId);
    const started = Date.now();
    const cost = { rowsRead: 0 };
    let report = (await storedReport(c.env.DB, eventId))?.report ?? null;
    if (!report) {
      // The report row gave up (its last failure is kept): say so rather than trying the same failing build here.
      const failed = await reportFailure(c.env.DB, eventId);
      if (failed?.gaveUpAt) throw new ApiError(409, "report_failed", "the report could not be built at expiry and was given up; see details", { attempts: failed.failures, error: failed.error, gaveUpAt: new Date(failed.gaveUpAt).toISOString() });
      report = await buildReport(c.env.DB, eventId, started, { cost });
    }
    if (!report) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    // What the report cost D1 (0 rows for a stored one): the bench's figure, and an ops hint for big events.
    c.header("Server-Timing", `d1;dur=${Date.now() - started};desc="rows read ${cost.rowsRead}"`);
    if (c.req.valid("query").format === "csv")
      return c.body(reportCsv(report), 200, { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${eventId}-report.csv"` });
    return c.json(report, 200);
  },
);
