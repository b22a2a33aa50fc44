// Shared generators and helpers for the series property tests (series.test.ts, series.wide.test.ts).
import fc from "fast-check";
import { checkRule, type SeriesRule } from "./series";
import type { RefRule } from "./series.reference";

export const ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "America/Santiago"] as const;
export const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
export const RUNS = { numRuns: 60 };

// Local times are drawn mostly from the small hours, where every one of these zones changes its clocks
// (Santiago at 00:00 → 01:00 / 24:00 → 23:00, Chatham at 02:45, Lord Howe at 02:00 by 30 minutes).
export const localTime = fc.oneof(
  { weight: 3, arbitrary: fc.record({ h: fc.integer({ min: 0, max: 3 }), m: fc.constantFrom(0, 15, 30, 45) }) },
  { weight: 1, arbitrary: fc.record({ h: fc.integer({ min: 0, max: 23 }), m: fc.constantFrom(0, 15, 30, 45) }) },
);
// Dates from a few days before each hemisphere's changes, so a window of weeks crosses one.
export const localDate = fc.record({
  y: fc.constantFrom(2026, 2027),
  mo: fc.constantFrom(3, 4, 9, 10, 11),
  d: fc.integer({ min: 1, max: 28 }),
});
export const pad = (n: number) => String(n).padStart(2, "0");
export const dtstartArb = fc.tuple(localDate, localTime).map(([d, t]) => `${d.y}-${pad(d.mo)}-${pad(d.d)}T${pad(t.h)}:${pad(t.m)}:00`);

export const ruleArb = fc.oneof(
  fc.record({ freq: fc.constant("DAILY" as const), interval: fc.integer({ min: 1, max: 3 }), byday: fc.constant([] as number[]) }),
  fc.record({
    freq: fc.constant("WEEKLY" as const),
    interval: fc.integer({ min: 1, max: 2 }),
    byday: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }).map((a) => a.sort()),
  }),
);
export const rruleText = (r: RefRule) => `FREQ=${r.freq};INTERVAL=${r.interval}${r.freq === "WEEKLY" ? `;BYDAY=${r.byday.map((d) => DAYS[d]).join(",")}` : ""}`;
export const durationArb = fc.oneof(
  fc.integer({ min: 1, max: 30 }).map((h) => ({ text: `PT${h}H`, hours: h, days: null })),
  fc.integer({ min: 1, max: 2 }).map((d) => ({ text: `P${d}D`, hours: null, days: d })),
);

export function rule(input: { rrule: string; dtstart: string; duration: string; timeZone: string; exdates?: string[]; until?: string }): SeriesRule {
  const r = checkRule(input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.rule;
}

