// Calendar views (JSON by UTC day, iCalendar feed, the player calendar), countdowns and run-time rule settings.
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { DAY, HOUR, call, createTemplate, playerToken } from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();
const dayStart = (ms: number) => Math.floor(ms / DAY) * DAY;
let slot = 0;
/** Private stretches well clear of other files' windows (scheduler tests use 800+ days, others < 500). */
const privateBase = () => dayStart(Date.now() + (600 + 10 * slot++) * DAY);

async function seedWeek() {
  const std = await createTemplate({ type: "competitive", tier: "standard" });
  const mini = await createTemplate({ type: "gacha", tier: "mini" });
  const base = privateBase();
  const mk = async (templateId: string, s: number, e: number, name: string) =>
    (await call("POST", "/v1/admin/events", { body: { templateId, startTime: iso(s), endTime: iso(e), name } })).json;
  const a = await mk(std.templateId, base + 10 * HOUR, base + DAY + 2 * HOUR, "Arena; Finals, Day 1");
  const b = await mk(std.templateId, base + 12 * HOUR, base + 14 * HOUR, "Arena Warmup");
  const c = await mk(mini.templateId, base + 13 * HOUR, base + 15 * HOUR, "Lucky Sprint");
  const d = await mk(std.templateId, base + 3 * DAY, base + 4 * DAY, "Cancelled Cup");
  await call("POST", `/v1/admin/events/${d.eventId}/cancel`);
  return { base, a, b, c, d };
}

