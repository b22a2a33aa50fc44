// alerts: the only module that writes it. Also reads, once per evaluation, what the rules measure: events to look
// at, the shards' drain health, failed reward deliveries, first-6-h participation, completion and
// notification delivery (src/jobs/alerts.ts turns them into evaluations with src/domain/alerts.ts).
import { COMPLETION_SHARE } from "../domain/analytics";
import {
  ACTIVATION_GRACE_MS,
  ENDED_WATCH_MS,
  GLOBAL_SCOPE,
  PARTICIPATION_WINDOW_MS,
  REWARD_ERROR_WINDOW_MS,
  SYNC_WINDOW_MS,
  ruleOf,
  type AlertKind,
  type AlertView,
  type Evaluation,
  type OpenAlert,
  type Silenced,
} from "../domain/alerts";
import type { Objective } from "../domain/model";
import { DAY_MS, iso } from "../domain/time";

type Row = {
  alert_id: string;
  scope: string;
  kind: string;
  severity: string;
  state: string;
  value: number | null;
  threshold: number;
  opened_at: number;
  evaluated_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  resolve_reason: string | null;
  delivery_pending: string | null;
  delivery_attempts: number;
  webhook_status: number | null;
};

export function alertView(r: Row): AlertView {
  const rule = ruleOf(r.kind as AlertKind);
  return {
    alertId: r.alert_id,
    kind: r.kind as AlertKind,
    severity: r.severity as AlertView["severity"],
    eventId: r.scope === GLOBAL_SCOPE ? null : r.scope,
    state: r.state as AlertView["state"],
    value: r.value,
    threshold: r.threshold,
    unit: rule.unit,
    openedAt: iso(r.opened_at),
    evaluatedAt: iso(r.evaluated_at),
    resolvedAt: r.resolved_at === null ? null : iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolveReason: r.resolve_reason,
    webhook: { pending: r.delivery_pending as "opened" | "resolved" | null, attempts: r.delivery_attempts, lastStatus: r.webhook_status },
  };
}

export type AlertFilter = { state?: "open" | "resolved"; severity?: "critical" | "warning"; eventId?: string; limit: number };

