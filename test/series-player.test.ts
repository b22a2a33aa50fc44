// Players see series: the calendar and the event views name the series an event belongs to, its rule in words and
// its next occurrence, through the real Worker, SeriesActor, event objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { occurrenceStatements } from "../src/db/series";
import { call, createEvent, createTemplate, DAY, HOUR, inMs, playerToken, runInDurableObject, until } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);


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

  it("an occurrence older than every rule the plan keeps still names its own rule (pruned past 90 days, or replaced by a new dtstart), not a later one", async () => {
    const t = await createTemplate();
    const created = await call("POST", "/v1/admin/series", {
      body: { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "UTC", horizonDays: 3 },
    });
    expect(created.status).toBe(201);
    const s = created.json;
    const patch = (body: unknown) => call("PATCH", `/v1/admin/series/${s.seriesId}`, { body });
    expect((await patch({ scope: "following", occurrence: `${day(2)}T10:00`, changes: { rrule: "FREQ=WEEKLY;BYDAY=MO" } })).status).toBe(200);
    // That split, as if made 100 days ago: the next edit prunes the daily rule from the plan.
    await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) => {
      const row = state.storage.sql.exec<{ plan: string }>("SELECT plan FROM series").one();
      const plan = JSON.parse(row.plan as string);
      plan.segments[1].fromMs = Date.now() - 100 * DAY;
      state.storage.sql.exec("UPDATE series SET plan = ?", JSON.stringify(plan));
    });
    const pruned = await patch({ scope: "all", changes: { duration: "PT3H" } });
    expect(pruned.status).toBe(200);
    expect(pruned.json.segments.map((g: { rrule: string }) => g.rrule)).toEqual(["FREQ=WEEKLY;BYDAY=MO"]);
    await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.tick(Date.now()));

    // Two occurrences D1 keeps from back then: one of the daily rule (120 days ago), one of the weekly (50 days ago).
    const oldDaily = await createEvent(t.templateId, { startTime: inMs(30 * DAY), endTime: inMs(30 * DAY + HOUR) });
    const oldWeekly = await createEvent(t.templateId, { startTime: inMs(31 * DAY), endTime: inMs(31 * DAY + HOUR) });
    const row = (eventId: string, key: string, original: number) =>
      ({ seriesId: s.seriesId, key, eventId, status: "scheduled", start: original, end: original + HOUR, shiftedFrom: null, reason: null, updatedAt: 1, revision: 0, originalStart: original, seqBase: 0 }) as any;
    await env.DB.batch(
      occurrenceStatements(env.DB, [row(oldDaily.eventId, "2000-01-01T10:00:00", Date.now() - 120 * DAY), row(oldWeekly.eventId, "2000-01-02T10:00:00", Date.now() - 50 * DAY)]),
    );
    const token = await playerToken("series-history");
    const rule = async (id: string) => (await until(() => call("GET", `/v1/events/${id}`, { token }), (r) => r.json.series != null)).json.series.rrule;
    expect(await rule(oldDaily.eventId)).toBe("FREQ=DAILY");
    expect(await rule(oldWeekly.eventId)).toBe("FREQ=WEEKLY;BYDAY=MO");

    // A new dtstart makes the plan one rule again: what the old rules made keeps them; what the new one makes is its own.
    const collapsed = await patch({ scope: "all", changes: { dtstart: `${day(1)}T12:00`, rrule: "FREQ=WEEKLY;BYDAY=FR,SA,SU,MO,TU,WE,TH" } });
    expect(collapsed.status).toBe(200);
    await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.tick(Date.now()));
    expect(await rule(oldDaily.eventId)).toBe("FREQ=DAILY");
    expect(await rule(oldWeekly.eventId)).toBe("FREQ=WEEKLY;BYDAY=MO");
    const fresh = collapsed.json.occurrences.find((o: { status: string; startTime: string }) => o.status === "scheduled" && o.startTime.endsWith("T12:00:00.000Z"));
    expect(fresh).toBeTruthy();
    expect(await rule(fresh.eventId)).toBe("FREQ=WEEKLY;BYDAY=FR,SA,SU,MO,TU,WE,TH");
  });
});
