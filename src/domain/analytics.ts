// The event KPIs (issue 14; README "Analytics" has the definitions in words): pure formulas over counts and samples
// that src/db/analytics.ts reads from D1. Nothing here knows a player id: a report carries aggregates only.
import type { Milestone, Objective } from "./model";
import { DAY_MS, HOUR_MS } from "./time";

/** A participant "completed" the event with at least this share of its required objectives done. */
export const COMPLETION_SHARE = 0.75; // db/profiles.ts COMPLETED writes it as 3/4 in SQL
/** Participation counts players active in the event's first this-many ms. */
export const FIRST_WINDOW_MS = DAY_MS;
/** Retention looks for a session this long after the event's end. */
export const RETENTION_WINDOW_MS = 7 * DAY_MS;

/** The required objectives (not optional, not clan-scoped) and their targets: what "≥ 75 % of objectives" counts. */
export function requiredTargets(objectives: readonly Objective[], clanObjectiveIds: readonly string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of objectives) if (!o.isOptional && !clanObjectiveIds.includes(o.objectiveId)) out[o.objectiveId] = o.targetValue;
  return out;
}

/**
 * Share of the required objectives whose target this player reached: whole objectives, not partial progress, which
 * is what "≥ 75 % of objectives" counts. Null for an event with none (nobody can complete nothing).
 */
export function objectivesDoneShare(values: Record<string, number>, objectives: readonly Objective[], clanObjectiveIds: readonly string[] = []): number | null {
  const required = Object.entries(requiredTargets(objectives, clanObjectiveIds));
  if (required.length === 0) return null;
  return required.filter(([id, target]) => (values[id] ?? 0) >= target).length / required.length;
}

/**
 * How many required objectives a completer has done (the SQL count equivalent of objectivesDoneShare ≥
 * COMPLETION_SHARE, so D1 counts completers without the rows leaving it); null when there are none.
 */
export const objectivesNeeded = (required: number): number | null => (required === 0 ? null : Math.ceil(COMPLETION_SHARE * required - 1e-9));

/** The 0-based position of the nearest-rank percentile p (0–100) among n sorted samples; null without samples. */
export const percentileOffset = (n: number, p: number): number | null => (n === 0 ? null : Math.min(Math.max(1, Math.ceil((p / 100) * n)), n) - 1);

/** n / d, or null when there is no denominator (a rate of nothing is unknown, not 0). */
export const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/** Nearest-rank percentile (p in 0–100) of samples; null without samples. (D1 does the same with percentileOffset.) */
export function percentile(samples: readonly number[], p: number): number | null {
  const k = percentileOffset(samples.length, p);
  return k === null ? null : [...samples].sort((a, b) => a - b)[k];
}

export type Cohort = { cohort: number; retained: number };

/** What D1 holds about one event, as counts and samples (src/db/analytics.ts gathers it). */
export type KpiInput = {
  /** Players with a session overlapping the event's first 24 h, and how many of them joined the event. */
  activeFirstDay: number;
  activeFirstDayJoined: number;
  /** Players with a progress record for the event (they joined). */
  participants: number;
  /** Participants with ≥ COMPLETION_SHARE of required objectives done; null when the event has no required objective. */
  completers: number | null;
  /** Purchases attributed to the event: revenue, distinct payers, and how many payers are participants. */
  revenue: number;
  payers: number;
  participantPayers: number;
  /** Null until 7 days after the end have passed (the figure would still move). */
  retention: { participants: Cohort; nonParticipants: Cohort } | null;
  activation: "activated" | "failed" | "pending";
  /**
   * Per participant: D1's write time minus the shard's acceptance time of their latest update, in ms, as nearest-rank
   * percentiles (D1 picks them with percentileOffset: the samples never leave it).
   */
  syncLatencyMs: { p50: number | null; p95: number | null; p99: number | null; samples: number };
  /** Push legs of the event's notifications: delivered, and failed after the provider refused or was down. */
  notifications: { sent: number; failed: number };
  /** Participants who had joined an earlier event of the same template. */
  repeaters: number;
};

export type Kpis = {
  participationRate: number | null;
  completionRate: number | null;
  rppu: number | null;
  conversionRate: number | null;
  retention7d: { participants: number | null; nonParticipants: number | null } | null;
  activationSuccessRate: number | null;
  progressSyncLatencyMs: { p50: number | null; p95: number | null; p99: number | null; samples: number };
  notificationDeliveryRate: number | null;
  repeatParticipationRate: number | null;
  engagementScore: number | null;
  counts: {
    activeFirstDay: number;
    participants: number;
    completers: number | null;
    revenue: number;
    payers: number;
    notificationsSent: number;
    notificationsFailed: number;
  };
};

