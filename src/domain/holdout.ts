// The event report's holdout section (issue 15): among the players adaptive difficulty found struggling, the treated
// (adjusted) against the control group (held back by the deterministic holdout), on the report's own definitions of
// completion (≥ 75 % of the event's required objectives, against the event's targets, so lowered targets alone cannot
// make the treated look better) and 7-day retention (a session in the 7 days after the end). The difference of two
// proportions gets Newcombe's hybrid score interval (his method 10: built from the two Wilson score intervals), 95 %:
// unlike the Wald interval it stays inside [−1, 1] and keeps its coverage with small arms and rates near 0 or 1.
import { z } from "zod";

/** The normal quantile of a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** Wilson's score interval for k successes in n trials; null without trials. */
export function wilson(k: number, n: number, z = Z95): { low: number; high: number } | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

export type Difference = { estimate: number; low: number; high: number };

/** p1 − p2 (treated − control) with Newcombe's hybrid score interval; null when an arm is empty. */
export function newcombe(k1: number, n1: number, k2: number, n2: number, z = Z95): Difference | null {
  const w1 = wilson(k1, n1, z);
  const w2 = wilson(k2, n2, z);
  if (!w1 || !w2) return null;
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const d = p1 - p2;
  return {
    estimate: round(d),
    low: round(d - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)),
    high: round(d + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)),
  };
}

export type ArmCounts = { players: number; completers: number | null; retained: number | null };

const Rate = z.number().min(0).max(1).nullable();
const Count = z.number().int().min(0);
const Arm = z.object({ players: Count, completers: Count.nullable(), completionRate: Rate, retained: Count.nullable(), retention7d: Rate });
const Diff = z
  .object({ estimate: z.number(), low: z.number(), high: z.number() })
  .nullable()
  .meta({ description: "Treated minus control, with its 95 % Newcombe (hybrid Wilson score) interval; null when an arm is empty or the figure is not known yet." });

export const HoldoutSection = z
  .object({
    struggling: Count.meta({ description: "Players adaptive difficulty found struggling in this event (both arms)." }),
    treated: Arm,
    control: Arm,
    completionDifference: Diff,
    retentionDifference: Diff,
    method: z.literal("newcombe-hybrid-wilson-95"),
  })
  .meta({ id: "HoldoutSection", description: "Adaptive difficulty's treated vs control struggling players (README Personalization)." });
export type HoldoutSection = z.infer<typeof HoldoutSection>;

const rate = (k: number | null, n: number) => (k === null || n === 0 ? null : round(k / n));

/** The section from each arm's counts; completers null without required objectives, retained null until known. */
export function holdoutSection(treated: ArmCounts, control: ArmCounts): HoldoutSection {
  const arm = (a: ArmCounts) => ({ players: a.players, completers: a.completers, completionRate: rate(a.completers, a.players), retained: a.retained, retention7d: rate(a.retained, a.players) });
  const diff = (k1: number | null, k2: number | null) => (k1 === null || k2 === null ? null : newcombe(k1, treated.players, k2, control.players));
  return {
    struggling: treated.players + control.players,
    treated: arm(treated),
    control: arm(control),
    completionDifference: diff(treated.completers, control.completers),
    retentionDifference: diff(treated.retained, control.retained),
    method: "newcombe-hybrid-wilson-95",
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
