// The per-minute cron ([triggers] crons in wrangler.toml): every alert rule evaluated against D1, the alert rows
// opened, kept or resolved (src/domain/alerts.ts decides), and the alerts webhook's owed deliveries sent or retried.
// The critical rules run every minute; the warning rules, whose inputs read an event's progress rows, on minutes
// divisible by WARNING_EVERY_MIN (they look at hours-long windows, so a quarter hour is prompt enough).
import { readConfig } from "../config";
import {
  alertState,
  autoResolve,
  criticalFigures,
  eventsToEvaluate,
  markDelivery,
  openAlert,
  pendingDeliveries,
  purgeAlerts,
  touchAlert,
  unsilence,
  warningFigures,
  type EventRow,
} from "../db/alerts";
import { purgeHealth, responseHistogram } from "../db/health";
import { alertThresholds as thresholds } from "../db/settings";
import {
  type AlertThresholds,
  GLOBAL_SCOPE,
  MAX_DELIVERY_ATTEMPTS,
  RESPONSE_WINDOW_MS,
  SYNC_WINDOW_MS,
  activationFailed,
  applies,
  breached,
  decide,
  p95Evaluation,
  pct,
  retryableStatus,
  ruleOf,
  syncEvaluation,
  thresholdOf,
  type AlertKind,
  type Evaluation,
} from "../domain/alerts";
import { MINUTE_MS } from "../domain/time";
import { logLine } from "../lib/log";
import { postSigned } from "../lib/webhook";

export const WARNING_EVERY_MIN = 15;

const WARNINGS: AlertKind[] = ["participation_first_6h", "completion_at_midpoint", "notification_delivery"];

/** Every rule's evaluation for this minute (the warning rules only on their minutes). */
export async function evaluations(d1: D1Database, now: number, withWarnings: boolean): Promise<Evaluation[]> {
  const t = await thresholds(d1);
  const events = await eventsToEvaluate(d1, now);
  const critical = await criticalFigures(d1, events.map((e) => e.eventId), now);
  const out: Evaluation[] = [];
  const add = (kind: AlertKind, scope: string, value: number | null, hold = false, isBreached?: boolean) => {
    const rule = ruleOf(kind);
    const threshold = thresholdOf(rule, t);
    out.push({ kind, scope, value, threshold, breached: isBreached ?? breached(rule, value, threshold), hold });
  };
  // Decided on the histogram, not the value: a bucket bound compared with the threshold would fire below it.
  const response = p95Evaluation(await responseHistogram(d1, now - RESPONSE_WINDOW_MS, now), thresholdOf(ruleOf("p95_response_time"), t));
  add("p95_response_time", GLOBAL_SCOPE, response.value, false, response.breached);
  for (const ev of events) {
    const c = critical.get(ev.eventId)!;
    add("activation_failed", ev.eventId, activationFailed(ev, now));
    const sync = syncEvaluation(c.drains, c.failures);
    add("progress_sync_failure_rate", ev.eventId, sync.value, sync.hold);
    add("reward_distribution_errors", ev.eventId, c.rewardErrors);
    if (withWarnings) out.push(...(await warningEvaluations(d1, ev, now, t)));
  }
  return out;
}

async function warningEvaluations(d1: D1Database, ev: EventRow, now: number, t: AlertThresholds): Promise<Evaluation[]> {
  const rules = WARNINGS.map(ruleOf);
  // Outside its window a rule's evaluation is "clear": an open alert resolves (the event ended, say).
  const live = rules.filter((r) => applies(r, ev, now));
  const f = live.length ? await warningFigures(d1, ev) : null;
  return rules.map((rule) => {
    const threshold = thresholdOf(rule, t);
    const value = !f || !live.includes(rule)
      ? null
      : rule.kind === "participation_first_6h"
        ? pct(f.joinedFirst6h, f.activeFirst6h)
        : rule.kind === "completion_at_midpoint"
          ? pct(f.completers, f.participants)
          : pct(f.sent, f.sent + f.failed);
    return { kind: rule.kind, scope: ev.eventId, value, threshold, breached: breached(rule, value, threshold) };
  });
}

