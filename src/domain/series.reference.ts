// A small, slow reference model for the property tests of series.ts and zoned.ts: no Temporal, no RRULE library,
// only Intl and brute force. It covers the rules the properties generate (DAILY and WEEKLY;BYDAY with INTERVAL;
// MONTHLY;BYMONTHDAY; several starts a day by BYHOUR; COUNT, exdates and until).
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time";

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock at an instant, as if it were UTC (epoch ms of the reading). */
export function refWall(ms: number, timeZone: string): number {
  const p = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
}

/** The zone's offset at an instant, in ms. */
export const refOffset = (ms: number, timeZone: string) => refWall(ms, timeZone) - Math.floor(ms / 1000) * 1000;

/**
 * RFC 5545 by brute force: try every offset a zone can have (-14 h … +14 h in 15-minute steps) and keep the instants
 * whose wall clock reads `wall`; several → the first; none (a gap) → read it with the offset in force before the gap.
 */
export function refInstant(wall: number, timeZone: string): number {
  const hits: number[] = [];
  for (let o = -14 * HOUR_MS; o <= 14 * HOUR_MS; o += 15 * MINUTE_MS) if (refWall(wall - o, timeZone) === wall) hits.push(wall - o);
  if (hits.length) return Math.min(...hits);
  return wall - refOffset(wall - DAY_MS, timeZone);
}

export const wallOf = (local: string) => Date.parse(`${local}Z`);
export const localOfWall = (wall: number) => new Date(wall).toISOString().slice(0, 19);

export type RefRule = {
  freq: "DAILY" | "WEEKLY" | "MONTHLY";
  interval: number;
  byday: number[] /** 0 = Monday */;
  monthdays?: number[];
  /** BYHOUR: starts at these hours (at dtstart's minute) instead of dtstart's time of day. */
  hours?: number[];
  count?: number;
  exdates?: string[];
  until?: string;
};

/** Walks local days from dtstart; each matching day's readings → instants; first wins on a shared instant. */
export function refExpand(rule: RefRule, dtstart: string, timeZone: string, durationHours: number | null, durationDays: number | null, fromMs: number, toMs: number) {
  const start = wallOf(dtstart);
  const day0 = Math.floor(start / DAY_MS);
  const timeOfDay = start - day0 * DAY_MS;
  const times = rule.hours ? [...rule.hours].sort((a, b) => a - b).map((h) => h * HOUR_MS + (timeOfDay % HOUR_MS)) : [timeOfDay];
  const weekday0 = (day0 + 3) % 7; // 1970-01-01 was a Thursday (3 with Monday = 0)
  const monday0 = day0 - weekday0;
  const d0 = new Date(day0 * DAY_MS);
  const out: { key: string; start: number; end: number }[] = [];
  const seen = new Set<number>();
  let counted = 0;
  for (let day = day0; (day - 2) * DAY_MS < toMs + DAY_MS; day++) {
    const weekday = (day + 3) % 7;
    const d = new Date(day * DAY_MS);
    const months = (d.getUTCFullYear() - d0.getUTCFullYear()) * 12 + d.getUTCMonth() - d0.getUTCMonth();
    const ok =
      rule.freq === "DAILY"
        ? (day - day0) % rule.interval === 0
        : rule.freq === "WEEKLY"
          ? rule.byday.includes(weekday) && Math.floor((day - monday0) / 7) % rule.interval === 0
          : (rule.monthdays ?? []).includes(d.getUTCDate()) && months % rule.interval === 0;
    if (!ok) continue;
    for (const t of times) {
      const wall = day * DAY_MS + t;
      if (wall < start) continue;
      // COUNT counts the rule's readings, before exdates and until (RFC 5545).
      if (rule.count !== undefined && ++counted > rule.count) return out;
      const key = localOfWall(wall);
      if (rule.exdates?.includes(key) || (rule.until !== undefined && key > rule.until)) continue;
      const at = refInstant(wall, timeZone);
      if (at < fromMs || at >= toMs || seen.has(at)) continue;
      seen.add(at);
      const end = durationHours !== null ? at + durationHours * HOUR_MS : refInstant(refWall(at, timeZone) + (durationDays ?? 0) * DAY_MS, timeZone);
      out.push({ key, start: at, end });
    }
  }
  return out;
}
