import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectConflicts, type ScheduleLimits, type ScheduleWindow } from "./scheduling";
import { applyEdit, checkRule, decideConflict, expandPlan, expandRule, nextLegalStart, type SeriesPlan } from "./series";
import { DAYS, RUNS, ZONES, dtstartArb, durationArb, rule, ruleArb, rruleText } from "./series.fixtures";
import { localOfWall, refExpand, refInstant, refWall, wallOf } from "./series.reference";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time";
import { parseLocal, toInstant, toLocal } from "./zoned";

describe("zoned time against the brute-force reference (RFC 5545: gap → forward by the gap, overlap → first)", () => {
  it("every local reading maps to the same instant in all six zones", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, (zone, local) => {
        expect(toInstant(local, zone)).toBe(refInstant(wallOf(local), zone));
      }),
      { numRuns: 300 },
    );
  });

  it("the transition nights come out as RFC 5545 says", () => {
    // New York spring-forward: 02:30 does not exist → 03:30 EDT; fall-back: 01:30 happens twice → the first (EDT).
    expect(new Date(toInstant("2026-03-08T02:30", "America/New_York")).toISOString()).toBe("2026-03-08T07:30:00.000Z");
    expect(new Date(toInstant("2026-11-01T01:30", "America/New_York")).toISOString()).toBe("2026-11-01T05:30:00.000Z");
    // Lord Howe springs forward by 30 minutes at 02:00: 02:15 → 02:45 (+11:00).
    expect(toLocal(toInstant("2026-10-04T02:15", "Australia/Lord_Howe"), "Australia/Lord_Howe")).toBe("2026-10-04T02:45:00");
    // Chatham: 02:45 → 03:45 (+13:45).
    expect(toLocal(toInstant("2026-09-27T03:00", "Pacific/Chatham"), "Pacific/Chatham")).toBe("2026-09-27T04:00:00");
    // Kolkata has no DST: every reading exists once.
    expect(toInstant("2026-03-08T02:30", "Asia/Kolkata")).toBe(Date.UTC(2026, 2, 7, 21, 0));
  });
});

describe("series expansion against the brute-force reference", () => {
  it("every occurrence starts and ends at the right instant; none is duplicated or lost across DST", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, ruleArb, durationArb, fc.integer({ min: 20, max: 70 }), (zone, dtstart, r, dur, spanDays) => {
        const from = toInstant(dtstart, zone) - 2 * DAY_MS;
        const to = from + spanDays * DAY_MS;
        const got = expandRule(rule({ rrule: rruleText(r), dtstart, duration: dur.text, timeZone: zone }), from, to);
        const want = refExpand(r, dtstart, zone, dur.hours, dur.days, from, to);
        expect(got.map((o) => [o.key, o.start, o.end])).toEqual(want.map((o) => [o.key, o.start, o.end]));
        expect(new Set(got.map((o) => o.start)).size).toBe(got.length);
      }),
      RUNS,
    );
  });

  it("a daily series keeps its wall-clock time through both changes (moved only inside the gap)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, (zone, dtstart) => {
        const from = toInstant(dtstart, zone);
        const occ = expandRule(rule({ rrule: "FREQ=DAILY", dtstart, duration: "PT1H", timeZone: zone }), from, from + 240 * DAY_MS);
        // One per local day, none lost: a reading can only vanish by landing on another reading's instant.
        expect(occ.length).toBeGreaterThanOrEqual(239);
        for (const o of occ) {
          const shown = refWall(o.start, zone);
          const delta = shown - wallOf(o.key);
          // Equal, or pushed forward by exactly the gap (at most an hour in these zones).
          expect(delta >= 0 && delta <= HOUR_MS).toBe(true);
          if (delta > 0) expect(refInstant(wallOf(o.key), zone)).toBe(o.start);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("exdates and until remove exactly the occurrences they name", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 5, max: 25 }), (zone, dtstart, skipIdx, untilIdx) => {
        const base = { rrule: "FREQ=DAILY", dtstart, duration: "PT2H", timeZone: zone };
        const from = toInstant(dtstart, zone) - DAY_MS;
        const all = expandRule(rule(base), from, from + 40 * DAY_MS);
        const skipped = all[skipIdx].key;
        const until = all[untilIdx].key;
        const some = expandRule(rule({ ...base, exdates: [skipped], until }), from, from + 40 * DAY_MS);
        expect(some.map((o) => o.key)).toEqual(all.filter((o) => o.key !== skipped && o.key <= until).map((o) => o.key));
      }),
      { numRuns: 30 },
    );
  });
});

