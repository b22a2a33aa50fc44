// The plan's bounds: how many rules a series may have, and what each edit drops once it is long past.
import { describe, expect, it } from "vitest";
import { applyEdit, expandPlan, type SeriesPlan } from "./series";
import { rule } from "./series.fixtures";
import { DAY_MS } from "./time";

describe("plan limits", () => {
  it("a series has at most 50 rules, and an edit drops rules and single edits more than 90 days past", () => {
    const t0 = Date.UTC(2027, 0, 1, 10);
    let p: SeriesPlan = { segments: [{ ...rule({ rrule: "FREQ=DAILY", dtstart: "2027-01-01T10:00", duration: "PT1H", timeZone: "UTC" }), fromMs: null }], overrides: {} };
    const day = (n: number) => new Date(t0 + n * DAY_MS).toISOString().slice(0, 16);
    for (let n = 1; n < 50; n++) {
      const r = applyEdit(p, { scope: "following", occurrence: day(n), changes: { duration: `PT${1 + (n % 2)}H` } }, 90, t0);
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      p = r.plan;
    }
    expect(p.segments.length).toBe(50);
    const cancelled = applyEdit(p, { scope: "this", occurrence: day(2), changes: { cancel: true } }, 90, t0);
    if (!cancelled.ok) throw new Error("edit refused");
    p = cancelled.plan;
    const more = applyEdit(p, { scope: "following", occurrence: day(50), changes: { duration: "PT3H" } }, 90, t0);
    expect(more.ok ? null : more.problems[0].path).toBe("scope");
    const one = applyEdit(p, { scope: "all", changes: { dtstart: day(60) } }, 90, t0);
    expect(one.ok && one.plan.segments.length).toBe(1);
    // 130 days on, only the rules still in force 90 days back are left (from the one split at day 39), and the single
    // edit of day 2 is gone; what the plan gives around then is unchanged.
    const later = t0 + 130 * DAY_MS;
    const edited = applyEdit(p, { scope: "this", occurrence: day(131), changes: { duration: "PT4H" } }, 90, later);
    if (!edited.ok) throw new Error("edit refused");
    expect(edited.plan.segments.length).toBe(11);
    expect(Object.keys(edited.plan.overrides)).toEqual([`${day(131)}:00`]);
    const range = (q: SeriesPlan) => expandPlan(q, later - 20 * DAY_MS, later + 20 * DAY_MS).filter((o) => o.key !== `${day(131)}:00`);
    expect(range(edited.plan)).toEqual(range(p));
    expect(applyEdit(edited.plan, { scope: "following", occurrence: day(140), changes: { duration: "PT1H" } }, 90, later).ok).toBe(true);
  });
});
