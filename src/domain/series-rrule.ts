// An RRULE value checked on its own (RFC 5545 3.3.10): its parts, their ranges, and what a series allows (at least
// daily, a few starts a day, no UNTIL or BYSECOND). series.ts re-exports it and checks the rule with its dtstart and zone.
import { RRuleTemporal } from "rrule-temporal";
import { Temporal } from "temporal-polyfill";

export const SERIES_FREQS = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"] as const;
/** Starts a day one rule may give (BYHOUR × BYMINUTE): a year of them stays under MAX_OCCURRENCES. */
export const MAX_SLOTS_PER_DAY = 4;

/** Parses and checks an RRULE value; returns it normalized (no "RRULE:" prefix, upper case) or the problems. */
export function checkRrule(rrule: string): { ok: true; rrule: string } | { ok: false; message: string } {
  const text = rrule.trim().replace(/^RRULE:/i, "").toUpperCase();
  const parts = text.split(";").filter((p) => p !== "");
  const keys = new Map<string, string>();
  for (const p of parts) {
    const m = /^([A-Z]+)=([A-Z0-9,+\-]+)$/.exec(p);
    if (!m) return { ok: false, message: `"${p.slice(0, 40)}" is not a NAME=VALUE rule part` };
    if (keys.has(m[1])) return { ok: false, message: `${m[1]} appears twice` };
    keys.set(m[1], m[2]);
  }
  const freq = keys.get("FREQ");
  if (!freq) return { ok: false, message: "must have a FREQ" };
  if (!(SERIES_FREQS as readonly string[]).includes(freq)) return { ok: false, message: `FREQ must be one of ${SERIES_FREQS.join(", ")} (events last hours; got ${freq})` };
  if (keys.has("UNTIL")) return { ok: false, message: "must not carry UNTIL: send it as the until field, a local date-time in timeZone" };
  if (keys.has("BYSECOND")) return { ok: false, message: "must not carry BYSECOND (events start on the minute)" };
  const unknown = [...keys.keys()].find((k) => !(k in PART_RANGES) && k !== "FREQ" && k !== "BYDAY" && k !== "WKST");
  if (unknown) return { ok: false, message: `has an unknown part ${unknown}` };
  for (const [part, [min, max, signed]] of Object.entries(PART_RANGES)) {
    const value = keys.get(part);
    if (value === undefined) continue;
    for (const v of value.split(",")) {
      const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
      const ok = Number.isInteger(n) && (signed ? n !== 0 && Math.abs(n) >= min && Math.abs(n) <= max : !/^[+-]/.test(v) && n >= min && n <= max);
      if (!ok) return { ok: false, message: `${part}=${value.slice(0, 40)}: each value must be ${signed ? `±${min}…${max}, not 0` : `${min}…${max}`}` };
    }
  }
  for (const d of keys.get("BYDAY")?.split(",") ?? []) {
    const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(d);
    if (!m) return { ok: false, message: `BYDAY value "${d.slice(0, 12)}" is not a weekday (MO…SU, optionally numbered)` };
    // RFC 5545: a numbered weekday (+1MO, -1FR) only means something within a month or a year.
    if (m[1] !== undefined && freq !== "MONTHLY" && freq !== "YEARLY") return { ok: false, message: `BYDAY=${d} (a numbered weekday) needs FREQ=MONTHLY or YEARLY` };
    if (m[1] !== undefined && (Number(m[1]) === 0 || Math.abs(Number(m[1])) > 53)) return { ok: false, message: `BYDAY=${d}: the number must be ±1…53` };
  }
  if (keys.has("WKST") && !/^(MO|TU|WE|TH|FR|SA|SU)$/.test(keys.get("WKST")!)) return { ok: false, message: "WKST must be a weekday (MO…SU)" };
  const slots = (keys.get("BYHOUR")?.split(",").length ?? 1) * (keys.get("BYMINUTE")?.split(",").length ?? 1);
  if (slots > MAX_SLOTS_PER_DAY) return { ok: false, message: `BYHOUR × BYMINUTE may give at most ${MAX_SLOTS_PER_DAY} starts a day (got ${slots})` };
  try {
    const rule = new RRuleTemporal({ rruleString: text, dtstart: Temporal.ZonedDateTime.from("2026-01-01T00:00:00[UTC]") });
    rule.between(new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2027, 0, 1)), true);
  } catch (err) {
    return { ok: false, message: `is not a valid RRULE: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { ok: true, rrule: text };
}

/** Each numeric rule part's range (RFC 5545 3.3.10): [min, max, signed], where signed means ±min…max and never 0. */
const PART_RANGES: Record<string, [number, number, boolean]> = {
  COUNT: [1, 100_000, false],
  INTERVAL: [1, 1000, false],
  BYMINUTE: [0, 59, false],
  BYHOUR: [0, 23, false],
  BYMONTHDAY: [1, 31, true],
  BYYEARDAY: [1, 366, true],
  BYWEEKNO: [1, 53, true],
  BYMONTH: [1, 12, false],
  BYSETPOS: [1, 366, true],
};
