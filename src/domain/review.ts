// The review states of a statistical anti-cheat flag (the seed: "flag players exceeding 3 standard deviations from
// mean; automatic investigation for flagged accounts"), as a rules table like lifecycle.ts. The system moves a flag on
// its own (flag, escalate to review, dismiss a flag the population has caught up with); only ops close one.
import { fail, ok, type Result } from "../lib/result";

export const REVIEW_STATES = ["flagged", "under_review", "dismissed", "cleared", "confirmed"] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/**
 * What happened to a player: a rate pass found them an outlier, or not; the plausibility checks refused one of their
 * requests; or ops decided.
 */
export type ReviewTrigger = "outlier" | "normal" | "implausible" | "clear" | "confirm";

type Rule = { from: ReviewState | null; on: ReviewTrigger; to: ReviewState; cause: string; guard?: "review_after" };

/** First match wins; a (state, trigger) pair no rule lists changes nothing (system) or is refused (ops). */
const RULES: readonly Rule[] = [
  { from: null, on: "outlier", to: "flagged", cause: "statistical_outlier" },
  // A dismissed flag was the population's noise; a new outlier verdict flags them again. A cleared one is ops' word.
  { from: "dismissed", on: "outlier", to: "flagged", cause: "statistical_outlier" },
  // Automatic investigation: still an outlier once the review delay has passed, or caught by the plausibility checks.
  { from: "flagged", on: "outlier", to: "under_review", cause: "still_outlier", guard: "review_after" },
  { from: "flagged", on: "implausible", to: "under_review", cause: "implausible_while_flagged" },
  // No longer an outlier before anyone looked (more players, a wider spread): the hold is lifted on its own.
  { from: "flagged", on: "normal", to: "dismissed", cause: "back_within_range" },
  { from: "flagged", on: "clear", to: "cleared", cause: "ops_clear" },
  { from: "under_review", on: "clear", to: "cleared", cause: "ops_clear" },
  { from: "flagged", on: "confirm", to: "confirmed", cause: "ops_confirm" },
  { from: "under_review", on: "confirm", to: "confirmed", cause: "ops_confirm" },
];

/** Rewards wait while a flag is open; a confirmed cheat's are never granted. */
export const holdsRewards = (s: ReviewState | null | undefined): boolean => s === "flagged" || s === "under_review" || s === "confirmed";
export const isOpen = (s: ReviewState | null | undefined): boolean => s === "flagged" || s === "under_review";

export type ReviewMove = { to: ReviewState; cause: string };

/** A system trigger: the move it makes, or null when it changes nothing. */
export function systemMove(from: ReviewState | null, flaggedAt: number | null, on: Exclude<ReviewTrigger, "clear" | "confirm">, now: number, reviewAfterMs: number): ReviewMove | null {
  for (const r of RULES) {
    if (r.from !== from || r.on !== on) continue;
    if (r.guard === "review_after" && (flaggedAt === null || now - flaggedAt < reviewAfterMs)) return null;
    return { to: r.to, cause: r.cause };
  }
  return null;
}

/** An ops decision: 404 when there is no flag, 409 when it is already closed. */
export function opsMove(from: ReviewState | null, on: "clear" | "confirm"): Result<ReviewMove> {
  if (from === null) return fail(404, "flag_not_found", "this player has no statistical flag in this event");
  const rule = RULES.find((r) => r.from === from && r.on === on);
  if (!rule) return fail(409, "flag_closed", `the flag is ${from}; only a flagged or under_review flag can be cleared or confirmed`, { state: from });
  return ok({ to: rule.to, cause: rule.cause });
}
