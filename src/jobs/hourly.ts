// The hourly cron trigger ([triggers] crons in wrangler.toml): work no request and no actor waits on. For every event
// running or ended within the last 8 days, what the purge is about to take of its telemetry is kept first (hourly
// rollups, payers, active players, first-day figures; db/rollups.ts); an ended event's stored report is refreshed
// (late drains, late purchases) until its 7-day retention is known, and a report given up at expiry is tried again.
// Telemetry past its retention is purged first, never past what a listed event has kept. Then the profiles of
// players touched since the last run are recomputed (jobs/profiles.ts).
import { readConfig } from "../config";
import { buildReport, eventsToRollUp, markReportPosted, refreshTemplatePerformance, storeReport, telemetryCutoff } from "../db/analytics";
import { clearReportFailure, dropActivePlayers, keepEventTelemetry, keptFloor } from "../db/rollups";
import { runProfiles } from "./profiles";
import { purgeTelemetry } from "../db/telemetry";
import { logLine } from "../lib/log";
import { postSigned } from "../lib/webhook";

export async function runHourly(env: Env, now: number): Promise<void> {
  const cfg = readConfig(env);
  const cutoff = telemetryCutoff(now, cfg.telemetryRetentionDays);
  const events = await eventsToRollUp(env.DB, now);
  // The purge goes first, so it runs whatever happens to the keeps after it (and however many events there are), and
  // only up to what every listed event kept on earlier runs: telemetry is purged an hour after it is kept, never before.
  try {
    const floor = await keptFloor(env.DB, events.map((e) => e.eventId));
    const before = floor === null ? cutoff : Math.min(cutoff, floor);
    const purged = await purgeTelemetry(env.DB, before);
    logLine("info", "analytics", "telemetry purged", { ...purged, retentionDays: cfg.telemetryRetentionDays, heldBack: before < cutoff });
  } catch (err) {
    logLine("error", "error", "telemetry purge failed", { error: String(err) });
  }
  let rolledUp = 0;
  let refreshed = 0;
  for (const e of events) {
    // One event's failure must not stop the others; the next hour tries it again, and the purge waits for it.
    try {
      await keepEventTelemetry(env.DB, e.eventId, now, cutoff);
      rolledUp++;
      if (e.retentionKnown) await dropActivePlayers(env.DB, e.eventId);
      if ((e.reported && !e.retentionKnown) || (!e.reported && e.gaveUp)) {
        const report = await buildReport(env.DB, e.eventId, now);
        if (report) {
          await storeReport(env.DB, report);
          await refreshTemplatePerformance(env.DB, report.templateId);
          refreshed++;
          if (report.retentionKnown) await dropActivePlayers(env.DB, e.eventId);
          if (!e.reported) await lateReport(env, e.eventId, report, now);
        }
      }
    } catch (err) {
      logLine("error", "error", "analytics keep or report refresh failed", { eventId: e.eventId, error: String(err) });
    }
  }
  logLine("info", "analytics", "hourly rollups", { events: rolledUp, reportsRefreshed: refreshed });
  try {
    await runProfiles(env.DB, now);
  } catch (err) {
    logLine("error", "error", "profile recomputation failed", { error: String(err) });
  }
}

/** A report the event object gave up on at expiry, built here after all: its failure cleared, posted once (best effort). */
async function lateReport(env: Env, eventId: string, report: NonNullable<Awaited<ReturnType<typeof buildReport>>>, now: number) {
  await clearReportFailure(env.DB, eventId);
  logLine("info", "analytics", "event report stored after its expiry row gave up", { eventId });
  const cfg = readConfig(env);
  if (!cfg.reportsWebhookUrl) return;
  const status = await postSigned(cfg.reportsWebhookUrl, { type: "event.report", eventId, report }, cfg.reportsWebhookSecret, `report:${eventId}`);
  await markReportPosted(env.DB, eventId, status, now);
}
