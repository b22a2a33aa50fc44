// event_rollups, event_analytics, event_payers and event_active_players: the only module that writes them. What
// analytics keeps beyond raw telemetry's retention (TELEMETRY_RETENTION_DAYS; an event may run 90 days). Raw telemetry
// is purged by the hourly cron only after this module has kept, for each event, what the purge is about to take:
// each closed hour's figures, the event's payers (revenue and purchases per payer), the players active during it, and
// the first-day figures. event_analytics.kept_before records how far that went, and the purge never passes it, so the
// report (db/analytics.ts) reads kept figures before it and raw telemetry from it on, and neither counts twice.
// Recent hours are also rolled up every run (late telemetry lands in them), so the table follows a running event.
// Plus the report row's failures. Written by the hourly cron (and the event object's report row, for failures).
import { FIRST_WINDOW_MS, RETENTION_WINDOW_MS, hourCount, participationCurve } from "../domain/analytics";
import { HOUR_MS } from "../domain/time";
import { EVENT_PURCHASES, FIRST_DAY, SESSION_MAX_MS, hourRows, hourlyStatements, loadInstance } from "./analytics";
import { chunked, field as f } from "./json-batch";

/** Recent hours rolled up on every run: a game server's batch may land an hour or two late. */
const RECENT_MS = 3 * HOUR_MS;

/**
 * Keeps what the purge up to `cutoff` will take from one event's telemetry (hours beginning before it, payers, active
 * players, the first-day figures) and rolls up its recent hours; then moves kept_before to `cutoff`, all in one D1
 * batch. Idempotent: telemetry already kept (before kept_before) is not read again. Returns the hours written.
 */
export async function keepEventTelemetry(d1: D1Database, eventId: string, now: number, cutoff: number): Promise<number> {
  const loaded = await loadInstance(d1, eventId);
  if (!loaded) return 0;
  const { startTime: s, endTime: e } = loaded.instance;
  const state = await d1
    .prepare("SELECT kept_before AS keptBefore, first_day_active AS firstDay FROM event_analytics WHERE event_id = ?")
    .bind(eventId)
    .first<{ keptBefore: number | null; firstDay: number | null }>();
  // Tagged purchases may come at any time, so a first keep reads from the beginning; each later one from where the last stopped.
  const from = state?.keptBefore ?? Number.MIN_SAFE_INTEGER;
  const keeping = cutoff > from;
  const writes: D1PreparedStatement[] = [];
  let hours = 0;

  // Hours go by their start: those beginning in [from, cutoff) are kept now (one beginning before `from` was kept by
  // an earlier run, while all of it was stored), and those beginning in the last few hours follow the live event.
  const hourUp = (t: number) => s + Math.ceil((t - s) / HOUR_MS) * HOUR_MS;
  const ranges = [keeping ? [from, cutoff] : null, [Math.max(from, now - RECENT_MS), now]]
    .filter((r): r is number[] => r !== null)
    .map(([a, b]) => [hourUp(Math.max(s, a)), Math.min(e, hourUp(Math.min(e, b)))])
    .filter(([lo, hi]) => lo < hi);
  // A first keep of an event that began before the cutoff (a deployment upgraded mid-event): its early hours' telemetry
  // is already purged, so rollups stored while it was there stand.
  const firstKeep = state?.keptBefore == null;
  for (const [lo, hi] of ranges) {
    const [joins, active, buys] = await d1.batch(hourlyStatements(d1, eventId, s, e, lo, hi));
    const rows = participationCurve(hourRows(joins, active, buys), hourCount(s, hi, hi))
      .map((p) => ({ ...p, eventId, hourStart: s + p.hour * HOUR_MS, computedAt: now }))
      .filter((r) => r.hourStart >= lo && r.hourStart < hi);
    hours += rows.length;
    const onConflict =
      firstKeep && hi <= cutoff
        ? "DO NOTHING"
        : "DO UPDATE SET joins = excluded.joins, active_players = excluded.active_players, purchases = excluded.purchases, revenue = excluded.revenue, computed_at = excluded.computed_at";
    if (rows.length)
      writes.push(
        ...chunked(
          d1,
          `INSERT INTO event_rollups (event_id, hour, joins, active_players, purchases, revenue, computed_at)
           SELECT ${["eventId", "hourStart", "joins", "activePlayers", "purchases", "revenue", "computedAt"].map(f).join(", ")} FROM json_each(?1) AS j WHERE true
           ON CONFLICT (event_id, hour) ${onConflict}`,
          rows,
        ),
      );
  }

  if (keeping) {
    // The first day's sessions are about to go: its figures, read while every one of them is still stored.
    if (cutoff > s - SESSION_MAX_MS && (state?.firstDay ?? null) === null && now >= s + FIRST_WINDOW_MS) {
      const first = await d1.prepare(FIRST_DAY).bind(eventId, s).first<{ active: number; joined: number | null }>();
      writes.push(
        d1
          .prepare(
            `INSERT INTO event_analytics (event_id, first_day_active, first_day_joined, first_day_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (event_id) DO UPDATE SET first_day_active = excluded.first_day_active, first_day_joined = excluded.first_day_joined, first_day_at = excluded.first_day_at`,
          )
          .bind(eventId, first?.active ?? 0, first?.joined ?? 0, now),
      );
    }
    // Each statement runs only if kept_before is still where this run read it: two runs at once (a slow one and the
    // next hour's) cannot both add the same purchases. The batch is one transaction, so the first to commit wins.
    const still = `COALESCE((SELECT kept_before FROM event_analytics WHERE event_id = ?1), ${Number.MIN_SAFE_INTEGER}) = ?4`;
    writes.push(
      // Purchases in [from, cutoff) belonging to the event, added to each payer's kept totals.
      d1
        .prepare(
          `INSERT INTO event_payers (event_id, player_id, revenue, purchases)
           SELECT ?1, player_id, SUM(amount), COUNT(*) FROM (${EVENT_PURCHASES}) WHERE at >= ?4 AND at < ?5 AND ${still} GROUP BY player_id
           ON CONFLICT (event_id, player_id) DO UPDATE SET revenue = revenue + excluded.revenue, purchases = purchases + excluded.purchases`,
        )
        .bind(eventId, s, e, from, cutoff),
    );
    // Players with a session overlapping [s, e) that starts in [from, cutoff): the non-participants' retention group,
    // needed only until that figure is final (then dropped, and not gathered again).
    if (now < e + RETENTION_WINDOW_MS)
      writes.push(
        d1
          .prepare(
            `INSERT INTO event_active_players (event_id, player_id)
             SELECT DISTINCT ?1, player_id FROM telemetry_sessions WHERE start >= MAX(?2, ?4) AND start < MIN(?3, ?5) AND ends_at > ?6 AND ${still}
             ON CONFLICT (event_id, player_id) DO NOTHING`,
          )
          .bind(eventId, s - SESSION_MAX_MS, e, from, cutoff, s),
      );
    writes.push(
      d1
        .prepare(
          `INSERT INTO event_analytics (event_id, kept_before) SELECT ?1, ?2 WHERE ${still.replaceAll("?4", "?3")}
           ON CONFLICT (event_id) DO UPDATE SET kept_before = excluded.kept_before`,
        )
        .bind(eventId, cutoff, from),
    );
  }
  if (writes.length) await d1.batch(writes);
  return hours;
}

