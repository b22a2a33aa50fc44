// The rules D1 keeps for players' views (series.segments): every rule that ever made an occurrence, not only the plan's.
// An edit prunes rules whose stretch ended over PLAN_RETENTION_DAYS ago, and an "all" edit with a new dtstart makes
// the plan one rule again (fromMs null); D1 still holds those rules' occurrences, and ruleAt would name the later rule
// for them. So the object keeps what the plan drops, in order, and D1 gets that history followed by the plan.
import { prunedRules, type Segment, type SeriesEdit, type SeriesPlan } from "../../domain/series";
import type { RuleSegment } from "../../domain/series-public";

/** Rules kept beyond the plan's; past this the oldest go (an occurrence that old then reads the oldest rule kept). */
export const MAX_RULE_HISTORY = 200;

/** What the object stores beside its plan: the dropped rules, and where the plan's first rule starts for D1. */
export type RuleHistory = { rules: RuleSegment[]; since: number | null };

/** A plan rule as D1 keeps it: a first rule that an "all" edit with a new dtstart started begins at that edit. */
const d1Rule = ({ rrule, dtstart, duration, timeZone, until, fromMs }: Segment, since: number | null): RuleSegment => ({ rrule, dtstart, duration, timeZone, until, fromMs: fromMs ?? since });

/** The history after `edit` turned `before` into a new plan at `now`. */
export function afterEdit(history: RuleHistory, before: SeriesPlan, edit: SeriesEdit, now: number): RuleHistory {
  const collapsed = edit.scope === "all" && edit.changes.dtstart !== undefined;
  // A collapse replaces every rule: those that had started keep their occurrences; the new one starts now.
  const dropped = collapsed ? before.segments.filter((s) => s.fromMs === null || s.fromMs < now) : before.segments.slice(0, prunedRules(before, now));
  return { rules: [...history.rules, ...dropped.map((s) => d1Rule(s, history.since))].slice(-MAX_RULE_HISTORY), since: collapsed ? now : history.since };
}

/** series.segments for D1: the history, then the plan's rules (in start order, so ruleAt's last match is the right one). */
export const d1Segments = (history: RuleHistory, plan: SeriesPlan): RuleSegment[] => [...history.rules, ...plan.segments.map((s) => d1Rule(s, history.since))];
