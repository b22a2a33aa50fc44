// event_reports: the only module that writes it. Reads what D1 already holds about an event (player_progress,
// rewards_claimed, notification_queue/interactions, event_transitions, telemetry, and what rollups.ts kept once raw
// telemetry is purged: event_rollups, event_analytics) as counts, one D1 batch per report, and hands them to the pure formulas in domain/analytics.ts. Called behind the
// actors only: the hourly cron and the event object's expiry row, and the ops report route for a running event.
import { holdoutSection, type HoldoutSection } from "../domain/holdout";
import {
  FIRST_WINDOW_MS,
  RETENTION_WINDOW_MS,
  computeKpis,
  hourCount,
  milestoneFunnel,
  objectivesNeeded,
  participationCurve,
  percentileOffset,
  requiredTargets,
  templatePerformance,
  type HourRow,
} from "../domain/analytics";
import type { EventInstance } from "../domain/model";
import type { EventReport } from "../domain/report";
import { DAY_MS, HOUR_MS, iso } from "../domain/time";
import { chunked, field as f } from "./json-batch";
import { setTemplatePerformance } from "./templates";

/** Sessions last at most a day (domain/telemetry), so "overlaps [a, b)" is a bounded range scan on start. */
export const SESSION_MAX_MS = DAY_MS;

/** Players active in the first 24 h (a session overlapping [s, s + 24 h)), and how many of them joined (?1 event, ?2 s). */
export const FIRST_DAY = `
  SELECT COUNT(*) AS active, SUM(EXISTS (SELECT 1 FROM player_progress p WHERE p.player_id = a.player_id AND p.event_id = ?1)) AS joined
  FROM (SELECT DISTINCT player_id FROM telemetry_sessions WHERE start >= ?2 - ${SESSION_MAX_MS} AND start < ?2 + ${FIRST_WINDOW_MS} AND ends_at > ?2) a`;

/** Raw telemetry older than this is purged by the hourly job, once db/rollups.ts has kept what figures need of it. */
export const telemetryCutoff = (now: number, retentionDays: number | undefined) => (retentionDays === undefined ? -Infinity : now - retentionDays * DAY_MS);
/** The first day's sessions (those overlapping [s, s + 24 h) start at or after s - 24 h) are all before this line. */
export const firstDayIntact = (start: number, cutoff: number) => cutoff <= start - SESSION_MAX_MS;

/** The event's purchases: tagged with its id, or untagged and made by a participant during its window. */
export const EVENT_PURCHASES = `
  SELECT t.player_id, t.amount, t.at FROM telemetry_purchases t WHERE t.event_id = ?1
  UNION ALL
  SELECT t.player_id, t.amount, t.at FROM telemetry_purchases t
  WHERE t.event_id IS NULL AND t.at >= ?2 AND t.at < ?3
    AND EXISTS (SELECT 1 FROM player_progress p WHERE p.player_id = t.player_id AND p.event_id = ?1)`;

/** Where the event's kept telemetry ends and raw telemetry takes over (db/rollups.ts; the purge never passes it). */
const KEPT = `COALESCE((SELECT kept_before FROM event_analytics WHERE event_id = ?1), ${Number.MIN_SAFE_INTEGER})`;

/** The event's purchases as (player_id, amount): the payers kept before the kept line, and raw purchases from it on. */
const PAYERS = `
  SELECT player_id, revenue AS amount FROM event_payers WHERE event_id = ?1
  UNION ALL
  SELECT player_id, amount FROM (${EVENT_PURCHASES}) WHERE at >= ${KEPT}`;

/*
 * Per-participant figures are aggregated inside D1, so a report's memory and D1 answer stay the same size at 10^6
 * participants as at 10: completers (?2 is the required objectives' targets as one JSON object, ?3 how many a
 * completer has reached), the milestone funnel, and the latency percentiles (?2–?4 the nearest-rank offsets).
 */
