import { describe, it, expect } from "vitest";
import ICAL from "ical.js";
import { MAX_RANGE_DAYS, calendarDays, conflictsByDay, renderIcs, escapeText, foldLine, resolveRange, type CalendarEntry, type IcsEntry } from "./calendar";
import { DAY_MS as D, HOUR_MS as H } from "./time";

const T0 = Date.UTC(2026, 11, 1); // 2026-12-01 00:00 UTC
const at = (hours: number) => T0 + hours * H;

function entry(partial: Partial<CalendarEntry> & { eventId: string; start: number; end: number }): CalendarEntry {
  return { type: "seasonal", tier: "standard", state: "scheduled", ...partial };
}

describe("calendarDays", () => {
  it("returns one item per UTC day intersecting [from, to), in order", () => {
    const days = calendarDays([], at(5), at(5 + 2 * 24));
    expect(days.map((d) => d.date)).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
    expect(days.every((d) => d.eventCount === 0 && d.peakConcurrency === 0 && d.eventIds.length === 0)).toBe(true);
  });

  it("does not include a day that `to` only touches at midnight", () => {
    expect(calendarDays([], T0, T0 + 2 * D).map((d) => d.date)).toEqual(["2026-12-01", "2026-12-02"]);
    expect(calendarDays([], T0, T0 + 2 * D + 1).map((d) => d.date)).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
  });

  it("returns nothing for an empty or inverted range", () => {
    expect(calendarDays([entry({ eventId: "a", start: at(0), end: at(1) })], T0, T0)).toEqual([]);
    expect(calendarDays([], T0 + D, T0)).toEqual([]);
  });

  it("lists a multi-day event on every day it touches, and not on the day it ends at midnight", () => {
    const days = calendarDays([entry({ eventId: "multi", start: at(20), end: at(48) })], T0, T0 + 3 * D);
    expect(days.map((d) => d.eventIds)).toEqual([["multi"], ["multi"], []]);
    expect(days.map((d) => d.peakConcurrency)).toEqual([1, 1, 0]);
  });

  it("clips days to [from, to): an event outside the range on the same day is not listed", () => {
    const entries = [entry({ eventId: "early", start: at(1), end: at(3) }), entry({ eventId: "late", start: at(10), end: at(12) })];
    const [day] = calendarDays(entries, at(6), at(18));
    expect(day).toEqual({ date: "2026-12-01", eventIds: ["late"], eventCount: 1, peakConcurrency: 1 });
  });

  it("distinguishes peak concurrency from the count of events on the day", () => {
    // Three events on the day, but they run one after another (touching windows do not overlap).
    const sequential = [
      entry({ eventId: "a", start: at(0), end: at(8) }),
      entry({ eventId: "b", start: at(8), end: at(16) }),
      entry({ eventId: "c", start: at(16), end: at(24) }),
    ];
    expect(calendarDays(sequential, T0, T0 + D)[0]).toMatchObject({ eventCount: 3, peakConcurrency: 1 });

    const stacked = [...sequential, entry({ eventId: "d", start: at(4), end: at(12) }), entry({ eventId: "e", start: at(6), end: at(7) })];
    expect(calendarDays(stacked, T0, T0 + D)[0]).toMatchObject({ eventCount: 5, peakConcurrency: 3 });
  });

  it("measures peak within the day only", () => {
    // Both run on 12-01 and 12-02, but only overlap on 12-02.
    const entries = [entry({ eventId: "a", start: at(10), end: at(40) }), entry({ eventId: "b", start: at(30), end: at(50) })];
    const days = calendarDays(entries, T0, T0 + 3 * D);
    expect(days.map((d) => [d.eventCount, d.peakConcurrency])).toEqual([[1, 1], [2, 2], [1, 1]]);
  });

  it("lists mini/daily events but leaves them out of peak concurrency", () => {
    const entries = [
      entry({ eventId: "std", start: at(0), end: at(24) }),
      entry({ eventId: "mini", tier: "mini", start: at(0), end: at(24) }),
      entry({ eventId: "daily", tier: "daily", start: at(0), end: at(24) }),
      entry({ eventId: "major", tier: "major", start: at(0), end: at(24) }),
    ];
    const [day] = calendarDays(entries, T0, T0 + D);
    expect(day.eventIds.sort()).toEqual(["daily", "major", "mini", "std"]);
    expect(day.eventCount).toBe(4);
    expect(day.peakConcurrency).toBe(2);
  });

  it("lists events in non-counting states but leaves them out of peak concurrency, as the scheduler does", () => {
    const states = ["scheduled", "active", "paused", "cancelled", "expired", "archived", "failed_activation"] as const;
    const entries = states.map((state) => entry({ eventId: state, state, start: at(0), end: at(24) }));
    const [day] = calendarDays(entries, T0, T0 + D);
    expect(day.eventCount).toBe(7);
    // scheduled, active, paused and failed_activation hold a slot (ops may retry the last).
    expect(day.peakConcurrency).toBe(4);
  });

  it("orders a day's events by start, then id", () => {
    const entries = [
      entry({ eventId: "b", start: at(5), end: at(6) }),
      entry({ eventId: "z", start: at(1), end: at(2) }),
      entry({ eventId: "a", start: at(5), end: at(6) }),
    ];
    expect(calendarDays(entries, T0, T0 + D)[0].eventIds).toEqual(["z", "a", "b"]);
  });
});

