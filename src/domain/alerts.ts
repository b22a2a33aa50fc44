// Alerts (issue 14 part 4, the seed's "Alerting"): the rules table and the decisions on it, pure. src/jobs/alerts.ts
// gathers each rule's metric from D1 once a minute (the per-minute cron) and src/db/alerts.ts keeps the alert rows;
// what counts as a breach, when a rule applies and what happens to an open alert are decided here.
import { z } from "zod";
import { bucketLowerExact, percentileAbove, percentileBucket, type Histogram } from "./histogram";
import { HOUR_MS, MINUTE_MS } from "./time";

export const ALERT_KINDS = [
  "activation_failed",
  "progress_sync_failure_rate",
  "reward_distribution_errors",
  "p95_response_time",
  "participation_first_6h",
  "completion_at_midpoint",
  "notification_delivery",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const AlertKindEnum = z.enum(ALERT_KINDS);
export const AlertSeverity = z.enum(["critical", "warning"]);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

/** The thresholds ops may change (PUT /v1/admin/alerts/settings); the seed's values are the defaults. */
export const AlertThresholds = z
  .object({
    syncFailureRatePct: z.number().min(0).max(100).meta({ description: "progress_sync_failure_rate fires above this % of failed drain attempts." }),
    rewardErrorsMax: z.number().int().min(0).max(1_000_000).meta({ description: "reward_distribution_errors fires above this many failed deliveries in the window." }),
    p95ResponseMs: z.number().min(1).max(600_000).meta({ description: "p95_response_time fires above this p95, in ms." }),
    participationPct: z.number().min(0).max(100).meta({ description: "participation_first_6h fires below this %." }),
    completionPct: z.number().min(0).max(100).meta({ description: "completion_at_midpoint fires below this %." }),
    notificationDeliveryPct: z.number().min(0).max(100).meta({ description: "notification_delivery fires below this %." }),
  })
  .meta({ id: "AlertThresholds" });
export type AlertThresholds = z.infer<typeof AlertThresholds>;
export const AlertThresholdsPatch = AlertThresholds.partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, "give at least one threshold")
  .meta({ id: "AlertThresholdsPatch" });

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  syncFailureRatePct: 5,
  rewardErrorsMax: 0,
  p95ResponseMs: 2000,
  participationPct: 30,
  completionPct: 10,
  notificationDeliveryPct: 90,
};

/** The rate-based rules look back this far: long enough to hold a few drains per shard, short enough to clear. */
export const SYNC_WINDOW_MS = 15 * MINUTE_MS;
export const REWARD_ERROR_WINDOW_MS = HOUR_MS;
export const RESPONSE_WINDOW_MS = 5 * MINUTE_MS;
/** Fewer responses than this in the window say too little about a p95 (a quiet Worker's few slow answers). */
export const MIN_RESPONSE_SAMPLES = 100;
/** Participation is judged on the event's first 6 h. */
export const PARTICIPATION_WINDOW_MS = 6 * HOUR_MS;

/** A scheduled event still not active this long after its start failed to activate (its alarm never fired, say). */
export const ACTIVATION_GRACE_MS = 5 * MINUTE_MS;
/** Ended (expired or archived) events stay watched this long: expiry's auto-claims and the final drains happen then. */
export const ENDED_WATCH_MS = 24 * HOUR_MS;

/** activation_failed's value: 1 in failed_activation, or still scheduled past its start and the grace; else 0. */
export const activationFailed = (ev: EventWindow, now: number): number =>
  ev.state === "failed_activation" || (ev.state === "scheduled" && now > ev.startTime + ACTIVATION_GRACE_MS) ? 1 : 0;

/** The scope an event-less rule (the Worker's response time) is kept under, in place of an event id. */
export const GLOBAL_SCOPE = "*";

type When = "always" | "active" | "after_6h" | "after_midpoint";
export type Rule = {
  kind: AlertKind;
  severity: AlertSeverity;
  scope: "event" | "global";
  /** The metric's unit, as shown in alerts. */
  unit: "flag" | "%" | "count" | "ms";
  /** "above": breached when value > threshold; "below": when value < threshold. */
  comparison: "above" | "below";
  /** The setting holding the threshold; null: fixed at `fixed`. */
  setting: keyof AlertThresholds | null;
  fixed?: number;
  when: When;
  description: string;
};