const COMPLETERS = `
  SELECT COUNT(*) AS n FROM (
    SELECT p.progress_id FROM player_progress p JOIN json_each(p.objectives) v JOIN json_each(?2) t ON t.key = v.key
    WHERE p.event_id = ?1 AND v.value >= t.value GROUP BY p.progress_id HAVING COUNT(*) >= ?3)`;
const FUNNEL = `
  SELECT CAST(m.value AS INTEGER) AS milestone, COUNT(DISTINCT p.progress_id) AS n
  FROM player_progress p JOIN json_each(p.unlocked_milestones) m WHERE p.event_id = ?1 GROUP BY milestone`;
const latencyAt = (param: string) =>
  `(SELECT MAX(0, synced_at - last_updated) AS v FROM player_progress WHERE event_id = ?1 AND synced_at IS NOT NULL ORDER BY v LIMIT 1 OFFSET ${param})`;
const LATENCY = `SELECT ${latencyAt("?2")} AS p50, ${latencyAt("?3")} AS p95, ${latencyAt("?4")} AS p99`;

/**
 * Adaptive difficulty's struggling players per arm (treated, control): how many, how many completed (the COMPLETERS
 * rule: ?2 the event's required targets, ?3 how many), and how many came back within 7 days of the end (?4, ?5).
 */
const HOLDOUT = `
  SELECT a.arm AS arm, COUNT(*) AS n,
    SUM((SELECT COUNT(*) FROM json_each(p.objectives) v JOIN json_each(?2) t ON t.key = v.key WHERE v.value >= t.value) >= ?3) AS completers,
    SUM(EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.player_id = a.player_id AND s.start >= ?4 AND s.start < ?5)) AS retained
  FROM adaptive_decisions a JOIN player_progress p ON p.event_id = a.event_id AND p.player_id = a.player_id
  WHERE a.event_id = ?1 GROUP BY a.arm`;

const joined = (alias: string) => `EXISTS (SELECT 1 FROM player_progress p WHERE p.player_id = ${alias}.player_id AND p.event_id = ?1)`;

type Loaded = { instance: EventInstance; templateId: string };
/** Filled in by buildReport when asked: the rows D1 read for it (the report route puts it in Server-Timing). */
export type ReportCost = { rowsRead: number };

export async function loadInstance(d1: D1Database, eventId: string): Promise<Loaded | null> {
  const row = await d1.prepare("SELECT document, template_id FROM instances WHERE event_id = ?").bind(eventId).first<{ document: string; template_id: string }>();
  return row ? { instance: JSON.parse(row.document) as EventInstance, templateId: row.template_id } : null;
}

/**
 * Per-hour joins (CAST: D1 binds JS numbers as REAL, so the division would not truncate), session starts (distinct
 * players), purchases and revenue, hour 0 being the event's first; only the hours in [lo, hi) (default: all of them;
 * joins before the start count in hour 0).
 */
export function hourlyStatements(d1: D1Database, eventId: string, start: number, end: number, lo = start, hi = end) {
  const joinsFrom = lo <= start ? Number.MIN_SAFE_INTEGER : lo;
  const joinsTo = hi >= end ? Number.MAX_SAFE_INTEGER : hi;
  return [
    d1
      .prepare("SELECT CAST((created_at - ?2) / 3600000 AS INTEGER) AS hour, COUNT(*) AS n FROM player_progress WHERE event_id = ?1 AND created_at >= ?3 AND created_at < ?4 GROUP BY hour")
      .bind(eventId, start, joinsFrom, joinsTo),
    d1
      .prepare("SELECT CAST((start - ?1) / 3600000 AS INTEGER) AS hour, COUNT(DISTINCT player_id) AS n FROM telemetry_sessions WHERE start >= ?2 AND start < ?3 GROUP BY hour")
      .bind(start, Math.max(start, lo), Math.min(end, hi)),
    d1
      .prepare(`SELECT CAST((at - ?2) / 3600000 AS INTEGER) AS hour, COUNT(*) AS n, SUM(amount) AS revenue FROM (${EVENT_PURCHASES}) WHERE at >= ?4 AND at < ?5 GROUP BY hour`)
      .bind(eventId, start, end, Math.max(start, lo), Math.min(end, hi)),
  ];
}