describe("conflictsByDay", () => {
  const limits = { maxConcurrent: 4, maxConcurrentSameType: 2, majorGapMs: 48 * H };

  it("lists a rule broken by events already on the schedule once, on each day its window touches", () => {
    const three = ["a", "b", "c"].map((id) => entry({ eventId: id, name: id.toUpperCase(), start: at(10), end: at(12 + 24) }));
    const days = conflictsByDay([...three, entry({ eventId: "m", tier: "mini", start: at(0), end: at(48) })], T0, T0 + 3 * D, limits);
    expect([...days.keys()]).toEqual(["2026-12-01", "2026-12-02"]);
    const [only] = days.get("2026-12-01")!;
    expect(days.get("2026-12-01")).toHaveLength(1);
    expect(only).toMatchObject({ rule: "max_concurrent_same_type", eventIds: ["a", "b", "c"] });
    expect(only.message).toMatch(/^A: Between .* this event would be the 3rd concurrent seasonal event \(limit 2 per type\), alongside B and C/);
  });

  it("marks only the days a concurrency limit is broken on, not the quiet days inside an 'At times' window", () => {
    // A 30-day seasonal event; two short same-type events on day 5 and day 25 each make three of a kind.
    const long = entry({ eventId: "s", name: "Season", start: at(0), end: at(30 * 24) });
    const early = ["e1", "e2"].map((id) => entry({ eventId: id, start: at(4 * 24 + 1), end: at(4 * 24 + 3) }));
    const late = ["l1", "l2"].map((id) => entry({ eventId: id, start: at(24 * 24 + 1), end: at(24 * 24 + 3) }));
    const days = conflictsByDay([long, ...early, ...late], T0, T0 + 31 * D, limits);
    expect([...days.keys()].sort()).toEqual(["2026-12-05", "2026-12-25"]);
  });

  it("finds the gap to a major outside the range, and ignores cancelled, exempt and ended-but-not-major events", () => {
    const inside = entry({ eventId: "w1", name: "Winter", tier: "major", start: at(0), end: at(24) });
    const outside = entry({ eventId: "w2", name: "Spring", tier: "major", start: at(48), end: at(72) });
    // The range ends before Spring starts; the 24 h between them (Dec 2) is in it.
    const days = conflictsByDay([inside, outside], T0, T0 + 2 * D, limits);
    expect([...days.keys()]).toEqual(["2026-12-02"]);
    expect(days.get("2026-12-02")![0]).toMatchObject({ rule: "major_gap", eventIds: ["w1", "w2"] });
    expect(days.get("2026-12-02")![0].message).toMatch(/^Winter: Only 24 h would separate .*major events need at least 48 h between them/);
    // Back to back: a window of no length, on the day of the hand-over.
    expect([...conflictsByDay([inside, { ...outside, start: at(24) }], T0, T0 + 3 * D, limits).keys()]).toEqual(["2026-12-02"]);
    const quiet = [
      ...["a", "b"].map((id) => entry({ eventId: id, start: at(1), end: at(2) })),
      entry({ eventId: "x", state: "cancelled", start: at(1), end: at(2) }),
      entry({ eventId: "d", tier: "daily", start: at(1), end: at(2) }),
    ];
    expect(conflictsByDay(quiet, T0, T0 + D, limits).size).toBe(0);
  });
});