describe("edits as pure transforms", () => {
  const base = rule({ rrule: "FREQ=WEEKLY;BYDAY=SA", dtstart: "2026-10-03T10:00", duration: "PT12H", timeZone: "Europe/London" });
  const plan: SeriesPlan = { segments: [{ ...base, fromMs: null }], overrides: {} };
  const from = Date.UTC(2026, 9, 1);
  const to = Date.UTC(2026, 11, 1);

  it("this: moves, lengthens or cancels one occurrence only", () => {
    const moved = applyEdit(plan, { scope: "this", occurrence: "2026-10-24T10:00", changes: { dtstart: "2026-10-24T12:00", duration: "PT2H" } });
    const cancelled = applyEdit(plan, { scope: "this", occurrence: "2026-10-31T10:00", changes: { cancel: true } });
    if (!moved.ok || !cancelled.ok) throw new Error("edit refused");
    const before = expandPlan(plan, from, to);
    const after = expandPlan(moved.plan, from, to);
    expect(after.length).toBe(before.length);
    const o = after.find((x) => x.key === "2026-10-24T10:00:00")!;
    expect([o.start, o.end]).toEqual([Date.UTC(2026, 9, 24, 11), Date.UTC(2026, 9, 24, 13)]);
    expect(after.filter((x) => x.key !== o.key)).toEqual(before.filter((x) => x.key !== o.key));
    expect(expandPlan(cancelled.plan, from, to).filter((x) => x.cancelled).map((x) => x.key)).toEqual(["2026-10-31T10:00:00"]);
  });

  it("following: the old rule ends before the occurrence, the new one starts there; all: rewrites the whole series", () => {
    const split = applyEdit(plan, { scope: "following", occurrence: "2026-10-31T10:00", changes: { dtstart: "2026-10-31T18:00", duration: "PT3H" } });
    if (!split.ok) throw new Error("edit refused");
    const keys = expandPlan(split.plan, from, to).map((x) => x.key.slice(0, 16));
    expect(keys.slice(0, 5)).toEqual(["2026-10-03T10:00", "2026-10-10T10:00", "2026-10-17T10:00", "2026-10-24T10:00", "2026-10-31T18:00"]);
    expect(keys.slice(5).every((k) => k.endsWith("T18:00"))).toBe(true);
    // London falls back on 25 October: 18:00 local is 18:00 UTC afterwards, 17:00 UTC before.
    expect(expandPlan(split.plan, from, to)[4].start).toBe(Date.UTC(2026, 9, 31, 18));
    const all = applyEdit(split.plan, { scope: "all", changes: { rrule: "FREQ=WEEKLY;BYDAY=SU" } });
    if (!all.ok) throw new Error("edit refused");
    expect(expandPlan(all.plan, from, to).every((x) => new Date(`${x.key}Z`).getUTCDay() === 0)).toBe(true);
  });

  it("following: an edit that puts the occurrence earlier (new time, or a zone ahead) keeps it, at its new start", () => {
    const earlier = applyEdit(plan, { scope: "following", occurrence: "2026-10-31T10:00", changes: { dtstart: "2026-10-31T08:00" } });
    const tokyo = applyEdit(plan, { scope: "following", occurrence: "2026-10-31T10:00", changes: { timeZone: "Asia/Tokyo" } });
    if (!earlier.ok || !tokyo.ok) throw new Error("edit refused");
    const at = (p: SeriesPlan) => expandPlan(p, from, to).filter((x) => x.key.startsWith("2026-10-3")).map((x) => [x.key, new Date(x.start).toISOString()]);
    expect(at(earlier.plan)).toEqual([["2026-10-31T08:00:00", "2026-10-31T08:00:00.000Z"]]);
    expect(at(tokyo.plan)).toEqual([["2026-10-31T10:00:00", "2026-10-31T01:00:00.000Z"]]);
    // Nothing before the split changed.
    const before = expandPlan(plan, from, Date.UTC(2026, 9, 30));
    expect(expandPlan(earlier.plan, from, Date.UTC(2026, 9, 30))).toEqual(before);
    expect(expandPlan(tokyo.plan, from, Date.UTC(2026, 9, 30))).toEqual(before);
  });

  it("following on an occurrence a single edit moved applies to that occurrence (split at the rule's own start)", () => {
    const moved = applyEdit(plan, { scope: "this", occurrence: "2026-10-17T10:00", changes: { dtstart: "2026-10-20T10:00" } });
    if (!moved.ok) throw new Error("edit refused");
    const split = applyEdit(moved.plan, { scope: "following", occurrence: "2026-10-17T10:00", changes: { dtstart: "2026-10-17T15:00" } });
    if (!split.ok) throw new Error("edit refused");
    const got = expandPlan(split.plan, from, to).map((x) => [x.key.slice(0, 16), new Date(x.start).toISOString().slice(0, 16)]);
    expect(got.slice(0, 4)).toEqual([
      ["2026-10-03T10:00", "2026-10-03T09:00"],
      ["2026-10-10T10:00", "2026-10-10T09:00"],
      ["2026-10-17T15:00", "2026-10-17T14:00"],
      ["2026-10-24T15:00", "2026-10-24T14:00"],
    ]);
    expect(got.some(([, s]) => s.startsWith("2026-10-20"))).toBe(false);
  });

  it("following keeps later single edits whose occurrence the new rule still has: a cancelled one stays cancelled", () => {
    const cancelled = applyEdit(plan, { scope: "this", occurrence: "2026-10-31T10:00", changes: { cancel: true } });
    if (!cancelled.ok) throw new Error("edit refused");
    const moved = applyEdit(cancelled.plan, { scope: "this", occurrence: "2026-11-07T10:00", changes: { dtstart: "2026-11-08T10:00" } });
    if (!moved.ok) throw new Error("edit refused");
    const at = (p: SeriesPlan) => expandPlan(p, from, to).filter((x) => x.key >= "2026-10-31").map((x) => [x.key.slice(0, 16), new Date(x.start).toISOString().slice(0, 16), x.cancelled]);
    const longer = applyEdit(moved.plan, { scope: "following", occurrence: "2026-10-17T10:00", changes: { duration: "PT2H" } });
    const paris = applyEdit(moved.plan, { scope: "following", occurrence: "2026-10-17T10:00", changes: { timeZone: "Europe/Paris" } });
    const later = applyEdit(moved.plan, { scope: "following", occurrence: "2026-10-17T10:00", changes: { dtstart: "2026-10-17T15:00" } });
    if (!longer.ok || !paris.ok || !later.ok) throw new Error("edit refused");
    expect(at(longer.plan).slice(0, 2)).toEqual([
      ["2026-10-31T10:00", "2026-10-31T10:00", true],
      ["2026-11-07T10:00", "2026-11-08T10:00", false],
    ]);
    // In Paris the occurrences are an hour earlier; the moved one stays at the instant it was moved to.
    expect(at(paris.plan).slice(0, 3)).toEqual([
      ["2026-10-31T10:00", "2026-10-31T09:00", true],
      ["2026-11-07T10:00", "2026-11-08T10:00", false],
      ["2026-11-14T10:00", "2026-11-14T09:00", false],
    ]);
    // A new time of day makes other occurrences (15:00): the old ones' edits go with them.
    expect(at(later.plan).slice(0, 2)).toEqual([
      ["2026-10-31T15:00", "2026-10-31T15:00", false],
      ["2026-11-07T15:00", "2026-11-07T15:00", false],
    ]);
    expect(Object.keys(later.plan.overrides)).toEqual([]);
  });

  it("all: a new zone reads a following edit's split again in it (nothing runs twice, nothing is lost)", () => {
    const ny: SeriesPlan = { segments: [{ ...rule({ rrule: "FREQ=DAILY", dtstart: "2027-05-01T10:00", duration: "PT1H", timeZone: "America/New_York" }), fromMs: null }], overrides: {} };
    const split = applyEdit(ny, { scope: "following", occurrence: "2027-05-10T10:00", changes: { dtstart: "2027-05-10T08:00" } });
    if (!split.ok) throw new Error("edit refused");
    for (const zone of ["Europe/London", "Pacific/Kiritimati"]) {
      const moved = applyEdit(split.plan, { scope: "all", changes: { timeZone: zone } });
      if (!moved.ok) throw new Error("edit refused");
      const days = expandPlan(moved.plan, Date.UTC(2027, 4, 7), Date.UTC(2027, 4, 14)).map((x) => x.key.slice(5, 16));
      expect(days.filter((d) => d >= "05-09" && d < "05-12"), zone).toEqual(["05-09T10:00", "05-10T08:00", "05-11T08:00"]);
    }
    // Without a new zone the splits stay where they were, even where the rules' zones differ.
    const westward = applyEdit(ny, { scope: "following", occurrence: "2027-05-10T10:00", changes: { timeZone: "America/Los_Angeles" } });
    if (!westward.ok) throw new Error("edit refused");
    const longer = applyEdit(westward.plan, { scope: "all", changes: { duration: "PT2H" } });
    expect(longer.ok && longer.plan.segments.map((x) => x.fromMs)).toEqual(westward.plan.segments.map((x) => x.fromMs));
  });

  it("all: a COUNT counts the whole series, not each rule of it again", () => {
    const daily: SeriesPlan = { segments: [{ ...rule({ rrule: "FREQ=DAILY", dtstart: "2027-05-01T10:00", duration: "PT1H", timeZone: "Europe/London" }), fromMs: null }], overrides: {} };
    const split = applyEdit(daily, { scope: "following", occurrence: "2027-05-05T10:00", changes: { duration: "PT2H" } });
    if (!split.ok) throw new Error("edit refused");
    const counted = applyEdit(split.plan, { scope: "all", changes: { rrule: "FREQ=DAILY;COUNT=10" } });
    const few = applyEdit(split.plan, { scope: "all", changes: { rrule: "FREQ=DAILY;COUNT=3" } });
    if (!counted.ok || !few.ok) throw new Error("edit refused");
    const got = expandPlan(counted.plan, Date.UTC(2027, 3, 1), Date.UTC(2027, 6, 1));
    expect(got.map((x) => x.key.slice(5, 10))).toEqual(["05-01", "05-02", "05-03", "05-04", "05-05", "05-06", "05-07", "05-08", "05-09", "05-10"]);
    expect(got.map((x) => (x.end - x.start) / HOUR_MS)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    // Three end before the split: the later rule has nothing left and goes.
    expect(expandPlan(few.plan, Date.UTC(2027, 3, 1), Date.UTC(2027, 6, 1)).map((x) => x.key.slice(5, 10))).toEqual(["05-01", "05-02", "05-03"]);
    expect(few.plan.segments.length).toBe(1);
  });

  it("following carries on the rule's COUNT instead of restarting it", () => {
    const counted = rule({ rrule: "FREQ=WEEKLY;BYDAY=SA;COUNT=5", dtstart: "2026-10-03T10:00", duration: "PT12H", timeZone: "Europe/London" });
    const p: SeriesPlan = { segments: [{ ...counted, fromMs: null }], overrides: {} };
    const split = applyEdit(p, { scope: "following", occurrence: "2026-10-17T10:00", changes: { duration: "PT2H" } });
    if (!split.ok) throw new Error("edit refused");
    const got = expandPlan(split.plan, from, Date.UTC(2027, 0, 1));
    expect(got.map((x) => x.key.slice(5, 10))).toEqual(["10-03", "10-10", "10-17", "10-24", "10-31"]);
    expect(got.slice(2).every((x) => x.end - x.start === 2 * HOUR_MS)).toBe(true);
    // A new rrule with its own COUNT is taken as written, from the split.
    const own = applyEdit(p, { scope: "following", occurrence: "2026-10-17T10:00", changes: { rrule: "FREQ=WEEKLY;BYDAY=SA;COUNT=2" } });
    if (!own.ok) throw new Error("edit refused");
    expect(expandPlan(own.plan, from, Date.UTC(2027, 0, 1)).length).toBe(4);
  });

  it("a duration longer than the event window is refused (it would overflow the date maths on every pass)", () => {
    const huge = checkRule({ rrule: "FREQ=DAILY", dtstart: "2026-10-03T10:00", duration: "P99999999W", timeZone: "UTC" });
    expect(huge.ok ? null : huge.problems.map((p) => p.path)).toEqual(["duration"]);
    expect(checkRule({ rrule: "FREQ=DAILY", dtstart: "2026-10-03T10:00", duration: "P90D", timeZone: "UTC" }).ok).toBe(true);
    expect(checkRule({ rrule: "FREQ=DAILY", dtstart: "2026-10-03T10:00", duration: "P12W", timeZone: "UTC" }, 30).ok).toBe(false);
    const one = applyEdit(plan, { scope: "this", occurrence: "2026-10-24T10:00", changes: { duration: "P99999999W" } });
    const all = applyEdit(plan, { scope: "all", changes: { duration: "P13W" } });
    expect([one, all].map((r) => (r.ok ? null : r.problems[0].path))).toEqual(["changes.duration", "duration"]);
  });

  it("this: an occurrence moved into a range from outside it is in that range; a move into the past is refused", () => {
    const moved = applyEdit(plan, { scope: "this", occurrence: "2026-10-24T10:00", changes: { dtstart: "2026-10-30T10:00" } });
    if (!moved.ok) throw new Error("edit refused");
    const week = expandPlan(moved.plan, Date.UTC(2026, 9, 26), Date.UTC(2026, 10, 1));
    expect(week.map((x) => [x.key, new Date(x.start).toISOString()])).toEqual([
      ["2026-10-24T10:00:00", "2026-10-30T10:00:00.000Z"],
      ["2026-10-31T10:00:00", "2026-10-31T10:00:00.000Z"],
    ]);
    // Its original week still lists it (its event is the series' wherever it went); a range it never touches does not.
    expect(expandPlan(moved.plan, Date.UTC(2026, 9, 24), Date.UTC(2026, 9, 25)).map((x) => x.key)).toEqual(["2026-10-24T10:00:00"]);
    expect(expandPlan(moved.plan, Date.UTC(2026, 10, 2), Date.UTC(2026, 10, 5))).toEqual([]);
    const past = applyEdit(plan, { scope: "this", occurrence: "2026-10-10T10:00", changes: { dtstart: "2026-10-08T10:00" } }, 90, Date.UTC(2026, 9, 9));
    expect(past.ok ? null : past.problems[0]).toEqual({ path: "changes.dtstart", message: "must not be in the past" });
    expect(applyEdit(plan, { scope: "this", occurrence: "2026-10-10T10:00", changes: { dtstart: "2026-10-09T10:00" } }, 90, Date.UTC(2026, 9, 9)).ok).toBe(true);
  });

  it("refuses rule fields on one occurrence, unknown occurrences and bad values, naming the field", () => {
    const r1 = applyEdit(plan, { scope: "this", occurrence: "2026-10-24T10:00", changes: { rrule: "FREQ=DAILY" } });
    const r2 = applyEdit(plan, { scope: "this", occurrence: "2026-10-25T10:00", changes: { cancel: true } });
    const r3 = applyEdit(plan, { scope: "all", changes: { timeZone: "Mars/Olympus" } });
    expect([r1, r2, r3].map((r) => (r.ok ? null : r.problems[0].path))).toEqual(["changes.rrule", "occurrence", "timeZone"]);
  });
});

describe("rule validation", () => {
  it("two starts a day (BYHOUR) stay two starts a day through a spring-forward, at the right instants", () => {
    const occ = expandRule(rule({ rrule: "FREQ=DAILY;BYHOUR=2,14;BYMINUTE=30", dtstart: "2027-03-13T02:30", duration: "PT1H", timeZone: "America/New_York" }), Date.UTC(2027, 2, 13), Date.UTC(2027, 2, 16));
    expect(occ.map((o) => new Date(o.start).toISOString().slice(5, 16))).toEqual(["03-13T07:30", "03-13T19:30", "03-14T07:30", "03-14T18:30", "03-15T06:30", "03-15T18:30"]);
  });

  it("a local date-time starts on the minute: seconds other than :00 (and a leap second :60) are refused", () => {
    expect(["2027-05-01T10:00", "2027-05-01T10:00:00"].map(parseLocal)).toEqual(["2027-05-01T10:00:00", "2027-05-01T10:00:00"]);
    expect(["2027-05-01T10:00:60", "2027-05-01T10:00:30", "2027-05-01T10:00:5"].map(parseLocal)).toEqual([null, null, null]);
    const c = checkRule({ rrule: "FREQ=DAILY", dtstart: "2027-05-01T10:00:30", duration: "PT1H", timeZone: "UTC", exdates: ["2027-05-02T10:00:60"], until: "2027-05-09T10:00:59" });
    expect(c.ok ? [] : c.problems.map((p) => p.path)).toEqual(["dtstart", "exdates.0", "until"]);
  });

  it("a COUNT larger than 10,000 from a dtstart long past still expands (rrule-temporal's default walk limit threw)", () => {
    const long = rule({ rrule: "FREQ=DAILY;COUNT=20000", dtstart: "1999-01-01T10:00", duration: "PT1H", timeZone: "America/New_York" });
    const got = expandRule(long, Date.UTC(2027, 4, 1), Date.UTC(2027, 4, 8));
    expect(got.map((o) => o.key.slice(0, 16))).toEqual([1, 2, 3, 4, 5, 6, 7].map((d) => `2027-05-0${d}T10:00`));
    // The 20,000th occurrence is the last: 19,999 days after the first.
    const last = new Date(Date.UTC(1999, 0, 1) + 19_999 * DAY_MS).toISOString().slice(0, 10);
    const end = expandRule(long, Date.parse(`${last}T00:00:00Z`) - 3 * DAY_MS, Date.parse(`${last}T00:00:00Z`) + 30 * DAY_MS);
    expect(end.map((o) => o.key.slice(0, 10))).toEqual([-3, -2, -1, 0].map((d) => new Date(Date.parse(`${last}T00:00:00Z`) + d * DAY_MS).toISOString().slice(0, 10)));
    const p: SeriesPlan = { segments: [{ ...long, fromMs: null }], overrides: {} };
    const edited = applyEdit(p, { scope: "this", occurrence: "2027-05-03T10:00", changes: { cancel: true } });
    expect(edited.ok).toBe(true);
    const older = rule({ rrule: "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=100000", dtstart: "1800-01-02T10:00", duration: "PT1H", timeZone: "Europe/London" });
    expect(expandRule(older, Date.UTC(2027, 4, 1), Date.UTC(2027, 4, 8)).map((o) => o.key.slice(0, 10))).toEqual(["2027-05-03", "2027-05-06"]);
  });

  it("names every bad field", () => {
    const r = checkRule({ rrule: "FREQ=HOURLY", dtstart: "2026-03-08T02:30Z", duration: "P1M", timeZone: "Not/AZone", exdates: ["yesterday"] });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(["rrule", "dtstart", "duration", "timeZone", "exdates.0"]);
    for (const rrule of ["BYDAY=SA", "FREQ=WEEKLY;BYDAY=XX", "FREQ=DAILY;UNTIL=20270101T000000Z", "nonsense", "FREQ=DAILY;BYSECOND=5", "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,30", "FREQ=DAILY;FREQ=WEEKLY"]) {
      const c = checkRule({ rrule, dtstart: "2026-03-08T02:30", duration: "PT1H", timeZone: "UTC" });
      expect(c.ok, rrule).toBe(false);
    }
  });

  it("range-checks every rule part and refuses a rule with no occurrence in its first year", () => {
    const check = (rrule: string) => checkRule({ rrule, dtstart: "2026-03-08T10:00", duration: "PT1H", timeZone: "Europe/London" });
    const refused = [
      "FREQ=DAILY;BYHOUR=99",
      "FREQ=DAILY;BYMINUTE=60",
      "FREQ=MONTHLY;BYMONTHDAY=0",
      "FREQ=MONTHLY;BYMONTHDAY=32",
      "FREQ=DAILY;COUNT=0",
      "FREQ=DAILY;INTERVAL=0",
      "FREQ=DAILY;BYDAY=+1MO",
      "FREQ=WEEKLY;BYDAY=-1FR",
      "FREQ=MONTHLY;BYDAY=0MO",
      "FREQ=YEARLY;BYMONTH=13",
      "FREQ=DAILY;FOO=1",
      "FREQ=WEEKLY;WKST=XX",
      "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
      "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", // the next 29 February is in 2028
    ];
    for (const rrule of refused) {
      const c = check(rrule);
      expect(c.ok ? null : c.problems.map((p) => p.path), rrule).toEqual(["rrule"]);
    }
    for (const rrule of ["FREQ=MONTHLY;BYDAY=+1MO", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=59", "FREQ=WEEKLY;WKST=SU;BYDAY=SA"]) {
      expect(check(rrule).ok, rrule).toBe(true);
    }
  });
});

// ---- the scheduling rules, by brute force ------------------------------------------------------------------------

const Q = 15 * MINUTE_MS;
const T0 = Date.UTC(2026, 11, 1);
const LIMITS: ScheduleLimits = { maxConcurrent: 2, maxConcurrentSameType: 1, majorGapMs: 4 * HOUR_MS };
const TYPES = ["seasonal", "competitive"] as const;
const TIERS = ["standard", "major", "mini"] as const;
const windowArb = (id: string) =>
  fc.record({ s: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 1, max: 40 }), type: fc.constantFrom(...TYPES), tier: fc.constantFrom(...TIERS) }).map(
    (w): ScheduleWindow => ({ eventId: id, type: w.type, tier: w.tier, start: T0 + w.s * Q, end: T0 + (w.s + w.len) * Q }),
  );
