// An event's report as the API answers it (GET /v1/admin/events/:id/report, the reports webhook): the zod schema, and
// the CSV form of the same figures. Aggregates only: no player id appears anywhere in a report. The holdout section's
// maths is domain/holdout.ts.
import { z } from "zod";
import { HoldoutSection } from "./holdout";

const Rate = z.number().min(0).max(1).nullable();
const Count = z.number().int().min(0);
const Iso = z.iso.datetime({ offset: true });

export const Kpis = z
  .object({
    participationRate: Rate.meta({ description: "Of the players with a session in the event's first 24 h, the share who joined it." }),
    completionRate: Rate.meta({ description: "Of the participants, the share with ≥ 75 % of the required objectives done." }),
    rppu: z.number().nullable().meta({ description: "Revenue per paying user: the event's purchase revenue / its distinct payers." }),
    conversionRate: Rate.meta({ description: "Of the participants, the share who made a purchase attributed to the event." }),
    retention7d: z
      .object({ participants: Rate, nonParticipants: Rate })
      .nullable()
      .meta({ description: "Share with a session in the 7 days after the end; null until those 7 days have passed." }),
    activationSuccessRate: Rate.meta({ description: "1 when the event activated (after any retries), 0 when it failed activation, null before its start." }),
    progressSyncLatencyMs: z
      .object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable(), samples: Count })
      .meta({ description: "Per participant, from the shard accepting their latest update to D1 holding it (nearest-rank percentiles)." }),
    notificationDeliveryRate: Rate.meta({ description: "Push legs delivered / (delivered + failed)." }),
    repeatParticipationRate: Rate.meta({ description: "Of the participants, the share who had joined an earlier event of the same template." }),
    engagementScore: z.number().nullable().meta({ description: "0–100: the mean of participation and completion rates (those known) × 100." }),
    counts: z.object({
      activeFirstDay: Count,
      participants: Count,
      completers: Count.nullable().meta({ description: "Null when the event has no required objective." }),
      revenue: z.number(),
      payers: Count,
      notificationsSent: Count,
      notificationsFailed: Count,
    }),
  })
  .meta({ id: "EventKpis" });

export const EventReport = z
  .object({
    eventId: z.string(),
    templateId: z.string(),
    name: z.string(),
    state: z.string(),
    startTime: Iso,
    endTime: Iso,
    generatedAt: Iso,
    final: z.boolean().meta({ description: "True for the report generated at expiry (stored); false for a live one of a running event." }),
    retentionKnown: z.boolean(),
    kpis: Kpis,
    participationByHour: z.array(
      z.object({ hour: Count, hourStart: Iso, joins: Count, participants: Count, activePlayers: Count, purchases: Count, revenue: z.number() }),
    ),
    completionFunnel: z.array(z.object({ milestoneIndex: Count, progressThreshold: z.number(), reached: Count, share: Rate })),
    rewardClaims: z.array(z.object({ milestoneIndex: Count, claims: Count, bySource: z.record(z.string(), Count) })),
    notificationFunnel: z.array(
      z.object({ type: z.string(), sent: Count, pushDelivered: Count, pushFailed: Count, shown: Count, clicked: Count }),
    ),
    /** Absent from reports stored before adaptive difficulty existed. */
    holdout: HoldoutSection.optional(),
  })
  .meta({ id: "EventReport" });
export type EventReport = z.infer<typeof EventReport>;

/**
 * One CSV cell. Text a spreadsheet would run as a formula (starting with = + - @, or a tab or CR) gets a leading
 * quote; numbers are left as they are. A comma, quote, LF or CR makes the cell quoted.
 */
export const cell = (v: unknown) => {
  let s = v === null || v === undefined ? "" : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const line = (...cells: unknown[]) => cells.map(cell).join(",");

/**
 * The report as one CSV table, `section,key,metric,value`, so a spreadsheet can pivot it: kpi rows, then one row per
 * figure of each hour, milestone, claim source and notification type. Empty value: unknown (null).
 */
export function reportCsv(r: EventReport): string {
  const rows = [line("section", "key", "metric", "value")];
  const k = r.kpis;
  const kpi = (metric: string, value: unknown) => rows.push(line("kpi", "", metric, value));
  for (const m of ["participationRate", "completionRate", "rppu", "conversionRate", "activationSuccessRate", "notificationDeliveryRate", "repeatParticipationRate", "engagementScore"] as const)
    kpi(m, k[m]);
  kpi("retention7d.participants", k.retention7d?.participants);
  kpi("retention7d.nonParticipants", k.retention7d?.nonParticipants);
  for (const p of ["p50", "p95", "p99", "samples"] as const) kpi(`progressSyncLatencyMs.${p}`, k.progressSyncLatencyMs[p]);
  for (const [name, value] of Object.entries(k.counts)) kpi(`counts.${name}`, value);
  for (const h of r.participationByHour)
    for (const m of ["joins", "participants", "activePlayers", "purchases", "revenue"] as const) rows.push(line("hour", h.hourStart, m, h[m]));
  for (const f of r.completionFunnel) for (const m of ["reached", "share"] as const) rows.push(line("milestone", f.milestoneIndex, m, f[m]));
  for (const c of r.rewardClaims) {
    rows.push(line("claims", c.milestoneIndex, "claims", c.claims));
    for (const [source, n] of Object.entries(c.bySource)) rows.push(line("claims", c.milestoneIndex, `source.${source}`, n));
  }
  for (const n of r.notificationFunnel) for (const m of ["sent", "pushDelivered", "pushFailed", "shown", "clicked"] as const) rows.push(line("notification", n.type, m, n[m]));
  const h = r.holdout;
  if (h) {
    rows.push(line("holdout", "", "struggling", h.struggling));
    for (const arm of ["treated", "control"] as const) for (const [m, v] of Object.entries(h[arm])) rows.push(line("holdout", arm, m, v));
    for (const d of ["completionDifference", "retentionDifference"] as const) for (const m of ["estimate", "low", "high"] as const) rows.push(line("holdout", d, m, h[d]?.[m]));
    rows.push(line("holdout", "", "method", h.method));
  }
  return `${rows.join("\n")}\n`;
}
