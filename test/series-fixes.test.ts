// Series materialization edge cases found on a second reading: replacements vs. the events they replace, events
// changed outside the series, and bounded passes. Through the real Worker, SeriesActor, scheduler and event objects.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { DAY, call, createTemplate, runInDurableObject } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
const tickSeries = (id: string, at: number) => runInDurableObject(seriesStub(id), (o: SeriesActor) => o.tick(at));
// A pass that stops early books the next one a second past its own clock: each tick here is two seconds further on.
let clock = Date.now();
const later = () => (clock = Math.max(clock, Date.now()) + 2000);
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
type Occ = { occurrence: string; eventId: string | null; status: string; startTime: string; reason: string | null };

async function createSeries(body: Record<string, unknown>) {
  const res = await call("POST", "/v1/admin/series", { body });
  if (res.status !== 201) throw new Error(`series create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}
// GET pages its occurrences (100 by default): these tests read one series whole, so they ask for the largest page.
const get = async (id: string) => (await call("GET", `/v1/admin/series/${id}?limit=500`)).json;
const live = (s: { occurrences: Occ[] }) => s.occurrences.filter((o) => o.status === "scheduled" || o.status === "shifted");

describe("series: replacements and cancellations", () => {
  it("an edit that moves major events a few hours cancels the old ones first, so the new ones are not refused by the gap", async () => {
    // Major events need 48 h between them: each new occurrence would conflict with the old event it replaces.
    const t = await createTemplate({ type: "competitive", tier: "major" });
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=WEEKLY;COUNT=2", dtstart: `${day(340)}T10:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 360 });
    expect(live(s)).toHaveLength(2);
    const res = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "following", occurrence: s.occurrences[0].occurrence, changes: { dtstart: `${day(340)}T13:00` } } });
    expect(res.status).toBe(200);
    const now = live(res.json);
    expect(now.map((o) => o.startTime.slice(11, 16))).toEqual(["13:00", "13:00"]);
    for (const old of s.occurrences) expect((await call("GET", `/v1/admin/events/${old.eventId}`)).json.state).toBe("cancelled");
  });

  it("pausing a long series cancels at most 50 events a pass; the rest follow on the next", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T07:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 70 });
    let all = s;
    for (let i = 0; i < 5 && live(all).length < 68; i++) {
      await tickSeries(s.seriesId, later());
      all = await get(s.seriesId);
    }
    const made = live(all).length;
    expect(made).toBeGreaterThanOrEqual(68);
    // The pass run by the command itself: its answer is what that one pass did.
    const paused = await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.command("pause", { actor: "test" }));
    const counts: Record<string, number> = {};
    for (const o of paused.value.occurrences as { status: string }[]) counts[o.status] = (counts[o.status] ?? 0) + 1;
    expect(counts).toEqual({ cancelled: 50, scheduled: made - 50 });
    let rest = await get(s.seriesId);
    for (let i = 0; i < 20 && live(rest).length > 0; i++) {
      await tickSeries(s.seriesId, later());
      rest = await get(s.seriesId);
    }
    expect(live(rest)).toHaveLength(0);
    expect(rest.occurrences.filter((o: Occ) => o.status === "cancelled")).toHaveLength(made);
  });
});

describe("series: events changed outside the series", () => {
  it("moving an occurrence whose event was cancelled by ops makes a new event at the new time (the dead one is not reused)", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(2)}T09:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 4 });
    const o = s.occurrences[0] as Occ;
    expect((await call("POST", `/v1/admin/events/${o.eventId}/cancel`, { body: { reason: "ops" } })).status).toBe(200);
    const res = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: o.occurrence, changes: { dtstart: `${day(2)}T11:00` } } });
    expect(res.status).toBe(200);
    const after = res.json.occurrences.find((x: Occ) => x.occurrence === o.occurrence) as Occ;
    expect(after.status).toBe("scheduled");
    expect(after.eventId).not.toBe(o.eventId);
    const ev = (await call("GET", `/v1/admin/events/${after.eventId}`)).json;
    expect([ev.state, ev.startTime]).toEqual(["scheduled", `${day(2)}T11:00:00.000Z`]);
    expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.state).toBe("cancelled");
  });
});

describe("series: single-occurrence moves", () => {
  it("refuses moving an occurrence into the past with a 422 naming changes.dtstart", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(2)}T08:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 3 });
    const o = s.occurrences[0] as Occ;
    const res = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: o.occurrence, changes: { dtstart: `${day(-1)}T08:00` } } });
    expect([res.status, res.json.error.details.fields[0]]).toEqual([422, { path: "changes.dtstart", message: "must not be in the past" }]);
    expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.startTime).toBe(o.startTime);
  });
});

describe("series: an edit during a running pass", () => {
  it("stops the pass at once: it makes no more events for the plan the edit replaced", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T05:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 70 });
    expect(live(s)).toHaveLength(50);
    const made = await runInDurableObject(seriesStub(s.seriesId), async (o: SeriesActor, state: DurableObjectState) => {
      const count = () => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM occurrences WHERE key LIKE '%T05:00:00'").one().n;
      // The rest of the horizon (about 20 creates) is under way; the edit lands after its first one.
      const pass = o.tick(later());
      for (let i = 0; i < 2000 && count() <= 50; i++) await new Promise((r) => setTimeout(r, 1));
      const edited = await o.edit({ scope: "all", changes: { dtstart: `${day(1)}T06:00` } }, { actor: "test" });
      await pass;
      expect(edited.ok).toBe(true);
      return count();
    });
    // 50 from the create, one or two in flight when the edit landed; not the whole rest of the old plan.
    expect(made).toBeGreaterThan(50);
    expect(made).toBeLessThanOrEqual(53);
    // The following passes (50 calls each) finish the edit: only the new plan's events are left.
    let after = await get(s.seriesId);
    for (let i = 0; i < 6 && (live(after).length < 68 || live(after).some((o) => !o.startTime.endsWith("T06:00:00.000Z"))); i++) {
      await tickSeries(s.seriesId, later());
      after = await get(s.seriesId);
    }
    expect(live(after).length).toBeGreaterThanOrEqual(68);
    expect(live(after).every((o) => o.startTime.endsWith("T06:00:00.000Z"))).toBe(true);
  });
});

describe("series: what GET lists stays bounded", () => {
  it("occurrences over for 90 days leave the object (D1 keeps them)", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY;COUNT=2", dtstart: `${day(1)}T03:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 3 });
    expect(s.occurrences).toHaveLength(2);
    await tickSeries(s.seriesId, Date.now() + 80 * DAY);
    expect((await get(s.seriesId)).occurrences).toHaveLength(2);
    await tickSeries(s.seriesId, Date.now() + 95 * DAY);
    expect((await get(s.seriesId)).occurrences).toHaveLength(0);
    const d1 = await env.DB.prepare("SELECT COUNT(*) AS n FROM series_occurrences WHERE series_id = ?").bind(s.seriesId).first<{ n: number }>();
    expect(d1?.n).toBe(2);
  });
});