/**
 * How far the purge may go: the lowest kept line of the given events (an event never kept counts from a day before
 * its start, where its telemetry begins), so telemetry an event has not kept yet is never purged. Null: no events.
 */
export async function keptFloor(d1: D1Database, eventIds: string[]): Promise<number | null> {
  if (!eventIds.length) return null;
  const row = await d1
    .prepare(
      `SELECT MIN(COALESCE(a.kept_before, i.start_time - ${SESSION_MAX_MS})) AS floor
       FROM instances i LEFT JOIN event_analytics a ON a.event_id = i.event_id WHERE i.event_id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(eventIds))
    .first<{ floor: number | null }>();
  return row?.floor ?? null;
}

/** The active-player set is only the non-participants' retention group: once that figure is final it goes. */
export async function dropActivePlayers(d1: D1Database, eventId: string): Promise<void> {
  await d1.prepare("DELETE FROM event_active_players WHERE event_id = ?").bind(eventId).run();
}

/**
 * Privacy erasure: the player's kept rows move to their pseudonym (merged into a row it may already have), so an
 * erased payer still counts in revenue, payers and RPPU, and nothing kept names them.
 */
export const eraseKeptStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  {
    name: "event_payers",
    statement: d1
      .prepare(
        `INSERT INTO event_payers (event_id, player_id, revenue, purchases) SELECT event_id, ?2, revenue, purchases FROM event_payers WHERE player_id = ?1 AND true
         ON CONFLICT (event_id, player_id) DO UPDATE SET revenue = revenue + excluded.revenue, purchases = purchases + excluded.purchases`,
      )
      .bind(playerId, pseudonym),
    counted: false,
  },
  { name: "event_payers", statement: d1.prepare("DELETE FROM event_payers WHERE player_id = ?1").bind(playerId) },
  { name: "event_active_players", statement: d1.prepare("UPDATE OR IGNORE event_active_players SET player_id = ?2 WHERE player_id = ?1").bind(playerId, pseudonym) },
  { name: "event_active_players", statement: d1.prepare("DELETE FROM event_active_players WHERE player_id = ?1").bind(playerId) },
];

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

/** A report built after all (by the hourly retry): its failure is history. */
export async function clearReportFailure(d1: D1Database, eventId: string): Promise<void> {
  await d1.prepare("UPDATE event_analytics SET report_failures = 0, report_error = NULL, report_gave_up_at = NULL WHERE event_id = ?").bind(eventId).run();
}

export async function reportFailure(d1: D1Database, eventId: string): Promise<{ failures: number; error: string | null; gaveUpAt: number | null } | null> {
  return d1
    .prepare("SELECT report_failures AS failures, report_error AS error, report_gave_up_at AS gaveUpAt FROM event_analytics WHERE event_id = ? AND report_failures > 0")
    .bind(eventId)
    .first();
}
