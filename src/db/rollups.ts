// event_rollups and event_analytics: the only module that writes them. What analytics keeps beyond raw telemetry's
// retention (TELEMETRY_RETENTION_DAYS; an event may run 90 days): each closed hour of an event as it was while its
// sessions and purchases were all stored, and the first-day figures (the participation rate's two counts) taken
// after the event's first 24 h, refreshed until their sessions may be purged. Plus the report row's failures.
// Written by the hourly cron (and the event object's report row, for failures); db/analytics.ts reads them.
import { FIRST_WINDOW_MS, hourCount, participationCurve } from "../domain/analytics";
import { HOUR_MS } from "../domain/time";
import { FIRST_DAY, firstDayIntact, hourRows, hourlyStatements, loadInstance } from "./analytics";
import { chunked, field as f } from "./json-batch";

/**
 * The hourly rollups of one event up to `now`, upserted for the hours whose telemetry is all still stored (begun at or
 * after `cutoff`): an hour before it keeps the figures it was last given, instead of being overwritten with what a
 * purge left (zeros). Then the first-day snapshot, while its sessions are all there. Returns the hours written.
 */
export async function storeRollups(d1: D1Database, eventId: string, now: number, cutoff: number): Promise<number> {
  const loaded = await loadInstance(d1, eventId);
  if (!loaded) return 0;
  const { startTime: s, endTime: e } = loaded.instance;
  const [joins, active, buys, first] = await d1.batch([...hourlyStatements(d1, eventId, s, e), d1.prepare(FIRST_DAY).bind(eventId, s)]);
  if (now >= s + FIRST_WINDOW_MS && firstDayIntact(s, cutoff)) {
    const { active: n, joined } = first.results[0] as { active: number; joined: number | null };
    await d1
      .prepare(
        `INSERT INTO event_analytics (event_id, first_day_active, first_day_joined, first_day_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (event_id) DO UPDATE SET first_day_active = excluded.first_day_active, first_day_joined = excluded.first_day_joined, first_day_at = excluded.first_day_at`,
      )
      .bind(eventId, n, joined ?? 0, now)
      .run();
  }
  const rows = participationCurve(hourRows(joins, active, buys), hourCount(s, e, now))
    .map((p) => ({ ...p, eventId, hourStart: s + p.hour * HOUR_MS, computedAt: now }))
    .filter((r) => r.hourStart >= cutoff);
  if (rows.length === 0) return 0;
  await d1.batch(
    chunked(
      d1,
      `INSERT INTO event_rollups (event_id, hour, joins, active_players, purchases, revenue, computed_at)
       SELECT ${["eventId", "hourStart", "joins", "activePlayers", "purchases", "revenue", "computedAt"].map(f).join(", ")} FROM json_each(?1) AS j WHERE true
       ON CONFLICT (event_id, hour) DO UPDATE SET joins = excluded.joins, active_players = excluded.active_players,
         purchases = excluded.purchases, revenue = excluded.revenue, computed_at = excluded.computed_at`,
      rows,
    ),
  );
  return rows.length;
}


/** The report row failed (attempt `failures`); `gaveUp`: it was the last try. Best-effort: D1 may be what failed. */
export async function recordReportFailure(d1: D1Database, eventId: string, failures: number, error: string, gaveUpAt: number | null): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO event_analytics (event_id, report_failures, report_error, report_gave_up_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (event_id) DO UPDATE SET report_failures = excluded.report_failures, report_error = excluded.report_error, report_gave_up_at = excluded.report_gave_up_at`,
    )
    .bind(eventId, failures, error.slice(0, 500), gaveUpAt)
    .run()
    .catch(() => undefined);
}

export async function reportFailure(d1: D1Database, eventId: string): Promise<{ failures: number; error: string | null; gaveUpAt: number | null } | null> {
  return d1
    .prepare("SELECT report_failures AS failures, report_error AS error, report_gave_up_at AS gaveUpAt FROM event_analytics WHERE event_id = ? AND report_failures > 0")
    .bind(eventId)
    .first();
}