export function hourRows(joins: D1Result, active: D1Result, buys: D1Result): HourRow[] {
  const rows = new Map<number, HourRow>();
  const at = (h: number) => rows.get(h) ?? (rows.set(h, { hour: h, joins: 0, activePlayers: 0, purchases: 0, revenue: 0 }), rows.get(h)!);
  for (const r of joins.results as { hour: number; n: number }[]) at(Math.max(0, r.hour)).joins += r.n;
  for (const r of active.results as { hour: number; n: number }[]) at(r.hour).activePlayers = r.n;
  for (const r of buys.results as { hour: number; n: number; revenue: number }[]) Object.assign(at(r.hour), { purchases: r.n, revenue: r.revenue });
  return [...rows.values()];
}

/**
 * Everything one report needs, read in one D1 batch, and the report built from it.
 */
export type ReportOptions = {
  /** The event object's own instance (D1's projection of it may still be a moment behind); else the projection. */
  known?: EventInstance;
  cost?: ReportCost;
};

export async function buildReport(d1: D1Database, eventId: string, now: number, { known, cost }: ReportOptions = {}): Promise<EventReport | null> {
  const loaded = known ? { instance: known, templateId: known.templateId } : await loadInstance(d1, eventId);
  if (!loaded) return null;
  const { instance } = loaded;
  const s = instance.startTime;
  const e = instance.endTime;
  const retentionKnown = now >= e + RETENTION_WINDOW_MS;
  const targets = requiredTargets(instance.objectives, instance.clan?.objectiveIds ?? []);
  const need = objectivesNeeded(Object.keys(targets).length);
  const results = await d1.batch([
    /* 0 */ d1.prepare("SELECT COUNT(*) AS participants, COUNT(synced_at) AS samples FROM player_progress WHERE event_id = ?").bind(eventId),
    /* 1 */ d1.prepare(FIRST_DAY).bind(eventId, s),
    /* 2 */ d1.prepare(`SELECT COALESCE(SUM(amount), 0) AS revenue, COUNT(DISTINCT player_id) AS payers FROM (${PAYERS})`).bind(eventId, s, e),
    /* 3 */ d1.prepare(`SELECT COUNT(*) AS n FROM (SELECT DISTINCT player_id FROM (${PAYERS})) x WHERE ${joined("x")}`).bind(eventId, s, e),
    /* 4 */ d1
      .prepare(
        `SELECT 'participants' AS cohort, COUNT(*) AS n,
                SUM(EXISTS (SELECT 1 FROM telemetry_sessions t WHERE t.player_id = p.player_id AND t.start >= ?2 AND t.start < ?3)) AS retained
         FROM player_progress p WHERE p.event_id = ?1
         UNION ALL
         SELECT 'others', COUNT(*), SUM(EXISTS (SELECT 1 FROM telemetry_sessions t WHERE t.player_id = w.player_id AND t.start >= ?2 AND t.start < ?3))
         FROM (SELECT player_id FROM event_active_players WHERE event_id = ?1
               UNION SELECT player_id FROM telemetry_sessions WHERE start >= MAX(?4, ${KEPT}) AND start < ?2 AND ends_at > ?5) w WHERE NOT ${joined("w")}`,
      )
      .bind(eventId, e, e + RETENTION_WINDOW_MS, s - SESSION_MAX_MS, s),
    /* 5 */ d1.prepare("SELECT to_state FROM event_transitions WHERE event_id = ? AND to_state IN ('active', 'failed_activation')").bind(eventId),
    /* 6 */ d1.prepare("SELECT notification_type AS type, status, COUNT(*) AS n FROM notification_queue WHERE event_id = ? GROUP BY type, status").bind(eventId),
    /* 7 */ d1
      .prepare(
        `SELECT q.notification_type AS type, COUNT(i.shown_at) AS shown, COUNT(i.clicked_at) AS clicked
         FROM notification_queue q JOIN notification_interactions i ON i.notification_id = q.notification_id
         WHERE q.event_id = ? GROUP BY q.notification_type`,
      )
      .bind(eventId),
    /* 8 */ d1
      .prepare(
        `SELECT COUNT(*) AS n FROM player_progress p WHERE p.event_id = ?1 AND EXISTS (
           SELECT 1 FROM player_progress q JOIN instances i ON i.event_id = q.event_id
           WHERE q.player_id = p.player_id AND q.event_id != ?1 AND i.template_id = ?2 AND i.start_time < ?3)`,
      )
      .bind(eventId, loaded.templateId, s),
    /* 9 */ d1.prepare("SELECT milestone_index AS milestone, source, COUNT(*) AS n FROM rewards_claimed WHERE event_id = ? GROUP BY milestone, source").bind(eventId),
    ...hourlyStatements(d1, eventId, s, e),
    /* 13 */ d1.prepare(COMPLETERS).bind(eventId, JSON.stringify(targets), need ?? 0),
    /* 14 */ d1.prepare(FUNNEL).bind(eventId),
    /* 15 */ d1.prepare("SELECT first_day_active AS active, first_day_joined AS joined, kept_before AS keptBefore FROM event_analytics WHERE event_id = ?").bind(eventId),
    /* 16 */ d1.prepare(`SELECT hour, joins, active_players AS activePlayers, purchases, revenue FROM event_rollups WHERE event_id = ?1 AND hour < ${KEPT}`).bind(eventId),
    /* 17 */ d1.prepare(HOLDOUT).bind(eventId, JSON.stringify(targets), need ?? 0, e, e + RETENTION_WINDOW_MS),
  ]);
  const { participants, samples } = results[0].results[0] as { participants: number; samples: number };
  const latency = samples > 0 ? await d1.prepare(LATENCY).bind(eventId, ...[50, 95, 99].map((p) => percentileOffset(samples, p))).run() : null;
  if (cost) cost.rowsRead = [...results, ...(latency ? [latency] : [])].reduce((n, r) => n + (r.meta.rows_read ?? 0), 0);
  const pcts = (latency?.results[0] ?? { p50: null, p95: null, p99: null }) as { p50: number | null; p95: number | null; p99: number | null };
  // Once the first day's sessions are kept (and may be purged), the figures the hourly job took while they were all there.
  const kept = results[15].results[0] as { active: number | null; joined: number | null; keptBefore: number | null } | undefined;
  const snapshot = kept?.active != null && !firstDayIntact(s, kept.keptBefore ?? Number.MIN_SAFE_INTEGER) ? { active: kept.active, joined: kept.joined } : null;
  const first = snapshot ?? (results[1].results[0] as { active: number; joined: number | null });
  const money = results[2].results[0] as { revenue: number; payers: number };
  const cohorts = results[4].results as { cohort: string; n: number; retained: number | null }[];
  const states = (results[5].results as { to_state: string }[]).map((r) => r.to_state);
  const pushRows = results[6].results as { type: string; status: string; n: number }[];
  const sum = (status: string) => pushRows.filter((r) => r.status === status).reduce((a, r) => a + r.n, 0);
  const cohort = (name: string) => {
    const c = cohorts.find((x) => x.cohort === name);
    return { cohort: c?.n ?? 0, retained: c?.retained ?? 0 };
  };
  const kpis = computeKpis({
    activeFirstDay: first.active,
    activeFirstDayJoined: first.joined ?? 0,
    participants,
    completers: need === null ? null : (results[13].results[0] as { n: number }).n,
    revenue: money.revenue,
    payers: money.payers,
    participantPayers: (results[3].results[0] as { n: number }).n,
    retention: retentionKnown ? { participants: cohort("participants"), nonParticipants: cohort("others") } : null,
    activation: states.includes("active") ? "activated" : states.includes("failed_activation") ? "failed" : "pending",
    syncLatencyMs: { ...pcts, samples },
    notifications: { sent: sum("sent"), failed: sum("failed") },
    repeaters: (results[8].results[0] as { n: number }).n,
  });
  // Hours that began before the kept line (their telemetry may be purged): as the hourly job kept them.
  const keptHours = new Map((results[16].results as HourRow[]).map((r) => [Math.round((r.hour - s) / HOUR_MS), r]));
  const hours = [...hourRows(results[10], results[11], results[12]).filter((r) => !keptHours.has(r.hour)), ...[...keptHours].map(([hour, r]) => ({ ...r, hour }))];
  return assemble(loaded, now, retentionKnown, kpis, {
    curve: participationCurve(hours, hourCount(s, e, now)),
    funnel: milestoneFunnel(results[14].results as { milestone: number; n: number }[], participants, instance.milestones),
    claims: results[9].results as { milestone: number; source: string; n: number }[],
    pushRows,
    interactions: results[7].results as { type: string; shown: number; clicked: number }[],
    holdout: holdoutOf(results[17].results as { arm: string; n: number; completers: number | null; retained: number | null }[], need !== null, retentionKnown),
  });
}

