// Wall-clock time in an IANA zone, and the one rule for turning it into an instant. Series use it now; events defined
// in players' local time will use the same functions, so a local time means the same instant everywhere in the code.
//
// RFC 5545 (3.3.5, and 3.3.10 for recurrence instances): a local time that does not exist (the spring-forward gap) is
// read with the offset in force before the gap, which moves it forward by the gap's length; a local time that happens
// twice (the fall-back overlap) is the first of the two. That is exactly Temporal's "compatible" disambiguation, so
// the maths is the Temporal polyfill's (the same engine rrule-temporal uses), not ours.
import { Temporal } from "temporal-polyfill";

/**
 * "2026-03-08T02:30" or "2026-03-08T02:30:00": a wall-clock reading with no offset and no zone. Seconds, if given,
 * must be :00: events start on the minute (BYSECOND is refused too), and Temporal would read :60 as :59.
 */
export const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00)?$/;

/** The zone's canonical IANA id, or null when the runtime's tz data does not know it (or it is a bare offset). */
export function canonicalZone(timeZone: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** A valid wall-clock reading, normalized to seconds ("2026-03-08T02:30:00"); null when malformed or impossible (Feb 30). */
export function parseLocal(local: string): string | null {
  if (!LOCAL_DATE_TIME.test(local)) return null;
  try {
    return Temporal.PlainDateTime.from(local, { overflow: "reject" }).toString({ smallestUnit: "second" });
  } catch {
    return null;
  }
}

/** The instant of a wall-clock reading in a zone, per RFC 5545 (gap: forward by the gap; overlap: the first). */
export function toInstant(local: string, timeZone: string): number {
  return Temporal.PlainDateTime.from(local).toZonedDateTime(timeZone, { disambiguation: "compatible" }).epochMilliseconds;
}

/**
 * The instant a wall-clock reading first stops being ahead: its later occurrence in a fall-back overlap, and in a
 * spring-forward gap the transition itself (the first instant whose clock reads past it). For a period that ends at
 * that reading (quiet hours), not for a start: starts follow RFC 5545 through `toInstant`.
 */
export function readingReached(local: string, timeZone: string, after: number): number {
  const pdt = Temporal.PlainDateTime.from(local);
  const first = pdt.toZonedDateTime(timeZone, { disambiguation: "earlier" });
  if (first.toPlainDateTime().equals(pdt)) {
    // The reading exists: its first occurrence, or the second when the first is already behind `after`.
    return first.epochMilliseconds > after ? first.epochMilliseconds : pdt.toZonedDateTime(timeZone, { disambiguation: "later" }).epochMilliseconds;
  }
  // A gap: "earlier" read it with the offset after the gap, before the transition; the clock passes it at the transition.
  return first.getTimeZoneTransition("next")!.epochMilliseconds;
}

/** The wall-clock reading of an instant in a zone, to the second. */
export function toLocal(ms: number, timeZone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).toPlainDateTime().toString({ smallestUnit: "second" });
}

/** The zone's UTC offset at an instant, in minutes (+330 for Asia/Kolkata). */
export function offsetMinutes(ms: number, timeZone: string): number {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds / 60e9;
}

/**
 * A duration an event can last: ISO 8601 weeks, days, hours, minutes, seconds (no years or months, whose length
 * depends on the date). Days and weeks are nominal, as in RFC 5545 3.3.6: P1D ends at the same wall-clock time the
 * next day (23 or 25 hours across a DST change); PT24H is exactly 24 hours.
 */
export type LocalDuration = { text: string; duration: Temporal.Duration };

export function parseDuration(text: string): LocalDuration | null {
  if (!/^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$/.test(text) || text === "P" || text.endsWith("T")) return null;
  try {
    const duration = Temporal.Duration.from(text);
    return duration.sign > 0 ? { text, duration } : null;
  } catch {
    return null;
  }
}

/** A duration's length in nominal days (weeks are 7, hours 1/24): what a cap on an event's length compares. */
export function durationDays(d: LocalDuration): number {
  const x = d.duration;
  return x.weeks * 7 + x.days + (x.hours * 3600 + x.minutes * 60 + x.seconds) / 86400;
}

/** Where a window starting at `startMs` in `timeZone` ends after `d` (nominal days, exact hours). */
export function addDuration(startMs: number, d: LocalDuration, timeZone: string): number {
  return Temporal.Instant.fromEpochMilliseconds(startMs).toZonedDateTimeISO(timeZone).add(d.duration).epochMilliseconds;
}

/** The same wall-clock reading, days later (or earlier): calendar arithmetic, no zone involved. */
export function addLocalDays(local: string, days: number): string {
  return Temporal.PlainDateTime.from(local).add({ days }).toString({ smallestUnit: "second" });
}

/** Wall-clock readings compare as strings once normalized by parseLocal. */
export const compareLocal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