/** Newest first. */
export async function listAlerts(d1: D1Database, f: AlertFilter): Promise<AlertView[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.state) (where.push("state = ?"), args.push(f.state));
  if (f.severity) (where.push("severity = ?"), args.push(f.severity));
  if (f.eventId) (where.push("scope = ?"), args.push(f.eventId));
  const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY opened_at DESC, alert_id LIMIT ?`;
  const rows = await d1.prepare(sql).bind(...args, f.limit).all<Row>();
  return rows.results.map(alertView);
}

export async function getAlert(d1: D1Database, alertId: string): Promise<AlertView | null> {
  const r = await d1.prepare("SELECT * FROM alerts WHERE alert_id = ?").bind(alertId).first<Row>();
  return r ? alertView(r) : null;
}

/** What is open, and which (scope, kind) ops silenced, for the evaluation to decide against. */
export async function alertState(d1: D1Database): Promise<{ open: OpenAlert[]; silenced: Silenced[] }> {
  const [open, silenced] = await d1.batch<{ alert_id: string; kind: AlertKind; scope: string }>([
    d1.prepare("SELECT alert_id, kind, scope FROM alerts WHERE state = 'open'"),
    d1.prepare("SELECT DISTINCT '' AS alert_id, kind, scope FROM alerts WHERE silenced = 1"),
  ]);
  return {
    open: open.results.map((r) => ({ alertId: r.alert_id, kind: r.kind, scope: r.scope })),
    silenced: silenced.results.map((r) => ({ kind: r.kind, scope: r.scope })),
  };
}

export async function openAlert(d1: D1Database, e: Evaluation, now: number): Promise<string | null> {
  const alertId = `alert_${crypto.randomUUID().replaceAll("-", "")}`;
  // The partial unique index keeps one open alert per (scope, kind) even if two evaluations overlap.
  const r = await d1
    .prepare(
      `INSERT INTO alerts (alert_id, scope, kind, severity, state, value, threshold, opened_at, evaluated_at, delivery_pending)
       VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, 'opened') ON CONFLICT DO NOTHING`,
    )
    .bind(alertId, e.scope, e.kind, ruleOf(e.kind).severity, e.value, e.threshold, now, now)
    .run();
  return r.meta.changes > 0 ? alertId : null;
}

export async function touchAlert(d1: D1Database, alertId: string, e: Evaluation, now: number) {
  await d1.prepare("UPDATE alerts SET value = ?, threshold = ?, evaluated_at = ? WHERE alert_id = ? AND state = 'open'").bind(e.value, e.threshold, now, alertId).run();
}

/**
 * What a resolve owes the webhook: `resolved`, unless `opened` was never attempted (the receiver cannot have heard of
 * the alert), in which case neither is sent: a lone `resolved` would tell of an alert it never saw open. Once an
 * attempt was made (one that timed out or got an error may still have been processed), `resolved` replaces it.
 */
const RESOLVED_DELIVERY = `delivery_pending = CASE WHEN delivery_pending = 'opened' AND delivery_attempts = 0 THEN NULL ELSE 'resolved' END,
  delivery_attempts = 0`;

/** The condition cleared. */
export async function autoResolve(d1: D1Database, alertId: string, e: Evaluation, now: number) {
  await d1
    .prepare(
      `UPDATE alerts SET state = 'resolved', value = ?, evaluated_at = ?, resolved_at = ?, resolved_by = 'system',
         resolve_reason = 'condition cleared', ${RESOLVED_DELIVERY} WHERE alert_id = ? AND state = 'open'`,
    )
    .bind(e.value, now, now, alertId)
    .run();
}

/** Ops resolved it by hand, with a reason (the row is the audit: who, when, why). Null when no such open alert. */
export async function resolveByHand(d1: D1Database, alertId: string, actor: string, reason: string, now: number): Promise<boolean> {
  const r = await d1
    .prepare(
      `UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, resolve_reason = ?, silenced = 1,
         ${RESOLVED_DELIVERY} WHERE alert_id = ? AND state = 'open'`,
    )
    .bind(now, actor, reason, alertId)
    .run();
  return r.meta.changes > 0;
}

/** The condition cleared after ops silenced it: the next breach opens a new alert. */
export async function unsilence(d1: D1Database, kind: AlertKind, scope: string) {
  await d1.prepare("UPDATE alerts SET silenced = 0 WHERE kind = ? AND scope = ? AND silenced = 1").bind(kind, scope).run();
}

/** Alerts whose webhook delivery is owed. */
export async function pendingDeliveries(d1: D1Database, limit = 50): Promise<AlertView[]> {
  const rows = await d1.prepare("SELECT * FROM alerts WHERE delivery_pending IS NOT NULL ORDER BY evaluated_at LIMIT ?").bind(limit).all<Row>();
  return rows.results.map(alertView);
}

/**
 * One attempt's answer: delivered (or given up) clears what is owed. An `opened` attempt that was in flight while the
 * alert resolved (which dropped both, no attempt having been counted yet: resolved, nothing owed, 0 attempts) now
 * counts as made: the receiver may have processed it, so it is owed `resolved`.
 */
export async function markDelivery(d1: D1Database, alertId: string, pending: string, status: number | null, done: boolean) {
  await d1
    .prepare(
      `UPDATE alerts SET webhook_status = ?1,
         delivery_attempts = CASE WHEN delivery_pending IS NULL THEN 0 ELSE delivery_attempts + 1 END,
         delivery_pending = CASE WHEN delivery_pending IS NULL THEN 'resolved' WHEN ?2 THEN NULL ELSE delivery_pending END
       WHERE alert_id = ?3 AND (delivery_pending = ?4
         OR (?4 = 'opened' AND delivery_pending IS NULL AND state = 'resolved' AND delivery_attempts = 0))`,
    )
    .bind(status, done ? 1 : 0, alertId, pending)
    .run();
}

/** Resolved alerts are kept this long (the audit of who resolved what), then deleted, a bounded chunk per run. */
export const ALERT_KEEP_MS = 90 * DAY_MS;
export async function purgeAlerts(d1: D1Database, now: number, chunk = 500): Promise<number> {
  const r = await d1
    .prepare("DELETE FROM alerts WHERE alert_id IN (SELECT alert_id FROM alerts WHERE state = 'resolved' AND resolved_at < ? AND delivery_pending IS NULL LIMIT ?)")
    .bind(now - ALERT_KEEP_MS, chunk)
    .run();
  return r.meta.changes;
}

// ---- what the rules measure ------------------------------------------------------------------------------------

export type EventRow = { eventId: string; state: string; startTime: number; endTime: number; objectives: Objective[]; clanObjectiveIds: string[] };

/**
 * Events the rules look at: running or paused; failed to activate (or still scheduled past start + grace) within a
 * week; expired or archived within ENDED_WATCH_MS (auto-claims and final drains); or holding an open alert. Each
 * arm is an index range (the ended one on idx_instances_state_end and _updated): no run reads every ended event.
 */
export async function eventsToEvaluate(d1: D1Database, now: number): Promise<EventRow[]> {
  const rows = await d1
    .prepare(
      `SELECT event_id, state, start_time, end_time, document FROM instances
       WHERE state IN ('active', 'paused')
          OR (state = 'failed_activation' AND start_time >= ?1) OR (state = 'scheduled' AND start_time >= ?1 AND start_time < ?2)
          OR (state IN ('expired', 'archived') AND (end_time >= ?3 OR updated_at >= ?3))
          OR event_id IN (SELECT scope FROM alerts WHERE state = 'open')`,
    )
    .bind(now - 7 * DAY_MS, now - ACTIVATION_GRACE_MS, now - ENDED_WATCH_MS)
    .all<{ event_id: string; state: string; start_time: number; end_time: number; document: string }>();
  return rows.results.map((r) => {
    const doc = JSON.parse(r.document) as { objectives: Objective[]; clan?: { objectiveIds: string[] } };
    return { eventId: r.event_id, state: r.state, startTime: r.start_time, endTime: r.end_time, objectives: doc.objectives, clanObjectiveIds: doc.clan?.objectiveIds ?? [] };
  });
}

export type CriticalFigures = { drains: number; failures: number; rewardErrors: number };

/** Per event: the shards' drains and failed attempts in the sync window, and failed reward deliveries in theirs. */
export async function criticalFigures(d1: D1Database, eventIds: string[], now: number): Promise<Map<string, CriticalFigures>> {
  const out = new Map<string, CriticalFigures>(eventIds.map((id) => [id, { drains: 0, failures: 0, rewardErrors: 0 }]));
  if (eventIds.length === 0) return out;
  const ids = JSON.stringify(eventIds);
  const [sync, rewards] = await d1.batch<{ event_id: string; a: number; b: number }>([
    d1
      .prepare("SELECT event_id, SUM(drains) AS a, SUM(failures) AS b FROM sync_health WHERE event_id IN (SELECT value FROM json_each(?1)) AND minute >= ?2 GROUP BY event_id")
      .bind(ids, now - SYNC_WINDOW_MS),
    d1
      .prepare(
        `SELECT event_id, COUNT(*) AS a, 0 AS b FROM inbox_items WHERE event_id IN (SELECT value FROM json_each(?1))
           AND reason = 'delivery_failed' AND arrived_at >= ?2 GROUP BY event_id`,
      )
      .bind(ids, now - REWARD_ERROR_WINDOW_MS),
  ]);
  for (const r of sync.results) Object.assign(out.get(r.event_id)!, { drains: r.a, failures: r.b });
  for (const r of rewards.results) out.get(r.event_id)!.rewardErrors = r.a;
  return out;
}

export type WarningFigures = { activeFirst6h: number; joinedFirst6h: number; participants: number; completers: number; sent: number; failed: number };

/**
 * The warning rules' inputs for one event, one D1 batch of aggregates: the completion count is worked out in SQL (the
 * required objectives' targets as one JSON parameter, matched against each row's objectives), so no progress row is
 * read into the Worker, however many players joined.
 */
export async function warningFigures(d1: D1Database, ev: EventRow): Promise<WarningFigures> {
  const s = ev.startTime;
  const required = ev.objectives.filter((o) => !o.isOptional && !ev.clanObjectiveIds.includes(o.objectiveId));
  const targets = JSON.stringify(required.map((o) => ({ id: o.objectiveId, target: o.targetValue })));
  // objectivesDoneShare >= COMPLETION_SHARE, as a count: an event without required objectives has no completers.
  const needed = required.length ? COMPLETION_SHARE * required.length : 1;
  const [first, progress, notes] = await d1.batch([
    d1
      .prepare(
        `SELECT COUNT(*) AS active, SUM(EXISTS (SELECT 1 FROM player_progress p WHERE p.player_id = a.player_id AND p.event_id = ?1
                  AND p.created_at < ?3)) AS joined
         FROM (SELECT DISTINCT player_id FROM telemetry_sessions WHERE start >= ?2 AND start < ?3 AND ends_at > ?4) a`,
      )
      .bind(ev.eventId, s - DAY_MS, s + PARTICIPATION_WINDOW_MS, s),
    d1
      .prepare(
        `SELECT COUNT(*) AS participants, SUM((
           SELECT COUNT(*) FROM json_each(?2) t JOIN json_each(p.objectives) o ON o.key = json_extract(t.value, '$.id')
           WHERE o.value >= json_extract(t.value, '$.target')) >= ?3) AS completers
         FROM player_progress p WHERE p.event_id = ?1`,
      )
      .bind(ev.eventId, targets, needed),
    d1.prepare("SELECT SUM(status = 'sent') AS sent, SUM(status = 'failed') AS failed FROM notification_queue WHERE event_id = ?").bind(ev.eventId),
  ]);
  const f = first.results[0] as { active: number; joined: number | null };
  const p = progress.results[0] as { participants: number; completers: number | null };
  const n = notes.results[0] as { sent: number | null; failed: number | null };
  return {
    activeFirst6h: f.active,
    joinedFirst6h: f.joined ?? 0,
    participants: p.participants,
    completers: p.completers ?? 0,
    sent: n.sent ?? 0,
    failed: n.failed ?? 0,
  };
}