const existingArb = fc.integer({ min: 0, max: 7 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => windowArb(`e${i}`))));

/** The rules checked quarter-hour by quarter-hour (every time here is a multiple of 15 minutes). */
function bruteConflict(c: ScheduleWindow, existing: ScheduleWindow[], l: ScheduleLimits): boolean {
  const counted = (t: string) => t !== "mini" && t !== "daily";
  if (counted(c.tier)) {
    for (let t = c.start; t < c.end; t += Q) {
      const running = existing.filter((e) => e.start <= t && t < e.end && counted(e.tier));
      if (running.length + 1 > l.maxConcurrent) return true;
      if (running.filter((e) => e.type === c.type).length + 1 > l.maxConcurrentSameType) return true;
    }
  }
  if (c.tier === "major") {
    for (const e of existing.filter((x) => x.tier === "major")) if (c.start < e.end + l.majorGapMs && e.start < c.end + l.majorGapMs) return true;
  }
  return false;
}

describe("conflicts against the brute-force rules", () => {
  it("detectConflicts agrees with the quarter-hour check, and the next legal start is the first quarter that fits", () => {
    fc.assert(
      fc.property(windowArb("cand"), existingArb, (cand, existing) => {
        expect(detectConflicts(cand, existing, LIMITS).length > 0).toBe(bruteConflict(cand, existing, LIMITS));
        const len = cand.end - cand.start;
        let want: number | null = null;
        for (let t = cand.start; t <= cand.start + 24 * HOUR_MS; t += Q) {
          if (!bruteConflict({ ...cand, start: t, end: t + len }, existing, LIMITS)) {
            want = t;
            break;
          }
        }
        expect(nextLegalStart(cand, existing, LIMITS)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it("a materialized series breaks no rule: what is scheduled or shifted fits, what is skipped could not", () => {
    fc.assert(
      fc.property(existingArb, fc.constantFrom(...TIERS), fc.constantFrom(...TYPES), fc.constantFrom("skip" as const, "shift" as const), fc.integer({ min: 1, max: 16 }), (existing, tier, type, policy, hours) => {
        const occ = expandRule(rule({ rrule: "FREQ=DAILY", dtstart: localOfWall(T0 - DAY_MS), duration: `PT${hours}H`, timeZone: "UTC" }), T0 - DAY_MS, T0 + 4 * DAY_MS);
        const placed: ScheduleWindow[] = [...existing];
        for (const o of occ) {
          const cand: ScheduleWindow = { eventId: `s-${o.key}`, type, tier, start: o.start, end: o.end };
          const d = decideConflict(cand, detectConflicts(cand, placed, LIMITS), placed, LIMITS, policy);
          if (d.status === "skipped") {
            expect(bruteConflict(cand, placed, LIMITS)).toBe(true);
            if (policy === "shift") for (let t = cand.start; t <= cand.start + 24 * HOUR_MS; t += Q) expect(bruteConflict({ ...cand, start: t, end: t + o.end - o.start }, placed, LIMITS)).toBe(true);
            continue;
          }
          const w = { ...cand, start: d.start, end: d.end };
          expect(bruteConflict(w, placed, LIMITS)).toBe(false);
          expect(d.end - d.start).toBe(o.end - o.start);
          if (d.status === "shifted") expect(d.start).toBeGreaterThan(d.from);
          placed.push(w);
        }
      }),
      { numRuns: 150 },
    );
  });
});
