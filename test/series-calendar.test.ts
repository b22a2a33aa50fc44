// Series in the ops calendar and its iCalendar feed: each occurrence is a materialized instance of the series (its
// UID, RECURRENCE-ID at the original start), and SEQUENCE / LAST-MODIFIED move when the series changes.
import ICAL from "ical.js";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY, HOUR, call, createTemplate } from "./helpers";

const FEED_TOKEN = "test-calendar-feed-token";
/** A stretch of the calendar of this file's own, within a series' longest horizon (365 days). */
const base = Math.floor((Date.now() + 330 * DAY) / DAY) * DAY;
const date = (offset: number) => new Date(base + offset * DAY).toISOString().slice(0, 10);
const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 15 * DAY).toISOString()}`;

async function feed() {
  const res = await exports.default.fetch(new Request(`http://live-events.test/v1/admin/calendar?${range}&token=${FEED_TOKEN}`));
  expect(res.status).toBe(200);
  const cal = new ICAL.Component(ICAL.parse(await res.text()));
  const time = (v: InstanceType<typeof ICAL.Component>, p: string) => (v.getFirstPropertyValue(p) as InstanceType<typeof ICAL.Time>).toJSDate().getTime();
  return cal.getAllSubcomponents("vevent").map((v) => ({
    uid: String(v.getFirstPropertyValue("uid")),
    eventId: String(v.getFirstPropertyValue("x-live-event-id") ?? ""),
    recurrenceId: v.hasProperty("recurrence-id") ? time(v, "recurrence-id") : null,
    start: time(v, "dtstart"),
    sequence: Number(v.getFirstPropertyValue("sequence")),
    lastModified: time(v, "last-modified"),
    status: String(v.getFirstPropertyValue("status")),
  }));
}

describe("series in the calendar", () => {
  it("the feed shows each occurrence as an instance of the series, and says when the series changed", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY;INTERVAL=2", dtstart: `${date(1)}T09:30`, until: `${date(9)}T09:30`, duration: "PT90M", timeZone: "Asia/Kolkata", horizonDays: 345 },
    });
    expect(created.status).toBe(201);
    const s = created.json;
    expect(s.occurrences).toHaveLength(5);
    const uid = `${s.seriesId}@live-events.invalid`;

    const before = (await feed()).filter((v) => v.uid === uid);
    expect(before.map((v) => v.eventId)).toEqual(s.occurrences.map((o: { eventId: string }) => o.eventId));
    // 09:30 in Kolkata is 04:00 UTC; RECURRENCE-ID names the occurrence by its original start.
    expect(before.map((v) => v.recurrenceId)).toEqual([1, 3, 5, 7, 9].map((d) => Date.parse(`${date(d)}T04:00:00Z`)));
    expect(before.every((v) => v.start === v.recurrenceId)).toBe(true);

    // The JSON calendar ties each event to its series too.
    const days = (await call("GET", `/v1/admin/calendar?${range}`)).json.days;
    const listed = days.flatMap((d: { events: { eventId: string; series?: { seriesId: string; occurrence: string } }[] }) => d.events).filter((e: { series?: unknown }) => e.series);
    expect(listed[0].series).toEqual({ seriesId: s.seriesId, occurrence: `${date(1)}T09:30:00` });

    await new Promise((r) => setTimeout(r, 1100)); // LAST-MODIFIED has whole seconds
    const second = s.occurrences[1];
    const moved = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: second.occurrence, changes: { dtstart: `${date(3)}T11:30` } } });
    expect(moved.status).toBe(200);
    const after = (await feed()).filter((v) => v.uid === uid);
    const was = before[1];
    const now = after.find((v) => v.recurrenceId === was.recurrenceId)!;
    expect(now.start).toBe(was.start + 2 * HOUR);
    expect(now.sequence).toBeGreaterThan(was.sequence);
    expect(now.lastModified).toBeGreaterThan(was.lastModified);
    // Every instance carries the series' new SEQUENCE: the series changed.
    for (const v of after) expect(v.sequence).toBeGreaterThan(before.find((b) => b.recurrenceId === v.recurrenceId)!.sequence);

    const cancelled = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: s.occurrences[2].occurrence, changes: { cancel: true } } });
    expect(cancelled.status).toBe(200);
    const third = (await feed()).find((v) => v.uid === uid && v.recurrenceId === before[2].recurrenceId)!;
    expect(third.status).toBe("CANCELLED");
  });

  it("RECURRENCE-ID stays where the rule put each occurrence when a later rule moves to another zone", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${date(11)}T09:30`, until: `${date(14)}T09:30`, duration: "PT1H", timeZone: "Asia/Kolkata", horizonDays: 350 },
    });
    expect(created.status).toBe(201);
    const s = created.json;
    const uid = `${s.seriesId}@live-events.invalid`;
    const moved = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "following", occurrence: s.occurrences[2].occurrence, changes: { timeZone: "America/New_York" } } });
    expect(moved.status).toBe(200);
    const live = (await feed()).filter((v) => v.uid === uid && v.status !== "CANCELLED").sort((a, b) => a.start - b.start);
    expect(live).toHaveLength(4);
    // The first two are still Kolkata's 09:30 (04:00 UTC), named by it; the rest are New York's, named by theirs.
    expect(live.slice(0, 2).map((v) => v.recurrenceId)).toEqual([11, 12].map((d) => Date.parse(`${date(d)}T04:00:00Z`)));
    expect(live.every((v) => v.recurrenceId === v.start)).toBe(true);
  });

  it("SEQUENCE never goes down when an occurrence's event is replaced by a new one", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY;COUNT=1", dtstart: `${date(10)}T10:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 350 },
    });
    const s = created.json;
    const key = s.occurrences[0].occurrence;
    const move = (hh: string) => call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: key, changes: { dtstart: `${date(10)}T${hh}:00` } } });
    // Three reschedules of one event: its revision climbs, and with it the instance's SEQUENCE.
    for (const hh of ["11", "12", "13"]) expect((await move(hh)).status).toBe(200);
    const instance = async () => (await feed()).find((v) => v.uid === `${s.seriesId}@live-events.invalid` && v.recurrenceId === Date.parse(`${date(10)}T10:00:00Z`))!;
    const before = await instance();
    // Ops cancel that event; the next move makes the occurrence a new event, whose revisions start again at 1.
    expect((await call("POST", `/v1/admin/events/${before.eventId}/cancel`, { body: { reason: "ops" } })).status).toBe(200);
    expect((await move("14")).status).toBe(200);
    const after = await instance();
    expect(after.eventId).not.toBe(before.eventId);
    expect(after.start).toBe(Date.parse(`${date(10)}T14:00:00Z`));
    expect(after.sequence).toBeGreaterThan(before.sequence);
  });
});