function holdoutOf(rows: { arm: string; n: number; completers: number | null; retained: number | null }[], completable: boolean, retentionKnown: boolean) {
  const arm = (name: string) => {
    const r = rows.find((x) => x.arm === name);
    return { players: r?.n ?? 0, completers: completable ? (r?.completers ?? 0) : null, retained: retentionKnown ? (r?.retained ?? 0) : null };
  };
  return holdoutSection(arm("treated"), arm("control"));
}

function assemble(
  { instance, templateId }: Loaded,
  now: number,
  retentionKnown: boolean,
  kpis: ReturnType<typeof computeKpis>,
  parts: {
    curve: ReturnType<typeof participationCurve>;
    funnel: ReturnType<typeof milestoneFunnel>;
    claims: { milestone: number; source: string; n: number }[];
    pushRows: { type: string; status: string; n: number }[];
    interactions: { type: string; shown: number; clicked: number }[];
    holdout: HoldoutSection;
  },
): EventReport {
  const claims = new Map<number, { milestoneIndex: number; claims: number; bySource: Record<string, number> }>();
  for (const c of parts.claims) {
    const entry = claims.get(c.milestone) ?? { milestoneIndex: c.milestone, claims: 0, bySource: {} };
    entry.claims += c.n;
    entry.bySource[c.source] = (entry.bySource[c.source] ?? 0) + c.n;
    claims.set(c.milestone, entry);
  }
  const types = [...new Set([...parts.pushRows.map((r) => r.type), ...parts.interactions.map((r) => r.type)])].sort();
  const count = (type: string, statuses: string[]) => parts.pushRows.filter((r) => r.type === type && statuses.includes(r.status)).reduce((a, r) => a + r.n, 0);
  return {
    eventId: instance.eventId,
    templateId,
    name: instance.name,
    state: instance.state,
    startTime: iso(instance.startTime),
    endTime: iso(instance.endTime),
    generatedAt: iso(now),
    /** False while the event runs; true once generated at (or after) expiry. */
    final: instance.state === "expired" || instance.state === "archived",
    retentionKnown,
    kpis,
    participationByHour: parts.curve.map((p) => ({ ...p, hourStart: iso(instance.startTime + p.hour * HOUR_MS) })),
    completionFunnel: parts.funnel,
    rewardClaims: [...claims.values()].sort((a, b) => a.milestoneIndex - b.milestoneIndex),
    notificationFunnel: types.map((type) => {
      const seen = parts.interactions.find((i) => i.type === type);
      return {
        type,
        sent: count(type, ["sent", "skipped", "failed"]),
        pushDelivered: count(type, ["sent"]),
        pushFailed: count(type, ["failed"]),
        shown: seen?.shown ?? 0,
        clicked: seen?.clicked ?? 0,
      };
    }),
    holdout: parts.holdout,
  };
}