describe("admin calendar", () => {
  it("groups events by UTC day with each day's peak concurrency, and filters", async () => {
    const { base, a, b, c, d } = await seedWeek();
    const res = await call("GET", `/v1/admin/calendar?from=${iso(base)}&to=${iso(base + 5 * DAY)}`);
    expect(res.status).toBe(200);
    expect(res.json.days.map((x: any) => x.date)).toHaveLength(5);
    const [day0, day1, day2, day3] = res.json.days;
    expect(day0.events.map((e: any) => e.eventId)).toEqual([a.eventId, b.eventId, c.eventId]);
    // a and b overlap; c is a mini event and does not count.
    expect(day0).toMatchObject({ date: iso(base).slice(0, 10), eventCount: 3, concurrency: 2 });
    expect(day1).toMatchObject({ eventCount: 1, concurrency: 1 });
    expect(day2).toMatchObject({ eventCount: 0, concurrency: 0 });
    expect(day3.events).toEqual([expect.objectContaining({ eventId: d.eventId, state: "cancelled" })]);
    expect(day3.concurrency).toBe(0);

    const onlyMini = await call("GET", `/v1/admin/calendar?from=${iso(base)}&to=${iso(base + 5 * DAY)}&tier=mini`);
    expect(onlyMini.json.days[0].events.map((e: any) => e.eventId)).toEqual([c.eventId]);
    const scheduled = await call("GET", `/v1/admin/calendar?from=${iso(base)}&to=${iso(base + 5 * DAY)}&state=scheduled&type=competitive`);
    expect(scheduled.json.days.flatMap((x: any) => x.events.map((e: any) => e.eventId)).sort()).toEqual([a.eventId, a.eventId, b.eventId].sort());
  });

  it("serves an iCalendar feed that a real parser reads, by Accept header, ?format=ics, or a feed token", async () => {
    const { base, a, d } = await seedWeek();
    const range = `from=${iso(base)}&to=${iso(base + 5 * DAY)}`;
    const byHeader = await call("GET", `/v1/admin/calendar?${range}`, { headers: { Accept: "text/calendar" } });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get("Content-Type")).toContain("text/calendar");
    const byFormat = await call("GET", `/v1/admin/calendar?${range}&format=ics`);
    expect(byFormat.json).toBe(byHeader.json);

    const vcal = new ICAL.Component(ICAL.parse(byHeader.json as string));
    const events = vcal.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
    const ev = events.find((e) => e.uid.startsWith(a.eventId))!;
    expect(ev.summary).toBe("Arena; Finals, Day 1");
    expect(ev.startDate.toJSDate().getTime()).toBe(Date.parse(a.startTime));
    expect(ev.endDate.toJSDate().getTime()).toBe(Date.parse(a.endTime));
    const cancelled = vcal.getAllSubcomponents("vevent").find((v) => String(v.getFirstPropertyValue("uid")).startsWith(d.eventId))!;
    expect(cancelled.getFirstPropertyValue("status")).toBe("CANCELLED");

    const feed = await call("GET", `/v1/admin/calendar?${range}&format=ics&token=test-calendar-feed-token`, { token: null });
    expect(feed.status).toBe(200);
    expect(feed.json).toContain("BEGIN:VCALENDAR");
    expect((await call("GET", `/v1/admin/calendar?${range}&format=ics&token=wrong`, { token: null })).status).toBe(401);
    // The feed token opens nothing else.
    expect((await call("GET", `/v1/admin/events?token=test-calendar-feed-token`, { token: null })).status).toBe(401);
  });

  it("refuses bad ranges with 400", async () => {
    for (const qs of ["from=yesterday", "from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z", "from=2027-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", "state=sleeping"]) {
      const res = await call("GET", `/v1/admin/calendar?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.json.error.code).toBe("validation_failed");
    }
  });
});

describe("player calendar and countdown", () => {
  it("lists public fields of upcoming events, not cancelled ones", async () => {
    const { base, a, c, d } = await seedWeek();
    const token = await playerToken("cal-player");
    const res = await call("GET", `/v1/calendar?from=${iso(base)}&to=${iso(base + 5 * DAY)}`, { token });
    expect(res.status).toBe(200);
    const ids = res.json.events.map((e: any) => e.eventId);
    expect(ids).toEqual(expect.arrayContaining([a.eventId, c.eventId]));
    expect(ids).not.toContain(d.eventId);
    const pub = res.json.events.find((e: any) => e.eventId === a.eventId);
    expect(pub).not.toHaveProperty("activationAttempts");
    expect(pub).not.toHaveProperty("transitions");
    expect(pub.timeUntilStart).toBeGreaterThan(500 * 24 * 3600);
  });

  it("countdown is a small server-computed answer", async () => {
    const t = await createTemplate();
    const start = Date.now() + 2 * HOUR;
    const e = (await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: iso(start), endTime: iso(start + HOUR) } })).json;
    const res = await call("GET", `/v1/events/${e.eventId}/countdown`, { token: await playerToken("p1") });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(["endTime", "eventId", "serverTime", "startTime", "state", "timeRemaining", "timeUntilStart"]);
    expect(res.json.timeUntilStart).toBeGreaterThan(2 * 3600 - 10);
    expect(res.json.timeUntilStart).toBeLessThanOrEqual(2 * 3600);
    expect(res.json.timeRemaining - res.json.timeUntilStart).toBe(3600);
    expect((await call("GET", `/v1/events/evt_0000000000000000000000ff/countdown`, { token: await playerToken("p1") })).status).toBe(404);
  });
});

describe("settings", () => {
  it("reads the seed defaults and refuses bad settings without changing them", async () => {
    const res = await call("GET", "/v1/admin/settings");
    expect(res.json).toEqual({ maxConcurrent: 4, maxConcurrentSameType: 2, majorGapHours: 48, maxWindowDays: 90 });
    for (const body of [{}, { maxConcurrent: 0 }, { maxConcurrent: "5" }, { maxWindowDays: 1.5 }, { surprise: 1 }]) {
      expect((await call("PUT", "/v1/admin/settings", { body })).status).toBe(422);
    }
    expect((await call("GET", "/v1/admin/settings")).json.maxConcurrent).toBe(4);
    expect((await call("PUT", "/v1/admin/settings", { body: { maxConcurrent: 4 } }, )).json.maxConcurrent).toBe(4);
    expect((await call("PUT", "/v1/admin/settings", { token: await playerToken("p"), body: { maxConcurrent: 9 } })).status).toBe(403);
  });
});
