// What players see of a recurring series on an event that is one of its occurrences: which series, its rule, a
// sentence a client can show as is ("Every Saturday at 10:00 (Europe/London), for 12 h"), and when it comes back.
// Pure: the routes read the link from D1 (db/series.ts publicSeriesLinks, one read per page) and render it here.
import { z } from "zod";
import type { SeriesRule } from "./series";
import { iso } from "./time";

export const PublicSeries = z
  .object({
    seriesId: z.string(),
    rrule: z.string().meta({ description: "The RFC 5545 RRULE that made this occurrence (a series edited 'this and following' has one per stretch), read in timeZone.", example: "FREQ=WEEKLY;BYDAY=SA" }),
    timeZone: z.string().meta({ description: "The IANA zone the rule's local times are in.", example: "Europe/London" }),
    summary: z.string().meta({ description: "The rule in English, ready to show.", example: "Every Saturday at 10:00 (Europe/London), for 12 h" }),
    next: z.iso
      .datetime({ offset: true })
      .nullable()
      .meta({ description: "Start of the series' next occurrence after this one that is already scheduled (within its horizon); null if none." }),
  })
  .nullable()
  .meta({ id: "PublicSeries", description: "Set when the event is an occurrence of a recurring series; null otherwise." });
export type PublicSeries = z.infer<typeof PublicSeries>;

/** What a player's view reads of a rule. */
export type PublicRule = Pick<SeriesRule, "rrule" | "dtstart" | "duration" | "timeZone" | "until">;
/** One rule of a series and the instant it starts at (null: the first), as D1 keeps it for players' views. */
export type RuleSegment = PublicRule & { fromMs: number | null };
export type PublicSeriesLink = { seriesId: string; rule: PublicRule; next: number | null };

/** The rule that made an occurrence: the last segment starting at or before its original start (else the first). */
export function ruleAt(segments: RuleSegment[], originalStart: number): PublicRule {
  let seg = segments[0];
  for (const s of segments) if (s.fromMs === null || s.fromMs <= originalStart) seg = s;
  const { fromMs: _from, ...rule } = seg;
  return rule;
}

export function renderPublicSeries(link: PublicSeriesLink | undefined): PublicSeries {
  if (!link) return null;
  return { seriesId: link.seriesId, rrule: link.rule.rrule, timeZone: link.rule.timeZone, summary: describeRule(link.rule), next: link.next === null ? null : iso(link.next) };
}

const DAYS: Record<string, string> = { MO: "Monday", TU: "Tuesday", WE: "Wednesday", TH: "Thursday", FR: "Friday", SA: "Saturday", SU: "Sunday" };
const ORDINALS: Record<string, string> = { "1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "-1": "last", "-2": "second-to-last" };
const UNITS: Record<string, [string, string]> = { DAILY: ["day", "days"], WEEKLY: ["week", "weeks"], MONTHLY: ["month", "months"], YEARLY: ["year", "years"] };

const list = (xs: string[]) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`);
const pad = (n: number) => String(n).padStart(2, "0");

function day(token: string): string | null {
  const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(token);
  if (!m) return null;
  if (!m[1]) return DAYS[m[2]];
  const ord = ORDINALS[String(Number(m[1]))];
  return ord ? `the ${ord} ${DAYS[m[2]]}` : null;
}

/** "P1DT2H30M" → "1 day 2 h 30 min"; what it cannot read it gives back as is. */
export function describeDuration(duration: string): string {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!m) return duration;
  const [w, d, h, min, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const parts = [w && `${w} ${w === 1 ? "week" : "weeks"}`, d && `${d} ${d === 1 ? "day" : "days"}`, h && `${h} h`, min && `${min} min`, s && `${s} s`].filter(Boolean);
  return parts.length ? parts.join(" ") : duration;
}

/**
 * The rule as a sentence. It covers the shapes live-ops calendars use (every n days/weeks/months/years, on week days,
 * numbered week days or month days, at the rule's hours, with a count or an end); any other part makes it fall back to
 * "Repeats: <RRULE>" rather than say something the rule does not.
 */
export function describeRule(rule: PublicRule): string {
  const parts = new Map(
    rule.rrule
      .replace(/^RRULE:/i, "")
      .split(";")
      .filter(Boolean)
      .map((p) => p.split("=") as [string, string]),
  );
  const freq = parts.get("FREQ") ?? "";
  const unit = UNITS[freq];
  const known = new Set(["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYHOUR", "BYMINUTE", "COUNT", "WKST"]);
  if (!unit || [...parts.keys()].some((k) => !known.has(k))) return `Repeats: ${rule.rrule} (${rule.timeZone})`;
  // Shapes whose plain reading is wrong under RFC 5545 (YEARLY;BYDAY=MO is every Monday, YEARLY;BYMONTHDAY=1 the 1st of
  // every month, MONTHLY;BYDAY=MO every Monday; BYDAY with BYMONTHDAY is their intersection, such as Friday the 13th)
  // or that have no words here (BYMONTHDAY=-2): said as the rule itself.
  const byDay = parts.get("BYDAY")?.split(",");
  const byMonthDay = parts.get("BYMONTHDAY")?.split(",");
  const plainDay = (d: string) => /^(MO|TU|WE|TH|FR|SA|SU)$/.test(d);
  if (
    (freq === "YEARLY" && (byDay || byMonthDay)) ||
    (freq === "MONTHLY" && byDay?.some(plainDay)) ||
    (byDay && byMonthDay) ||
    (byMonthDay && freq !== "MONTHLY") ||
    byMonthDay?.some((d) => !(Number(d) === -1 || (Number(d) >= 1 && Number(d) <= 31)))
  ) {
    return `Repeats: ${rule.rrule} (${rule.timeZone})`;
  }
  const interval = Number(parts.get("INTERVAL") ?? "1");
  let text = interval === 1 ? `Every ${unit[0]}` : `Every ${interval} ${unit[1]}`;
  const days = byDay?.map(day);
  if (days?.some((d) => d === null)) return `Repeats: ${rule.rrule} (${rule.timeZone})`;
  if (days && freq === "WEEKLY" && interval === 1 && days.every((d) => !d!.startsWith("the "))) text = `Every ${list(days as string[])}`;
  else if (days) text += ` on ${list(days as string[])}`;
  if (byMonthDay) text += ` on ${list(byMonthDay.map((d) => (Number(d) === -1 ? "the last day" : `day ${Number(d)}`)))}`;
  const [hh, mm] = rule.dtstart.slice(11, 16).split(":").map(Number);
  const hours = parts.get("BYHOUR")?.split(",").map(Number) ?? [hh];
  const minutes = parts.get("BYMINUTE")?.split(",").map(Number) ?? [mm];
  text += ` at ${list(hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`)))} (${rule.timeZone}), for ${describeDuration(rule.duration)}`;
  const count = parts.get("COUNT");
  if (count) text += `, ${count} ${count === "1" ? "time" : "times"} from ${rule.dtstart.slice(0, 10)}`;
  if (rule.until) text += `, until ${rule.until.slice(0, 10)}`;
  return text;
}