export const RULES: readonly Rule[] = [
  { kind: "activation_failed", severity: "critical", scope: "event", unit: "flag", comparison: "above", setting: null, fixed: 0, when: "always", description: "The event is in failed_activation, or still scheduled 5 min after its start time (1), rather than activated (0)." },
  { kind: "progress_sync_failure_rate", severity: "critical", scope: "event", unit: "%", comparison: "above", setting: "syncFailureRatePct", when: "always", description: "Failed write-behind drain attempts ÷ all drain attempts of the event's shards, last 15 min; judged from 5 attempts (fewer, with a failure, hold)." },
  { kind: "reward_distribution_errors", severity: "critical", scope: "event", unit: "count", comparison: "above", setting: "rewardErrorsMax", when: "always", description: "Reward deliveries that gave up and went to the inbox as delivery_failed, last 60 min." },
  { kind: "p95_response_time", severity: "critical", scope: "global", unit: "ms", comparison: "above", setting: "p95ResponseMs", when: "always", description: "Nearest-rank p95 of Worker response times, last 5 min, at least 100 responses; admin routes and socket upgrades excluded. The value is the lower bound of the p95's histogram bucket (the p95 is above it, by at most 9 %); it fires only when that bound is at or above the threshold, never on a bucket straddling it." },
  { kind: "participation_first_6h", severity: "warning", scope: "event", unit: "%", comparison: "below", setting: "participationPct", when: "after_6h", description: "Players active in [start, start + 6 h) who joined ÷ players active then; from start + 6 h while active." },
  { kind: "completion_at_midpoint", severity: "warning", scope: "event", unit: "%", comparison: "below", setting: "completionPct", when: "after_midpoint", description: "The completion rate KPI; from the midpoint while active." },
  { kind: "notification_delivery", severity: "warning", scope: "event", unit: "%", comparison: "below", setting: "notificationDeliveryPct", when: "active", description: "The notification delivery rate KPI (sent ÷ sent + failed), while active." },
];

export const ruleOf = (kind: AlertKind): Rule => RULES.find((r) => r.kind === kind)!;
export const thresholdOf = (rule: Rule, t: AlertThresholds): number => (rule.setting ? t[rule.setting] : rule.fixed ?? 0);

/** What an event looks like to the rules. */
export type EventWindow = { state: string; startTime: number; endTime: number };

/** Does the rule look at this event now? Outside its window an open alert resolves (its question no longer applies). */
export function applies(rule: Rule, ev: EventWindow | null, now: number): boolean {
  if (rule.scope === "global") return true;
  if (!ev) return false;
  switch (rule.when) {
    case "always":
      return true;
    case "active":
      return ev.state === "active";
    case "after_6h":
      return ev.state === "active" && now >= ev.startTime + PARTICIPATION_WINDOW_MS;
    case "after_midpoint":
      return ev.state === "active" && now >= ev.startTime + (ev.endTime - ev.startTime) / 2;
  }
}

/** Breached, clear, or unknown (no denominator, too few samples: no evidence either way, which clears an open alert). */
export function breached(rule: Rule, value: number | null, threshold: number): boolean {
  if (value === null) return false;
  return rule.comparison === "above" ? value > threshold : value < threshold;
}

/** Percent with two decimals, or null without a denominator. */
export const pct = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10000) / 100 : null);

/** Fewer drain attempts than this in the window are too few to judge a rate on (one failure would be 100 %). */
export const MIN_SYNC_ATTEMPTS = 5;
export const syncFailureRate = (drains: number, failures: number) => pct(failures, drains + failures);
/**
 * The sync rule's value, and whether to hold: with failures but fewer than MIN_SYNC_ATTEMPTS attempts the evidence is
 * too thin to open an alert, and too bad to resolve one (a shard backing off during an outage drains rarely).
 */
