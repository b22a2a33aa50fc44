// The exactly-once audit shared by the phases: what clients were told against what D1 holds once the outboxes
// drained. Every acknowledged update must be there. An update whose outcome the client never learned (a frame still
// in flight when the wait for acks ended or its socket closed, a request that failed with a 5xx three times) may or
// may not be: the server may have applied it. So the check is acked ≤ D1 ≤ acked + unresolved; short of acked is a
// lost update, beyond acked + unresolved a duplicated one. Counting the unresolved ones as duplicates would blame
// the server for frames it simply had not answered yet.
import { fmtInt } from "./stats.mjs";

/** lost / duplicated / unresolvedApplied (how many of the unresolved D1 holds) / within; all null without D1. */
export function auditSum({ acked, unresolved = 0, d1 }) {
  if (d1 === null || d1 === undefined) return { lost: null, duplicated: null, unresolvedApplied: null, within: null };
  return {
    lost: Math.max(0, acked - d1),
    duplicated: Math.max(0, d1 - acked - unresolved),
    unresolvedApplied: Math.min(Math.max(0, d1 - acked), unresolved),
    within: d1 >= acked && d1 <= acked + unresolved,
  };
}

/** "acked / D1", or "acked ≤ D1 ≤ acked + unresolved" when some outcomes are unknown. */
export function boundsCell(acked, unresolved, d1) {
  const d = d1 === null || d1 === undefined ? "n/a" : fmtInt(d1);
  return unresolved ? `${fmtInt(acked)} ≤ ${d} ≤ ${fmtInt(acked + unresolved)}` : `${fmtInt(acked)} / ${d}`;
}

/** The status cell of an audit line: ok, MISMATCH, or why it could not be checked. */
export function boundsCheck(a, drained) {
  if (a.within === null) return "NOT CHECKED (no D1 totals)";
  if (!a.within) return "MISMATCH";
  return drained ? "ok" : "ok so far (not drained)";
}
