// The event object's one hook into analytics: a little after expiry (the shards' last drains land in D1 within a
// couple of seconds) the event's report is built from D1, stored, the template's performance recomputed, and the
// report POSTed to the optional reports webhook, signed like every other webhook (Standard Webhooks; the webhook-id
// `report:<eventId>` is the same on every retry, so the receiver dedupes). The hourly cron refreshes the stored
// report afterwards until its 7-day retention is known; only this first one is posted.
import { readConfig } from "../../config";
import { buildReport, markReportPosted, refreshTemplatePerformance, storeReport } from "../../db/analytics";
import { recordReportFailure } from "../../db/rollups";
import type { EventInstance } from "../../domain/model";
import { SECOND_MS } from "../../domain/time";
import { logLine } from "../../lib/log";
import { postSigned } from "../../lib/webhook";

/** After expiry, so the progress shards' write-behind (1 s drains) has landed. */
export const REPORT_AFTER_MS = 10 * SECOND_MS;
/** A webhook that keeps failing is given up after this many tries (about half an hour of backoff); the report stays stored. */
const MAX_POST_ATTEMPTS = 10;
/**
 * A report that cannot be built (D1 refusing the queries, corrupt rows) is given up after this many tries rather than
 * retried every 5 min for ever; the failure stays in event_analytics and GET …/report answers it (409 report_failed).
 */
export const MAX_BUILD_ATTEMPTS = 10;

export const needsReport = (before: EventInstance | null | undefined, after: EventInstance) => after.state === "expired" && before?.state !== "expired";

/** Safe to repeat: the report is replaced, and the webhook delivery keeps its id. Throws to be retried with backoff. */
export async function reportAtExpiry(env: Env, instance: EventInstance, now: number, attempt: number): Promise<void> {
  let report;
  try {
    report = await buildReport(env.DB, instance.eventId, now, { known: instance });
    if (!report) return;
    await storeReport(env.DB, report);
    await refreshTemplatePerformance(env.DB, report.templateId);
  } catch (err) {
    const gaveUp = attempt + 1 >= MAX_BUILD_ATTEMPTS;
    await recordReportFailure(env.DB, instance.eventId, attempt + 1, String(err), gaveUp ? now : null);
    if (!gaveUp) throw err;
    logLine("error", "error", "event report gave up", { eventId: instance.eventId, attempts: attempt + 1, error: String(err) });
    return;
  }
  logLine("info", "analytics", "event report stored", { eventId: instance.eventId, engagementScore: report.kpis.engagementScore, participants: report.kpis.counts.participants });
  const cfg = readConfig(env);
  if (!cfg.reportsWebhookUrl) return;
  const status = await postSigned(cfg.reportsWebhookUrl, { type: "event.report", eventId: instance.eventId, report }, cfg.reportsWebhookSecret, `report:${instance.eventId}`);
  await markReportPosted(env.DB, instance.eventId, status, now);
  const retryable = status === null || status >= 500 || status === 408 || status === 429;
  if (status !== null && status >= 200 && status < 300) return;
  if (!retryable || attempt + 1 >= MAX_POST_ATTEMPTS) {
    logLine("error", "error", "reports webhook gave up", { eventId: instance.eventId, status, attempts: attempt + 1 });
    return;
  }
  throw new Error(`reports webhook answered ${status ?? "nothing"}`);
}