describe("escapeText and foldLine", () => {
  it("escapes backslash, semicolon, comma and every newline form", () => {
    expect(escapeText("a\\b;c,d\ne\r\nf\rg")).toBe("a\\\\b\\;c\\,d\\ne\\nf\\ng");
  });

  it("drops control characters that TEXT forbids but keeps tabs", () => {
    expect(escapeText("a\u0000b\u0007c\td\u007f")).toBe("abc\td");
  });

  it("folds at 75 octets with a leading space, never splitting a multibyte character", () => {
    const line = "SUMMARY:" + "é".repeat(100) + "😀".repeat(30);
    const folded = foldLine(line);
    const physical = folded.split("\r\n");
    expect(physical.length).toBeGreaterThan(1);
    for (const [i, l] of physical.entries()) {
      expect(new TextEncoder().encode(l).length).toBeLessThanOrEqual(75);
      if (i > 0) expect(l.startsWith(" ")).toBe(true);
      expect(l).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate at a break
    }
    expect(physical.map((l, i) => (i === 0 ? l : l.slice(1))).join("")).toBe(line);
  });

  it("leaves a line of exactly 75 octets alone", () => {
    const line = "X".repeat(75);
    expect(foldLine(line)).toBe(line);
    expect(foldLine(line + "Y")).toBe(`${line}\r\n Y`);
  });
});

