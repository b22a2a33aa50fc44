// Property tests of wider rules (MONTHLY, several starts a day, COUNT), exdates/until on DST-change days, and
// "following" edits, each against the Intl-only brute-force reference (series.reference.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEdit, expandPlan, expandRule, type SeriesPlan } from "./series";
import { DAYS, RUNS, ZONES, dtstartArb, durationArb, localTime, pad, rule, ruleArb, rruleText } from "./series.fixtures";
import { refExpand, refInstant, wallOf, type RefRule } from "./series.reference";
import { DAY_MS } from "./time";
import { addLocalDays, toInstant } from "./zoned";

// Wider rules: MONTHLY;BYMONTHDAY, several starts a day (BYHOUR), COUNT. Built around dtstart so dtstart is itself an
// occurrence (RFC 5545 leaves a DTSTART that does not match its rule undefined).
const wideArb = fc.tuple(fc.constantFrom(...ZONES), dtstartArb).chain(([zone, dtstart]) => {
  const day = Number(dtstart.slice(8, 10));
  const hour = Number(dtstart.slice(11, 13));
  const weekday = (Math.floor(wallOf(dtstart) / DAY_MS) + 3) % 7;
  const shape = fc.oneof(
    fc.record({ freq: fc.constant("MONTHLY" as const), interval: fc.integer({ min: 1, max: 2 }), byday: fc.constant([] as number[]), monthdays: fc.uniqueArray(fc.integer({ min: 1, max: 28 }), { maxLength: 2 }).map((a) => [...new Set([day, ...a])].sort((x, y) => x - y)) }),
    fc.record({ freq: fc.constantFrom("DAILY" as const, "WEEKLY" as const), interval: fc.integer({ min: 1, max: 2 }), byday: fc.constant([weekday] as number[]), hours: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { maxLength: 3 }).map((a) => [...new Set([hour, ...a])].sort((x, y) => x - y)) }),
  );
  return fc.tuple(fc.constant(zone), fc.constant(dtstart), shape, fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }));
});
const wideText = (r: RefRule) =>
  `FREQ=${r.freq};INTERVAL=${r.interval}` +
  (r.freq === "WEEKLY" ? `;BYDAY=${r.byday.map((d) => DAYS[d]).join(",")}` : "") +
  (r.monthdays ? `;BYMONTHDAY=${r.monthdays.join(",")}` : "") +
  (r.hours ? `;BYHOUR=${r.hours.join(",")}` : "") +
  (r.count ? `;COUNT=${r.count}` : "");