/** One evaluation pass: decisions applied to the alert rows. Returns what changed (for logs and tests). */
export async function evaluateAlerts(d1: D1Database, now: number, withWarnings = true): Promise<{ opened: number; resolved: number; kept: number }> {
  const [evals, state, t] = await Promise.all([evaluations(d1, now, withWarnings), alertState(d1), thresholds(d1)]);
  const counts = { opened: 0, resolved: 0, kept: 0 };
  const evaluated = new Set(evals.map((e) => `${e.scope}|${e.kind}`));
  // An open alert on an event no longer looked at (archived, cancelled) resolves: nothing is left to watch.
  for (const o of state.open) {
    if (!evaluated.has(`${o.scope}|${o.kind}`) && (withWarnings || !WARNINGS.includes(o.kind))) {
      evals.push({ kind: o.kind, scope: o.scope, value: null, threshold: thresholdOf(ruleOf(o.kind), t), breached: false });
    }
  }
  for (const e of evals) {
    const open = state.open.find((o) => o.kind === e.kind && o.scope === e.scope);
    const silenced = state.silenced.some((s) => s.kind === e.kind && s.scope === e.scope);
    const action = decide(e, open, silenced);
    if (!action) continue;
    if (action.kind === "open") {
      if (await openAlert(d1, e, now)) {
        counts.opened++;
        logLine(ruleOf(e.kind).severity === "critical" ? "error" : "warn", "analytics", "alert opened", { alert: e.kind, scope: e.scope, value: e.value, threshold: e.threshold });
      }
    } else if (action.kind === "keep") {
      await touchAlert(d1, action.alertId, e, now);
      counts.kept++;
    } else if (action.kind === "resolve") {
      await autoResolve(d1, action.alertId, e, now);
      counts.resolved++;
      logLine("info", "analytics", "alert resolved", { alert: e.kind, scope: e.scope, value: e.value, threshold: e.threshold });
    } else await unsilence(d1, e.kind, e.scope);
  }
  return counts;
}

/**
 * Sends what the alerts webhook is owed, one after another, starting none after `deadline` (the rest wait for the
 * next minute, so a slow receiver cannot make one run overlap the next); a 5xx/408/429/unreachable answer stays owed.
 */
export async function deliverAlerts(env: Env, deadline = Number.POSITIVE_INFINITY): Promise<number> {
  const cfg = readConfig(env);
  if (!cfg.alertsWebhookUrl) return 0;
  let sent = 0;
  for (const alert of await pendingDeliveries(env.DB)) {
    if (Date.now() >= deadline) break;
    const what = alert.webhook.pending!;
    const status = await postSigned(cfg.alertsWebhookUrl, { type: `alert.${what}`, alert }, cfg.alertsWebhookSecret, `alert:${alert.alertId}:${what}`);
    const ok = status !== null && status >= 200 && status < 300;
    const giveUp = !ok && (!retryableStatus(status) || alert.webhook.attempts + 1 >= MAX_DELIVERY_ATTEMPTS);
    if (giveUp) logLine("error", "error", "alerts webhook gave up", { alertId: alert.alertId, status, attempts: alert.webhook.attempts + 1 });
    await markDelivery(env.DB, alert.alertId, what, status, ok || giveUp);
    if (ok) sent++;
  }
  return sent;
}

/** Deliveries start within this much of the run's start: with a 10-s webhook timeout the run ends well inside its minute. */
export const DELIVERY_BUDGET_MS = 30_000;

export async function runAlerts(env: Env, now: number): Promise<void> {
  try {
    const withWarnings = Math.floor(now / MINUTE_MS) % WARNING_EVERY_MIN === 0;
    const counts = await evaluateAlerts(env.DB, now, withWarnings);
    const delivered = await deliverAlerts(env, Date.now() + DELIVERY_BUDGET_MS);
    // Kept a little beyond each window (the windows end at the run's time; a late histogram row still counts).
    await purgeHealth(env.DB, now, { syncMs: SYNC_WINDOW_MS + 5 * MINUTE_MS, responseMs: RESPONSE_WINDOW_MS + 5 * MINUTE_MS });
    await purgeAlerts(env.DB, now);
    logLine("info", "analytics", "alerts evaluated", { ...counts, delivered, withWarnings });
  } catch (err) {
    logLine("error", "error", "alert evaluation failed", { error: String(err) });
  }
}