/** Stores (or replaces) an event's report with its headline figures, which the template averages are taken from. */
export async function storeReport(d1: D1Database, report: EventReport): Promise<void> {
  await d1
    .prepare(
      `INSERT INTO event_reports (event_id, template_id, generated_at, report, engagement_score, completion_rate, rppu)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (event_id) DO UPDATE SET generated_at = excluded.generated_at, report = excluded.report,
         engagement_score = excluded.engagement_score, completion_rate = excluded.completion_rate, rppu = excluded.rppu`,
    )
    .bind(report.eventId, report.templateId, Date.parse(report.generatedAt), JSON.stringify(report), report.kpis.engagementScore, report.kpis.completionRate, report.kpis.rppu)
    .run();
}

export async function storedReport(d1: D1Database, eventId: string): Promise<{ report: EventReport; webhookStatus: number | null; postedAt: number | null } | null> {
  const row = await d1
    .prepare("SELECT report, webhook_status, posted_at FROM event_reports WHERE event_id = ?")
    .bind(eventId)
    .first<{ report: string; webhook_status: number | null; posted_at: number | null }>();
  return row ? { report: JSON.parse(row.report), webhookStatus: row.webhook_status, postedAt: row.posted_at } : null;
}

export async function markReportPosted(d1: D1Database, eventId: string, status: number | null, at: number): Promise<void> {
  await d1
    .prepare("UPDATE event_reports SET webhook_status = ?2, posted_at = CASE WHEN ?2 BETWEEN 200 AND 299 THEN ?3 ELSE posted_at END WHERE event_id = ?1")
    .bind(eventId, status, at)
    .run();
}

