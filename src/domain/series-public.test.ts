import { describe, expect, it } from "vitest";
import type { SeriesRule } from "./series";
import { describeDuration, describeRule, renderPublicSeries, ruleAt } from "./series-public";

const rule = (rrule: string, more: Partial<SeriesRule> = {}): SeriesRule => ({ rrule, dtstart: "2027-03-06T10:00:00", duration: "PT12H", timeZone: "Europe/London", exdates: [], until: null, ...more });

describe("describeRule", () => {
  it("says the common shapes in plain words", () => {
    expect(describeRule(rule("FREQ=WEEKLY;BYDAY=SA"))).toBe("Every Saturday at 10:00 (Europe/London), for 12 h");
    expect(describeRule(rule("FREQ=WEEKLY;BYDAY=SA,SU"))).toBe("Every Saturday and Sunday at 10:00 (Europe/London), for 12 h");
    expect(describeRule(rule("FREQ=DAILY", { duration: "PT2H30M", timeZone: "UTC" }))).toBe("Every day at 10:00 (UTC), for 2 h 30 min");
    expect(describeRule(rule("FREQ=DAILY;INTERVAL=2;COUNT=5"))).toBe("Every 2 days at 10:00 (Europe/London), for 12 h, 5 times from 2027-03-06");
    expect(describeRule(rule("FREQ=MONTHLY;BYDAY=+1MO", { duration: "P3D" }))).toBe("Every month on the first Monday at 10:00 (Europe/London), for 3 days");
    expect(describeRule(rule("FREQ=MONTHLY;BYMONTHDAY=1,-1"))).toBe("Every month on day 1 and the last day at 10:00 (Europe/London), for 12 h");
    expect(describeRule(rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", { until: "2027-06-01T00:00:00" }))).toBe("Every 2 weeks on Friday at 10:00 (Europe/London), for 12 h, until 2027-06-01");
    expect(describeRule(rule("FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0"))).toBe("Every day at 08:00 and 20:00 (Europe/London), for 12 h");
  });

  it("falls back to the rule itself for parts it does not put in words", () => {
    expect(describeRule(rule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"))).toBe("Repeats: FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU (Europe/London)");
    expect(describeRule(rule("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU"))).toBe("Repeats: FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU (Europe/London)");
  });

  it("reads ISO durations, and gives back what it cannot read", () => {
    expect(describeDuration("P1W")).toBe("1 week");
    expect(describeDuration("P1DT1H")).toBe("1 day 1 h");
    expect(describeDuration("nonsense")).toBe("nonsense");
  });

  it("renders a link, and null for an event of no series", () => {
    expect(renderPublicSeries(undefined)).toBeNull();
    expect(renderPublicSeries({ seriesId: "ser_1", rule: rule("FREQ=WEEKLY;BYDAY=SA"), next: Date.UTC(2027, 2, 13, 10) })).toEqual({
      seriesId: "ser_1",
      rrule: "FREQ=WEEKLY;BYDAY=SA",
      timeZone: "Europe/London",
      summary: "Every Saturday at 10:00 (Europe/London), for 12 h",
      next: "2027-03-13T10:00:00.000Z",
    });
  });
});

describe("ruleAt", () => {
  const seg = (rrule: string, fromMs: number | null) => ({ rrule, dtstart: "2027-03-06T10:00:00", duration: "PT1H", timeZone: "UTC", until: null, fromMs });
  it("picks the segment covering the original start: the first before any split, the later one from its instant on", () => {
    const segments = [seg("FREQ=DAILY", null), seg("FREQ=WEEKLY;BYDAY=MO", 1_000), seg("FREQ=WEEKLY;BYDAY=FR", 2_000)];
    expect(ruleAt(segments, 0).rrule).toBe("FREQ=DAILY");
    expect(ruleAt(segments, 999).rrule).toBe("FREQ=DAILY");
    expect(ruleAt(segments, 1_000).rrule).toBe("FREQ=WEEKLY;BYDAY=MO");
    expect(ruleAt(segments, 5_000)).toEqual({ rrule: "FREQ=WEEKLY;BYDAY=FR", dtstart: "2027-03-06T10:00:00", duration: "PT1H", timeZone: "UTC", until: null });
    // Pruned plans start with a split segment: an older occurrence reads the first kept rule.
    expect(ruleAt([seg("FREQ=DAILY;INTERVAL=2", 1_000)], 0).rrule).toBe("FREQ=DAILY;INTERVAL=2");
  });
});

describe("describeRule never says what the rule does not", () => {
  it("falls back to the rule itself for shapes whose plain reading RFC 5545 contradicts, or that it has no words for", () => {
    for (const rrule of [
      "FREQ=YEARLY;BYDAY=MO", // every Monday, not once a year
      "FREQ=YEARLY;BYMONTHDAY=1", // the 1st of every month
      "FREQ=YEARLY;BYDAY=+1MO", // the first Monday of the year
      "FREQ=MONTHLY;BYDAY=MO", // every Monday
      "FREQ=MONTHLY;BYMONTHDAY=-2", // the second-to-last day
      "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", // Friday the 13th
      "FREQ=WEEKLY;BYMONTHDAY=1", // Mondays... that are the 1st: a filter
    ]) {
      expect(describeRule(rule(rrule)), rrule).toBe(`Repeats: ${rrule} (Europe/London)`);
    }
  });
  it("still reads the monthly shapes it can say", () => {
    expect(describeRule(rule("FREQ=MONTHLY;BYDAY=+1MO"))).toBe("Every month on the first Monday at 10:00 (Europe/London), for 12 h");
    expect(describeRule(rule("FREQ=MONTHLY;BYMONTHDAY=1,-1"))).toBe("Every month on day 1 and the last day at 10:00 (Europe/London), for 12 h");
  });
});
