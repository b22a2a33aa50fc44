// Players see series: the calendar and the event views name the series an event belongs to, its rule in words and
// its next occurrence, through the real Worker, SeriesActor, event objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { DAY, HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

describe("players see series", () => {
  it("the calendar, the event lists and one event's view carry the series, its rule in words and its next occurrence", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "Europe/Berlin", horizonDays: 4 },
    });
    expect(created.status).toBe(201);
    const s = created.json;
    await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.tick(Date.now()));
    const occ = s.occurrences.filter((o: { status: string }) => o.status === "scheduled");
    expect(occ.length).toBeGreaterThanOrEqual(3);
    const lone = await createEvent(t.templateId, { startTime: inMs(2 * HOUR), endTime: inMs(3 * HOUR) });

    const token = await playerToken("series-player");
    const cal = await until(
      () => call("GET", `/v1/calendar?from=${new Date(Date.now()).toISOString()}&to=${new Date(Date.now() + 6 * DAY).toISOString()}`, { token }),
      (r) => occ.every((o: { eventId: string }) => r.json.events.some((e: { eventId: string }) => e.eventId === o.eventId)),
    );
    expect(cal.status).toBe(200);
    const byId = new Map(cal.json.events.map((e: { eventId: string }) => [e.eventId, e]));
    expect((byId.get(occ[0].eventId) as any).series).toEqual({
      seriesId: s.seriesId,
      rrule: "FREQ=DAILY",
      timeZone: "Europe/Berlin",
      summary: "Every day at 10:00 (Europe/Berlin), for 2 h",
      next: occ[1].startTime,
    });
    expect((byId.get(occ[1].eventId) as any).series.next).toBe(occ[2].startTime);
    // The last one materialized: the series comes back, but no later occurrence is scheduled yet.
    expect((byId.get(occ[occ.length - 1].eventId) as any).series.next).toBeNull();
    expect((byId.get(lone.eventId) as any).series).toBeNull();

    const one = await call("GET", `/v1/events/${occ[0].eventId}`, { token });
    expect(one.status).toBe(200);
    expect(one.json.series).toMatchObject({ seriesId: s.seriesId, next: occ[1].startTime });
    expect((await call("GET", `/v1/events/${lone.eventId}`, { token })).json.series).toBeNull();

    const upcoming = await call("GET", "/v1/events/upcoming?withinHours=144", { token });
    const listed = upcoming.json.events.find((e: { eventId: string }) => e.eventId === occ[0].eventId);
    expect(listed.series).toMatchObject({ seriesId: s.seriesId, summary: "Every day at 10:00 (Europe/Berlin), for 2 h" });
    expect(upcoming.json.events.every((e: { series: unknown }) => e.series === null || typeof e.series === "object")).toBe(true);

    // An occurrence ops cancelled is not next: the one after it is.
    expect((await call("POST", `/v1/admin/events/${occ[1].eventId}/cancel`, { body: { reason: "maintenance" } })).status).toBe(200);
    await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.tick(Date.now()));
    const after = await until(
      () => call("GET", `/v1/events/${occ[0].eventId}`, { token }),
      (r) => r.json.series?.next === occ[2].startTime,
    );
    expect(after.json.series.next).toBe(occ[2].startTime);
  });

  it("each occurrence names the rule that made it: after a 'this and following' edit the earlier ones keep the earlier rule", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "UTC", horizonDays: 14 },
    });
    expect(created.status).toBe(201);
    const s = created.json;
    const edited = await call("PATCH", `/v1/admin/series/${s.seriesId}`, {
      body: { scope: "following", occurrence: `${day(5)}T10:00`, changes: { dtstart: `${day(5)}T18:00`, rrule: "FREQ=WEEKLY;BYDAY=MO" } },
    });
    expect(edited.status).toBe(200);
    await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.tick(Date.now()));
    const live = edited.json.occurrences.filter((o: { status: string }) => o.status === "scheduled");
    const early = live.find((o: { startTime: string }) => o.startTime === `${day(2)}T10:00:00.000Z`);
    const late = live.find((o: { startTime: string }) => o.startTime.endsWith("T18:00:00.000Z"));
    expect(early && late).toBeTruthy();
    const token = await playerToken("series-segments");
    const read = (id: string) => until(() => call("GET", `/v1/events/${id}`, { token }), (r) => r.json.series !== null && r.json.series !== undefined);
    expect((await read(early.eventId)).json.series).toMatchObject({ seriesId: s.seriesId, rrule: "FREQ=DAILY", summary: "Every day at 10:00 (UTC), for 2 h" });
    expect((await read(late.eventId)).json.series).toMatchObject({ seriesId: s.seriesId, rrule: "FREQ=WEEKLY;BYDAY=MO", summary: "Every Monday at 18:00 (UTC), for 2 h" });
  });
});