/** The headline figures of every stored report of a template, for its averages. */
export async function templateReports(d1: D1Database, templateId: string) {
  const { results } = await d1
    .prepare("SELECT engagement_score AS engagementScore, completion_rate AS completionRate, rppu FROM event_reports WHERE template_id = ?")
    .bind(templateId)
    .all<{ engagementScore: number | null; completionRate: number | null; rppu: number | null }>();
  return results;
}

/** Recomputes a template's performance (means over its stored reports) into its row. */
export async function refreshTemplatePerformance(d1: D1Database, templateId: string): Promise<void> {
  await setTemplatePerformance(d1, templateId, templatePerformance(await templateReports(d1, templateId)));
}

/**
 * Events the hourly job looks at: running, or ended within the retention window plus a day (their report still
 * moves), with whether their report is stored, final (retention known), or was given up at expiry.
 */
export async function eventsToRollUp(d1: D1Database, now: number): Promise<{ eventId: string; startTime: number; state: string; reported: boolean; retentionKnown: boolean; gaveUp: boolean }[]> {
  const { results } = await d1
    .prepare(
      `SELECT i.event_id AS eventId, i.start_time AS startTime, i.state, r.event_id IS NOT NULL AS reported,
              COALESCE(r.report ->> '$.retentionKnown', 0) AS retentionKnown, a.report_gave_up_at IS NOT NULL AS gaveUp
       FROM instances i LEFT JOIN event_reports r ON r.event_id = i.event_id LEFT JOIN event_analytics a ON a.event_id = i.event_id
       WHERE i.start_time <= ?1 AND i.end_time >= ?2 AND i.state IN ('active', 'paused', 'expired', 'archived')`,
    )
    .bind(now, now - RETENTION_WINDOW_MS - DAY_MS)
    .all<{ eventId: string; startTime: number; state: string; reported: number; retentionKnown: number; gaveUp: number }>();
  return results.map((r) => ({ ...r, reported: !!r.reported, retentionKnown: !!r.retentionKnown, gaveUp: !!r.gaveUp }));
}
