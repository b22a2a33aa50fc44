// The hourly cron trigger ([triggers] crons in wrangler.toml): work no request and no actor waits on. Telemetry past
// its retention is purged; every event running or ended within the last 8 days gets its hourly rollups (the hours
// still fully stored) and first-day snapshot stored, and
// an ended event's stored report is refreshed (late drains, late purchases) until its 7-day retention is known; and
// the profiles of players touched since the last run are recomputed (jobs/profiles.ts).
import { readConfig } from "../config";
import { buildReport, eventsToRollUp, refreshTemplatePerformance, storeReport, telemetryCutoff } from "../db/analytics";
import { storeRollups } from "../db/rollups";
import { runProfiles } from "./profiles";
import { purgeTelemetry } from "../db/telemetry";
import { logLine } from "../lib/log";

export async function runHourly(env: Env, now: number): Promise<void> {
  const cfg = readConfig(env);
  try {
    const purged = await purgeTelemetry(env.DB, telemetryCutoff(now, cfg.telemetryRetentionDays));
    logLine("info", "analytics", "telemetry purged", { ...purged, retentionDays: cfg.telemetryRetentionDays });
  } catch (err) {
    logLine("error", "error", "telemetry purge failed", { error: String(err) });
  }
  let rolledUp = 0;
  let refreshed = 0;
  for (const e of await eventsToRollUp(env.DB, now)) {
    // One event's failure must not stop the others; the next hour tries it again.
    try {
      await storeRollups(env.DB, e.eventId, now, telemetryCutoff(now, cfg.telemetryRetentionDays));
      rolledUp++;
      if (e.reported && !e.retentionKnown) {
        const report = await buildReport(env.DB, e.eventId, now, { retentionDays: cfg.telemetryRetentionDays });
        if (report) {
          await storeReport(env.DB, report);
          await refreshTemplatePerformance(env.DB, report.templateId);
          refreshed++;
        }
      }
    } catch (err) {
      logLine("error", "error", "analytics rollup failed", { eventId: e.eventId, error: String(err) });
    }
  }
  logLine("info", "analytics", "hourly rollups", { events: rolledUp, reportsRefreshed: refreshed });
  try {
    await runProfiles(env.DB, now);
  } catch (err) {
    logLine("error", "error", "profile recomputation failed", { error: String(err) });
  }
}
