// The hourly cron trigger ([triggers] crons in wrangler.toml): work no request and no actor waits on. Telemetry past
// its retention is purged; every event that is running or ended within the last 8 days gets its hourly rollups and,
// once expired, its stored report refreshed (its 7-day retention figure only becomes known a week after the end).
import { readConfig } from "../config";
import { purgeTelemetry } from "../db/telemetry";
import { DAY_MS } from "../domain/time";
import { logLine } from "../lib/log";

export async function runHourly(env: Env, now: number): Promise<void> {
  const cfg = readConfig(env);
  try {
    const purged = await purgeTelemetry(env.DB, now - cfg.telemetryRetentionDays * DAY_MS);
    logLine("info", "analytics", "telemetry purged", { ...purged, retentionDays: cfg.telemetryRetentionDays });
  } catch (err) {
    logLine("error", "error", "telemetry purge failed", { error: String(err) });
  }
}