describe("wider rules against the brute-force reference", () => {
  it("MONTHLY, several starts a day and COUNT: every occurrence at the right instant, none lost or doubled", () => {
    fc.assert(
      fc.property(wideArb, durationArb, ([zone, dtstart, shape, count], dur) => {
        const r: RefRule = { ...shape, count };
        const from = toInstant(dtstart, zone) - DAY_MS;
        const to = from + (r.freq === "MONTHLY" ? 100 : 30) * DAY_MS;
        const got = expandRule(rule({ rrule: wideText(r), dtstart, duration: dur.text, timeZone: zone }), from, to);
        const want = refExpand(r, dtstart, zone, dur.hours, dur.days, from, to);
        expect(got.map((o) => [o.key, o.start, o.end])).toEqual(want.map((o) => [o.key, o.start, o.end]));
      }),
      RUNS,
    );
  });

  it("exdates and until on a DST-change day remove exactly what they name", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES.filter((z) => z !== "Asia/Kolkata")), dtstartArb, fc.boolean(), (zone, dtstart, useUntil) => {
        const base = { rrule: "FREQ=DAILY", dtstart, duration: "PT1H", timeZone: zone };
        const from = toInstant(dtstart, zone) - DAY_MS;
        const to = from + 60 * DAY_MS;
        const all = expandRule(rule(base), from, to);
        // The first occurrence whose gap to the one before is not a whole day: the day the clocks changed.
        const i = all.findIndex((o, j) => j > 0 && o.start - all[j - 1].start !== DAY_MS);
        fc.pre(i > 0);
        const key = all[i].key;
        const r: RefRule = { freq: "DAILY", interval: 1, byday: [], ...(useUntil ? { until: key } : { exdates: [key] }) };
        const got = expandRule(rule({ ...base, ...(useUntil ? { until: key } : { exdates: [key] }) }), from, to);
        expect(got.map((o) => [o.key, o.start])).toEqual(refExpand(r, dtstart, zone, 1, null, from, to).map((o) => [o.key, o.start]));
        expect(got.some((o) => o.key === key)).toBe(useUntil);
      }),
      { numRuns: 30 },
    );
  });

  it("a following edit gives the old rule before the split and the new rule from it, the split being the earlier of the two starts", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, ruleArb, fc.integer({ min: 0, max: 6 }), localTime, fc.constantFrom(...ZONES), fc.boolean(), fc.integer({ min: -2, max: 0 }), (zone, dtstart, r, k, t, zone2, moveZone, shift) => {
        const plan: SeriesPlan = { segments: [{ ...rule({ rrule: rruleText(r), dtstart, duration: "PT1H", timeZone: zone }), fromMs: null }], overrides: {} };
        // Wide enough before dtstart for the edited occurrence's new start: up to two days earlier, the same local
        // date in another zone up to 26 h earlier, and its new time up to a day earlier still.
        const from = toInstant(dtstart, zone) - 5 * DAY_MS;
        const before = expandPlan(plan, from, from + 52 * DAY_MS);
        // ...and after the last occurrence picked, for one moved up to a day and a zone (26 h) later.
        const to = from + 55 * DAY_MS;
        fc.pre(before.length > k);
        const key = before[k].key;
        const newStart = `${addLocalDays(key, shift).slice(0, 10)}T${pad(t.h)}:${pad(t.m)}:00`;
        // A weekly rule's new dtstart must be one of its days (RFC 5545 leaves any other undefined).
        fc.pre(r.freq === "DAILY" || r.byday.includes((Math.floor(wallOf(newStart) / DAY_MS) + 3) % 7));
        const newZone = moveZone ? zone2 : zone;
        const edit = applyEdit(plan, { scope: "following", occurrence: key, changes: { dtstart: newStart, ...(moveZone ? { timeZone: zone2 } : {}) } });
        const split = Math.min(refInstant(wallOf(key), zone), refInstant(wallOf(newStart), newZone));
        const kept = refExpand(r, dtstart, zone, 1, null, from, to).filter((o) => o.start < split);
        // Refused exactly when an occurrence kept before the split is named at or after the new start (names would clash).
        if (kept.some((o) => o.key >= newStart)) {
          expect(edit.ok ? null : edit.problems[0].path).toBe("changes.dtstart");
          return;
        }
        if (!edit.ok) throw new Error(JSON.stringify(edit.problems));
        const want = [...kept, ...refExpand(r, newStart, newZone, 1, null, from, to).filter((o) => o.start >= split)];
        const got = expandPlan(edit.plan, from, to);
        expect(got.map((o) => [o.key, o.start])).toEqual(want.sort((a, b) => a.start - b.start).map((o) => [o.key, o.start]));
        // The edited occurrence itself is there, at its new start.
        expect(got.some((o) => o.key === newStart && o.start === refInstant(wallOf(newStart), newZone))).toBe(true);
      }),
      RUNS,
    );
  });

  it("an 'all' edit on a series a following edit split: a new zone reads both rules and their split again in it", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, ruleArb, fc.integer({ min: 1, max: 6 }), localTime, fc.constantFrom(...ZONES), fc.integer({ min: -1, max: 0 }), fc.constantFrom(...ZONES), (zone, dtstart, r, k, t, zone2, shift, zone3) => {
        const { plan, key, newStart, from, to } = splitPlan(zone, dtstart, r, k, t, zone2, shift);
        const edit = applyEdit(plan, { scope: "all", changes: { timeZone: zone3, duration: "PT2H" } });
        if (!edit.ok) throw new Error(JSON.stringify(edit.problems));
        const split = Math.min(refInstant(wallOf(key), zone3), refInstant(wallOf(newStart), zone3));
        const want = [
          ...refExpand(r, dtstart, zone3, 2, null, from, to).filter((o) => o.start < split),
          ...refExpand(r, newStart, zone3, 2, null, from, to).filter((o) => o.start >= split),
        ];
        const got = expandPlan(edit.plan, from, to);
        expect(got.map((o) => [o.key, o.start, o.end])).toEqual(want.sort((a, b) => a.start - b.start).map((o) => [o.key, o.start, o.end]));
        expect(got.some((o) => o.key === newStart)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("an 'all' edit with a COUNT on a split series", () => {
  it("gives exactly the first COUNT occurrences the same edit without a COUNT gives", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), dtstartArb, ruleArb, fc.integer({ min: 1, max: 6 }), localTime, fc.constantFrom(...ZONES), fc.integer({ min: -1, max: 0 }), fc.integer({ min: 1, max: 14 }), (zone, dtstart, r, k, t, zone2, shift, n) => {
        const { plan, from } = splitPlan(zone, dtstart, r, k, t, zone2, shift);
        const open = applyEdit(plan, { scope: "all", changes: { rrule: rruleText(r) } });
        const counted = applyEdit(plan, { scope: "all", changes: { rrule: `${rruleText(r)};COUNT=${n}` } });
        if (!open.ok || !counted.ok) throw new Error("edit refused");
        const to = from + 200 * DAY_MS;
        const key = (o: { key: string; start: number }) => [o.key, o.start];
        expect(expandPlan(counted.plan, from, to).map(key)).toEqual(expandPlan(open.plan, from, to).slice(0, n).map(key));
      }),
      RUNS,
    );
  });
});

/** A series split by a following edit at its k-th occurrence (new time t, `shift` days, in zone2); pre-filters refusals. */
function splitPlan(zone: string, dtstart: string, r: RefRule, k: number, t: { h: number; m: number }, zone2: string, shift: number) {
  const plan: SeriesPlan = { segments: [{ ...rule({ rrule: rruleText(r), dtstart, duration: "PT1H", timeZone: zone }), fromMs: null }], overrides: {} };
  const from = toInstant(dtstart, zone) - 5 * DAY_MS;
  const before = expandPlan(plan, from, from + 52 * DAY_MS);
  fc.pre(before.length > k);
  const key = before[k].key;
  const newStart = `${addLocalDays(key, shift).slice(0, 10)}T${pad(t.h)}:${pad(t.m)}:00`;
  fc.pre(r.freq === "DAILY" || r.byday.includes((Math.floor(wallOf(newStart) / DAY_MS) + 3) % 7));
  const edit = applyEdit(plan, { scope: "following", occurrence: key, changes: { dtstart: newStart, timeZone: zone2 } });
  fc.pre(edit.ok);
  return { plan: (edit as { plan: SeriesPlan }).plan, key, newStart, from, to: from + 55 * DAY_MS };
}