export function syncEvaluation(drains: number, failures: number): { value: number | null; hold: boolean } {
  const attempts = drains + failures;
  if (failures > 0 && attempts < MIN_SYNC_ATTEMPTS) return { value: syncFailureRate(drains, failures), hold: true };
  return { value: syncFailureRate(drains, failures), hold: false };
}
/**
 * The p95 rule on a histogram. The value is the lower bound of the p95's bucket, whole ms: the p95 is above it, by at
 * most one bucket (9 %). It breaches only when the p95 is certainly above the threshold (histogram.percentileAbove):
 * a p95 in the bucket straddling the threshold may be at or below it, and opens nothing.
 */
export function p95Evaluation(h: Histogram, thresholdMs: number): { value: number | null; breached: boolean } {
  const b = percentileBucket(h, 95, MIN_RESPONSE_SAMPLES);
  if (b === null) return { value: null, breached: false };
  return { value: Math.floor(bucketLowerExact(b)), breached: percentileAbove(h, 95, thresholdMs, MIN_RESPONSE_SAMPLES) === true };
}

/** `hold`: too little evidence to change anything: an open alert stays open (unrefreshed), none opens. */
export type Evaluation = { kind: AlertKind; scope: string; value: number | null; threshold: number; breached: boolean; hold?: boolean };
export type OpenAlert = { alertId: string; kind: AlertKind; scope: string };
/** A scope and kind that ops resolved by hand while it was still breached: it is not reopened until it clears. */
export type Silenced = { kind: AlertKind; scope: string };

export type Action =
  | { kind: "open"; evaluation: Evaluation }
  | { kind: "keep"; alertId: string; evaluation: Evaluation }
  | { kind: "resolve"; alertId: string; evaluation: Evaluation }
  | { kind: "unsilence"; evaluation: Evaluation };

/**
 * One evaluation against what is open: at most one open alert per (scope, kind) — a breach with one open keeps it
 * (its value refreshed), a clear resolves it. A breach that ops silenced (resolved by hand) stays quiet until it clears.
 */
export function decide(e: Evaluation, open: OpenAlert | undefined, silenced: boolean): Action | null {
  if (e.hold) return null;
  if (open) return e.breached ? { kind: "keep", alertId: open.alertId, evaluation: e } : { kind: "resolve", alertId: open.alertId, evaluation: e };
  if (e.breached) return silenced ? null : { kind: "open", evaluation: e };
  return silenced ? { kind: "unsilence", evaluation: e } : null;
}

/** Retry a webhook delivery after this answer? (5xx, 408, 429, unreachable.) */
export const retryableStatus = (status: number | null) => status === null || status >= 500 || status === 408 || status === 429;
export const MAX_DELIVERY_ATTEMPTS = 10;

const Iso = z.iso.datetime({ offset: true });
export const AlertView = z
  .object({
    alertId: z.string(),
    kind: AlertKindEnum,
    severity: AlertSeverity,
    eventId: z.string().nullable().meta({ description: "null for a Worker-wide alert (p95_response_time)." }),
    state: z.enum(["open", "resolved"]),
    value: z.number().nullable().meta({ description: "The metric at the last evaluation (unit as `unit`)." }),
    threshold: z.number(),
    unit: z.enum(["flag", "%", "count", "ms"]),
    openedAt: Iso,
    evaluatedAt: Iso,
    resolvedAt: Iso.nullable(),
    resolvedBy: z.string().nullable().meta({ description: "`system` when the condition cleared; else the operator." }),
    resolveReason: z.string().nullable(),
    webhook: z.object({ pending: z.enum(["opened", "resolved"]).nullable(), attempts: z.number().int(), lastStatus: z.number().int().nullable() }),
  })
  .meta({ id: "Alert" });
export type AlertView = z.infer<typeof AlertView>;

export const AlertList = z.object({ alerts: z.array(AlertView) }).meta({ id: "AlertList" });
export const ResolveAlertBody = z.strictObject({ reason: z.string().trim().min(1).max(500) }).meta({ id: "ResolveAlertBody" });
export const AlertSettings = z
  .object({
    thresholds: AlertThresholds,
    defaults: AlertThresholds,
    updatedAt: Iso.nullable(),
    updatedBy: z.string().nullable(),
  })
  .meta({ id: "AlertSettings" });
export const ALERT_ID = /^alert_[0-9a-f]{32}$/;
