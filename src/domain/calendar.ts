// The seed's GenerateCalendar / FilterEvents: a per-day view for the ops dashboard and an iCalendar feed
// so the schedule can be subscribed to from any calendar app.
import type { EventState } from "./model";
import { SCHEDULE_COUNTING_STATES, countsTowardConcurrency, detectConflicts, overlaps, type ConflictRule, type ScheduleLimits, type ScheduleWindow } from "./scheduling";
import { DAY_MS, compareStrings, iso } from "./time";

export type CalendarEntry = ScheduleWindow & { state: EventState };
export type CalendarDay = { date: string; eventIds: string[]; eventCount: number; peakConcurrency: number };

/** A calendar view may span at most this many days, so one request cannot walk the whole table. */
export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;

export type RangeProblem = { path: (string | number)[]; message: string };

/**
 * [from, to) of a calendar view from its query; defaults to the next 30 days from the start of today (UTC).
 * Problems come back as data; the route decides they are a 400.
 */
export function resolveRange(
  q: { from?: string; to?: string },
  now: number,
): { ok: true; from: number; to: number } | { ok: false; problems: RangeProblem[] } {
  const from = q.from ? Date.parse(q.from) : floorToUtcDay(now);
  const to = q.to ? Date.parse(q.to) : from + DEFAULT_RANGE_DAYS * DAY_MS;
  const problems: RangeProblem[] = [];
  if (!Number.isFinite(from)) problems.push({ path: ["from"], message: "is not a valid date-time" });
  if (!Number.isFinite(to)) problems.push({ path: ["to"], message: "is not a valid date-time" });
  else if (to <= from) problems.push({ path: ["to"], message: "must be after from" });
  else if (to - from > MAX_RANGE_DAYS * DAY_MS) problems.push({ path: ["to"], message: `must be at most ${MAX_RANGE_DAYS} days after from` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, from, to };
}

/** The calendar's peak counts exactly what the scheduler counts, so ops never see room the rules would refuse. */
function countsForPeak(entry: CalendarEntry): boolean {
  return countsTowardConcurrency(entry.tier) && SCHEDULE_COUNTING_STATES.includes(entry.state);
}

/** One item per UTC day touching [from, to); days are clipped to the range so the edges report only what is asked. */
export function calendarDays(entries: CalendarEntry[], from: number, to: number): CalendarDay[] {
  const days: CalendarDay[] = [];
  if (!(to > from)) return days;
  const ordered = [...entries].sort((a, b) => a.start - b.start || compareStrings(a.eventId, b.eventId));
  for (let dayStart = floorToUtcDay(from); dayStart < to; dayStart += DAY_MS) {
    const span = { start: Math.max(dayStart, from), end: Math.min(dayStart + DAY_MS, to) };
    const onDay = ordered.filter((e) => overlaps(e, span));
    days.push({
      date: iso(dayStart).slice(0, 10),
      eventIds: onDay.map((e) => e.eventId),
      eventCount: onDay.length,
      peakConcurrency: peakConcurrency(onDay.filter(countsForPeak), span),
    });
  }
  return days;
}

export type DayConflict = { rule: ConflictRule; eventIds: string[]; message: string };

/**
 * The rules each day's schedule breaks (a forced schedule, or limits lowered since), found as the scheduler finds them:
 * every event that holds a window checked against all the others (detectConflicts). A conflict is listed on each day its
 * window touches, once however many of its events find it, in the words of the first (by start) that does. `entries`
 * must be unfiltered and reach the major gap beyond [from, to), or a gap to an event just outside is missed.
 */
export function conflictsByDay(entries: CalendarEntry[], from: number, to: number, limits: ScheduleLimits): Map<string, DayConflict[]> {
  const byDay = new Map<string, DayConflict[]>();
  const seen = new Set<string>();
  const ordered = [...entries].sort((a, b) => a.start - b.start || compareStrings(a.eventId, b.eventId));
  for (const e of ordered) {
    if (!SCHEDULE_COUNTING_STATES.includes(e.state)) continue;
    for (const c of detectConflicts(e, ordered, limits)) {
      const eventIds = [e.eventId, ...c.conflictingEventIds].sort(compareStrings);
      const key = `${c.rule} ${eventIds.join(" ")}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const item = { rule: c.rule, eventIds, message: `${e.name ?? e.eventId}: ${c.message}` };
      const start = Date.parse(c.window.from);
      // Two majors back to back break the gap rule in a window of no length: it belongs to the day of that instant.
      const end = Math.max(Date.parse(c.window.to), start + 1);
      // A concurrency window may span stretches within the limit ("At times between…"): a day is marked only if the
      // limit is broken on it, by the events of this conflict.
      const involved = c.rule === "major_gap" ? [] : ordered.filter((x) => eventIds.includes(x.eventId));
      const limit = c.rule === "max_concurrent" ? limits.maxConcurrent : limits.maxConcurrentSameType;
      for (let day = floorToUtcDay(Math.max(start, from)); day < Math.min(end, to); day += DAY_MS) {
        if (c.rule !== "major_gap" && peakConcurrency(involved, { start: Math.max(day, start), end: Math.min(day + DAY_MS, end) }) <= limit) continue;
        const date = iso(day).slice(0, 10);
        byDay.set(date, [...(byDay.get(date) ?? []), item]);
      }
    }
  }
  return byDay;
}

function floorToUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * Maximum number running at one instant. Ends sort before starts at the same instant because windows are
 * half-open: a hand-over at midnight is one event at a time, not two.
 */
function peakConcurrency(entries: CalendarEntry[], span: { start: number; end: number }): number {
  const edges: Array<[time: number, delta: number]> = [];
  for (const e of entries) {
    edges.push([Math.max(e.start, span.start), 1], [Math.min(e.end, span.end), -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    running += delta;
    peak = Math.max(peak, running);
  }
  return peak;
}

// ---- iCalendar (RFC 5545) ----

const CRLF = "\r\n";
const MAX_LINE_OCTETS = 75;

const STATUS: Partial<Record<EventState, string>> = { cancelled: "CANCELLED", failed_activation: "TENTATIVE" };

/**
 * An event as the feed shows it. `revision` and `updatedAt` are the event's own (the record keeps both), so two
 * fetches of an unchanged event render byte for byte the same, and a changed one says it changed.
 */
export type IcsEntry = CalendarEntry & { revision: number; updatedAt: number; series?: IcsSeriesLink };

/**
 * An event that is an occurrence of a recurring series is shown as a materialized instance of the series: the series'
 * UID, RECURRENCE-ID at the occurrence's original start (in UTC, so no VTIMEZONE is needed), and a SEQUENCE and
 * LAST-MODIFIED that move when either the series or the event changes.
 */
export type IcsSeriesLink = { seriesId: string; recurrenceId: number; sequence: number; updatedAt: number };

/**
 * `domain` names the deployment, not the request: UIDs must not change with the hostname a feed was fetched
 * through, or a calendar subscribed via two hostnames shows every event twice.
 */
export function renderIcs(entries: IcsEntry[], opts: { calendarName: string; domain: string }): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    `PRODID:-//${escapeText(opts.domain)}//Live Events//EN`,
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(opts.calendarName)}`,
    ...entries.flatMap((e) => veventLines(e, opts)),
    "END:VCALENDAR",
  ];
  return lines.map((l) => foldLine(l) + CRLF).join("");
}

function veventLines(e: IcsEntry, opts: { domain: string }): string[] {
  const updatedAt = Math.max(e.updatedAt, e.series?.updatedAt ?? 0);
  // Revisions start at 1 and grow with every change of the event (a reschedule among them); SEQUENCE starts at 0.
  // A series' own sequence grows with each of its edits; the sum grows whenever either changes.
  const sequence = Math.max(0, e.revision - 1) + (e.series?.sequence ?? 0);
  return [
    "BEGIN:VEVENT",
    `UID:${escapeText(`${e.series ? e.series.seriesId : e.eventId}@${opts.domain}`)}`,
    ...(e.series ? [`RECURRENCE-ID:${icsUtc(e.series.recurrenceId)}`, `X-LIVE-EVENT-ID:${escapeText(e.eventId)}`] : []),
    // DTSTAMP is when this version of the event was made, not when the feed was fetched: a fetch-time stamp makes
    // every poll look like an update to clients that compare it.
    `DTSTAMP:${icsUtc(updatedAt)}`,
    `LAST-MODIFIED:${icsUtc(updatedAt)}`,
    `SEQUENCE:${sequence}`,
    `DTSTART:${icsUtc(e.start)}`,
    `DTEND:${icsUtc(e.end)}`,
    `SUMMARY:${escapeText(e.name ?? e.eventId)}`,
    `DESCRIPTION:${escapeText(`Type: ${e.type}\nTier: ${e.tier}\nState: ${e.state}`)}`,
    // CATEGORIES is a list: the comma separates values, so each value is escaped on its own.
    `CATEGORIES:${[e.type, e.tier].map(escapeText).join(",")}`,
    `STATUS:${STATUS[e.state] ?? "CONFIRMED"}`,
    "END:VEVENT",
  ];
}

/** 20261201T000000Z. iCalendar DATE-TIME has whole seconds, so sub-second precision is dropped. */
function icsUtc(ms: number): string {
  return iso(ms).slice(0, 19).replace(/[-:]/g, "") + "Z";
}

/**
 * TEXT value escaping (RFC 5545 §3.3.11). Control characters other than tab are not allowed in TEXT at all,
 * so they are dropped rather than letting one stray byte make the whole feed unparseable.
 */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\r\n|\r|\n/g, "\\n")
    .replace(/[\u0000-\u0008\u000A-\u001F\u007F]/g, "");
}

/**
 * Folds to at most 75 octets per physical line (§3.1). Counting is by UTF-8 octets but splitting is by code
 * point, so a multibyte character (or surrogate pair) is never cut in half.
 */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = "";
  let octets = 0;
  for (const char of line) {
    const size = utf8Length(char);
    if (octets + size > MAX_LINE_OCTETS) {
      out.push(current);
      // The leading space of a continuation line counts toward its 75 octets.
      current = " ";
      octets = 1;
    }
    current += char;
    octets += size;
  }
  out.push(current);
  return out.join(CRLF);
}

function utf8Length(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}