describe("renderIcs", () => {
  const updated = Date.UTC(2026, 10, 20, 9, 30, 15);
  const nastyName = "Winter Fest; Part 2, \"Frost\"\nNew line \\ backslash";
  const longName = "Праздник зимы — 冬祭り 🎄 ".repeat(8).trim();
  const ics$ = (e: CalendarEntry, revision = 1, updatedAt = updated): IcsEntry => ({ ...e, revision, updatedAt });
  const entries: IcsEntry[] = [
    ics$(entry({ eventId: "ev-1", name: nastyName, type: "seasonal", tier: "major", state: "active", start: at(0), end: at(72) }), 4),
    ics$(entry({ eventId: "ev-2", name: longName, type: "gacha", tier: "mini", state: "cancelled", start: at(24), end: at(30) }), 2, updated + 1500),
    ics$(entry({ eventId: "ev-3", type: "competitive", tier: "daily", state: "failed_activation", start: at(48), end: at(49) })),
  ];
  const ics = renderIcs(entries, { calendarName: "Live Events, prod; EU", domain: "events.example.com" });

  const parse = () => {
    const cal = new ICAL.Component(ICAL.parse(ics));
    return { cal, vevents: cal.getAllSubcomponents("vevent") };
  };

  it("uses CRLF line endings only, with 75-octet folded lines", () => {
    expect(ics.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(ics.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    for (const line of ics.split("\r\n")) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
    expect(ics.split("\r\n").some((l) => l.startsWith(" "))).toBe(true); // the long name really was folded
  });

  it("parses with ical.js as a VCALENDAR with the required calendar properties", () => {
    const { cal } = parse();
    expect(cal.name).toBe("vcalendar");
    expect(cal.getFirstPropertyValue("version")).toBe("2.0");
    expect(cal.getFirstPropertyValue("prodid")).toBe("-//events.example.com//Live Events//EN");
    expect(cal.getFirstPropertyValue("calscale")).toBe("GREGORIAN");
    expect(cal.getFirstPropertyValue("method")).toBe("PUBLISH");
    // ical.js does not know X-WR-CALNAME's value type, so it hands back the TEXT-escaped form unchanged.
    expect(cal.getFirstPropertyValue("x-wr-calname")).toBe("Live Events\\, prod\\; EU");
  });

  it("round-trips uid, summary (escaped and folded), UTC start/end and status", () => {
    const { vevents } = parse();
    expect(vevents).toHaveLength(3);
    const events = vevents.map((v) => new ICAL.Event(v));

    expect(events.map((e) => e.uid)).toEqual(["ev-1@events.example.com", "ev-2@events.example.com", "ev-3@events.example.com"]);
    expect(events.map((e) => e.summary)).toEqual([nastyName, longName, "ev-3"]);
    expect(vevents.map((v) => v.getFirstPropertyValue("status"))).toEqual(["CONFIRMED", "CANCELLED", "TENTATIVE"]);

    for (const [i, e] of events.entries()) {
      expect(e.startDate.zone.tzid).toBe("UTC");
      expect(e.endDate.zone.tzid).toBe("UTC");
      expect(e.startDate.toJSDate().getTime()).toBe(entries[i].start);
      expect(e.endDate.toJSDate().getTime()).toBe(entries[i].end);
    }
  });

  it("stamps each event with its own last change, so an unchanged feed renders the same every time", () => {
    expect(ics).toContain("\r\nDTSTAMP:20261120T093015Z\r\nLAST-MODIFIED:20261120T093015Z\r\nSEQUENCE:3\r\n");
    expect(ics).toContain("\r\nDTSTART:20261201T000000Z\r\n");
    expect(ics).toContain("\r\nDTEND:20261204T000000Z\r\n");
    const { vevents } = parse();
    const time = (v: (typeof vevents)[number], p: string) => (v.getFirstPropertyValue(p) as InstanceType<typeof ICAL.Time>).toJSDate().getTime();
    expect(vevents.map((v) => time(v, "dtstamp"))).toEqual([updated, updated + 1000, updated]);
    expect(vevents.map((v) => time(v, "last-modified"))).toEqual([updated, updated + 1000, updated]);
    expect(vevents.map((v) => v.getFirstPropertyValue("sequence"))).toEqual([3, 1, 0]);
    expect(renderIcs(entries, { calendarName: "Live Events, prod; EU", domain: "events.example.com" })).toBe(ics);
  });

  it("describes type, tier and state, and lists type and tier as categories", () => {
    const { vevents } = parse();
    expect(vevents[0].getFirstPropertyValue("description")).toBe("Type: seasonal\nTier: major\nState: active");
    expect(vevents[2].getFirstPropertyValue("description")).toBe("Type: competitive\nTier: daily\nState: failed_activation");
    expect(vevents[1].getFirstProperty("categories")!.getValues()).toEqual(["gacha", "mini"]);
  });

  it("renders an empty but valid calendar when there are no events", () => {
    const empty = renderIcs([], { calendarName: "Empty", domain: "x.test" });
    const cal = new ICAL.Component(ICAL.parse(empty));
    expect(cal.getAllSubcomponents("vevent")).toHaveLength(0);
    expect(cal.getFirstPropertyValue("x-wr-calname")).toBe("Empty");
  });
});

describe("resolveRange", () => {
  const isoAt = (ms: number) => new Date(ms).toISOString();

  it("defaults to 30 days from the start of today (UTC)", () => {
    expect(resolveRange({}, at(13) + 1234)).toEqual({ ok: true, from: T0, to: T0 + 30 * D });
  });

  it("takes from and to as given, and a missing end as 30 days after the given start", () => {
    expect(resolveRange({ from: isoAt(at(5)), to: isoAt(at(7)) }, 0)).toEqual({ ok: true, from: at(5), to: at(7) });
    expect(resolveRange({ from: isoAt(at(5)) }, 0)).toEqual({ ok: true, from: at(5), to: at(5) + 30 * D });
  });

  it("refuses an empty or inverted range with a problem on `to`", () => {
    for (const to of [at(5), at(4)]) {
      expect(resolveRange({ from: isoAt(at(5)), to: isoAt(to) }, 0)).toEqual({ ok: false, problems: [{ path: ["to"], message: "must be after from" }] });
    }
  });

  it("allows exactly the maximum span and refuses 1 ms more", () => {
    expect(resolveRange({ from: isoAt(T0), to: isoAt(T0 + MAX_RANGE_DAYS * D) }, 0).ok).toBe(true);
    const tooLong = resolveRange({ from: isoAt(T0), to: isoAt(T0 + MAX_RANGE_DAYS * D + 1) }, 0);
    expect(tooLong).toEqual({ ok: false, problems: [{ path: ["to"], message: `must be at most ${MAX_RANGE_DAYS} days after from` }] });
  });

  it("names an unreadable instant instead of returning NaN", () => {
    expect(resolveRange({ from: "not a date" }, T0)).toEqual({
      ok: false,
      problems: [
        { path: ["from"], message: "is not a valid date-time" },
        { path: ["to"], message: "is not a valid date-time" },
      ],
    });
  });
});