/**
 * Engagement score, 0–100: the mean of participation and completion rates (those known), times 100. It ranks
 * templates (GET /v1/admin/templates?sort=engagement): how many came, and how far they went.
 */
export function engagementScore(participationRate: number | null, completionRate: number | null): number | null {
  const known = [participationRate, completionRate].filter((v): v is number => v !== null);
  return known.length ? round((100 * known.reduce((a, b) => a + b, 0)) / known.length, 2) : null;
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;
const r = (v: number | null) => (v === null ? null : round(v));

export function computeKpis(i: KpiInput): Kpis {
  const participationRate = ratio(i.activeFirstDayJoined, i.activeFirstDay);
  const completionRate = i.completers === null ? null : ratio(i.completers, i.participants);
  return {
    participationRate: r(participationRate),
    completionRate: r(completionRate),
    rppu: i.payers > 0 ? round(i.revenue / i.payers, 2) : null,
    conversionRate: r(ratio(i.participantPayers, i.participants)),
    retention7d: i.retention && {
      participants: r(ratio(i.retention.participants.retained, i.retention.participants.cohort)),
      nonParticipants: r(ratio(i.retention.nonParticipants.retained, i.retention.nonParticipants.cohort)),
    },
    activationSuccessRate: i.activation === "pending" ? null : i.activation === "activated" ? 1 : 0,
    progressSyncLatencyMs: { ...i.syncLatencyMs },
    notificationDeliveryRate: r(ratio(i.notifications.sent, i.notifications.sent + i.notifications.failed)),
    repeatParticipationRate: r(ratio(i.repeaters, i.participants)),
    engagementScore: engagementScore(participationRate, completionRate),
    counts: {
      activeFirstDay: i.activeFirstDay,
      participants: i.participants,
      completers: i.completers,
      revenue: round(i.revenue, 2),
      payers: i.payers,
      notificationsSent: i.notifications.sent,
      notificationsFailed: i.notifications.failed,
    },
  };
}

/** Hour buckets of an event: index 0 is [start, start + 1 h). How many there are up to `until` (at most the end). */
export const hourIndex = (at: number, start: number) => Math.floor((at - start) / HOUR_MS);
export const hourCount = (start: number, end: number, until: number) => Math.max(0, Math.ceil((Math.min(end, until) - start) / HOUR_MS));

export type HourRow = { hour: number; joins: number; activePlayers: number; purchases: number; revenue: number };
export type CurvePoint = HourRow & { participants: number };

/**
 * The participation curve: one point per hour from the start (hours with nothing are zeros), with the running total
 * of participants. Joins before the start (none today) count in hour 0.
 */
export function participationCurve(rows: readonly HourRow[], hours: number): CurvePoint[] {
  const byHour = new Map(rows.map((row) => [Math.max(0, row.hour), row]));
  const out: CurvePoint[] = [];
  let total = 0;
  for (let h = 0; h < hours; h++) {
    const row = byHour.get(h) ?? { hour: h, joins: 0, activePlayers: 0, purchases: 0, revenue: 0 };
    total += row.joins;
    out.push({ ...row, hour: h, revenue: round(row.revenue, 2), participants: total });
  }
  return out;
}

export type FunnelStep = { milestoneIndex: number; progressThreshold: number; reached: number; share: number | null };

/** Per milestone, how many participants reached it (D1 counts them), and what share of all participants that is. */
export function milestoneFunnel(reached: readonly { milestone: number; n: number }[], participants: number, milestones: readonly Milestone[]): FunnelStep[] {
  const counts = new Map(reached.map((r) => [Number(r.milestone), r.n]));
  return [...milestones]
    .sort((a, b) => a.index - b.index)
    .map((m) => ({ milestoneIndex: m.index, progressThreshold: m.progressThreshold, reached: counts.get(m.index) ?? 0, share: r(ratio(counts.get(m.index) ?? 0, participants)) }));
}

export type TemplatePerformance = { engagementScore: number | null; completionRate: number | null; rppu: number | null; events: number };

/** Means over a template's reported events, each figure over the events that have it. */
export function templatePerformance(reports: readonly { engagementScore: number | null; completionRate: number | null; rppu: number | null }[]): TemplatePerformance {
  const mean = (vals: (number | null)[]) => {
    const known = vals.filter((v): v is number => v !== null);
    return known.length ? round(known.reduce((a, b) => a + b, 0) / known.length) : null;
  };
  return {
    engagementScore: mean(reports.map((x) => x.engagementScore)),
    completionRate: mean(reports.map((x) => x.completionRate)),
    rppu: mean(reports.map((x) => x.rppu)),
    events: reports.length,
  };
}
