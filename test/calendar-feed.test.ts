// The iCalendar feed as calendar apps use it: subscribed by a ?token= URL, fetched through whatever hostname, polled
// with cache-busters and HEAD probes, and expected to say when an event changed and nothing else.
import ICAL from "ical.js";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY, HOUR, call, createTemplate } from "./helpers";

const FEED_TOKEN = "test-calendar-feed-token";
const iso = (ms: number) => new Date(ms).toISOString();
/** A private stretch of the calendar, far beyond the other files' (all under about 1000 days ahead). */
const base = Math.floor((Date.now() + 3000 * DAY) / DAY) * DAY;
const range = `from=${iso(base)}&to=${iso(base + 5 * DAY)}`;

async function feed(qs: string, init: { host?: string; method?: string; auth?: string } = {}) {
  const headers: Record<string, string> = init.auth ? { Authorization: `Bearer ${init.auth}` } : {};
  const res = await exports.default.fetch(new Request(`http://${init.host ?? "live-events.test"}/v1/admin/calendar?${qs}`, { method: init.method ?? "GET", headers }));
  return { status: res.status, type: res.headers.get("Content-Type") ?? "", text: await res.text() };
}

function vevent(ics: string, eventId: string) {
  const cal = new ICAL.Component(ICAL.parse(ics));
  const found = cal.getAllSubcomponents("vevent").find((v) => String(v.getFirstPropertyValue("uid")).startsWith(`${eventId}@`));
  if (!found) throw new Error(`no VEVENT for ${eventId}`);
  const time = (p: string) => (found.getFirstPropertyValue(p) as InstanceType<typeof ICAL.Time>).toJSDate().getTime();
  return {
    uid: String(found.getFirstPropertyValue("uid")),
    prodid: String(cal.getFirstPropertyValue("prodid")),
    sequence: Number(found.getFirstPropertyValue("sequence")),
    dtstamp: time("dtstamp"),
    lastModified: time("last-modified"),
    start: time("dtstart"),
  };
}

const seconds = (isoTime: string) => Math.floor(Date.parse(isoTime) / 1000) * 1000;

describe("iCalendar feed", () => {
  it("gives each event one UID and PRODID whatever hostname the feed is fetched through", async () => {
    const t = await createTemplate();
    const e = (await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: iso(base + HOUR), endTime: iso(base + 2 * HOUR) } })).json;
    const one = vevent((await feed(`${range}&token=${FEED_TOKEN}`, { host: "events.example.com" })).text, e.eventId);
    const two = vevent((await feed(`${range}&token=${FEED_TOKEN}`, { host: "calendar.example.net" })).text, e.eventId);
    expect(one.uid).toBe(`${e.eventId}@live-events.invalid`);
    expect(two.uid).toBe(one.uid);
    expect(two.prodid).toBe(one.prodid);
    expect(one.prodid).not.toContain("example");
  });

  it("stamps an event with its last change, not the fetch, and bumps SEQUENCE and LAST-MODIFIED on a reschedule", async () => {
    const t = await createTemplate();
    const e = (await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: iso(base + 3 * HOUR), endTime: iso(base + 4 * HOUR) } })).json;
    const first = await feed(`${range}&token=${FEED_TOKEN}`);
    const before = vevent(first.text, e.eventId);
    expect(before.dtstamp).toBe(seconds(e.updatedAt));
    expect(before.lastModified).toBe(seconds(e.updatedAt));
    await new Promise((r) => setTimeout(r, 1100)); // a fetch-time stamp would now differ by a second
    expect((await feed(`${range}&token=${FEED_TOKEN}`)).text).toBe(first.text);

    const moved = await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { startTime: iso(base + 5 * HOUR), endTime: iso(base + 6 * HOUR) } });
    expect(moved.status).toBe(200);
    const after = vevent((await feed(`${range}&token=${FEED_TOKEN}`)).text, e.eventId);
    expect(after.uid).toBe(before.uid);
    expect(after.start).toBe(base + 5 * HOUR);
    expect(after.sequence).toBeGreaterThan(before.sequence);
    expect(after.lastModified).toBe(seconds(moved.json.updatedAt));
    expect(after.lastModified).toBeGreaterThan(before.lastModified);
    expect(after.dtstamp).toBe(after.lastModified);
  });

  it("the ?token= URL answers ICS without format=ics, ignores cache-busters, and answers HEAD", async () => {
    const plain = await feed(`${range}&token=${FEED_TOKEN}`);
    expect(plain.status).toBe(200);
    expect(plain.type).toContain("text/calendar");
    expect(plain.text).toContain("BEGIN:VCALENDAR");

    const busted = await feed(`${range}&token=${FEED_TOKEN}&_=1767225600000&nocache=1`);
    expect(busted.status).toBe(200);
    expect(busted.text).toBe(plain.text);

    const head = await feed(`${range}&token=${FEED_TOKEN}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.type).toContain("text/calendar");
    expect(head.text).toBe("");
    expect((await feed(`${range}&token=wrong`, { method: "HEAD" })).status).toBe(401);

    // Asked for explicitly, JSON still comes back; bad values of known parameters are still a 400.
    expect((await feed(`${range}&token=${FEED_TOKEN}&format=json`)).type).toContain("application/json");
    expect((await feed(`from=yesterday&token=${FEED_TOKEN}`)).status).toBe(400);
    // The admin token's JSON view keeps refusing what it does not know.
    expect((await feed(`${range}&_=1`, { auth: "test-admin-token" })).status).toBe(400);
  });
});
