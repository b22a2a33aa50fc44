// Reading series for ops: the list (GET /v1/admin/series, from D1) and the paged occurrences of one series, through
// the real Worker, SeriesActor, scheduler, event objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { occurrenceStatements, seriesStatements } from "../src/db/series";
import { apiKey, call, createTemplate, DAY, runInDurableObject, until } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
/** Runs what is due in the series object now: its outbox writes D1 (the list reads D1). */
const settle = (id: string) => runInDurableObject(seriesStub(id), (o: SeriesActor) => o.tick(Date.now()));
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

async function createSeries(body: Record<string, unknown>) {
  const res = await call("POST", "/v1/admin/series", { body });
  if (res.status !== 201) throw new Error(`series create failed: ${res.status} ${JSON.stringify(res.json)}`);
  await settle(res.json.seriesId);
  return res.json;
}

describe("GET /v1/admin/series: the ops list", () => {
  it("lists newest first with rule, status, next occurrence and counts; filters by status and template; pages by cursor", async () => {
    const t = await createTemplate();
    const a = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "Europe/Berlin", horizonDays: 4 });
    const b = await createSeries({ templateId: t.templateId, rrule: "FREQ=WEEKLY;BYDAY=SA", dtstart: `${day(2)}T09:00`, duration: "PT1H", timeZone: "America/New_York", horizonDays: 20 });
    const c = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY;INTERVAL=2", dtstart: `${day(1)}T20:00`, duration: "PT30M", timeZone: "UTC", horizonDays: 6 });
    expect((await call("POST", `/v1/admin/series/${b.seriesId}/pause`)).status).toBe(200);
    await settle(b.seriesId);

    const all = await call("GET", `/v1/admin/series?templateId=${t.templateId}`);
    expect(all.status).toBe(200);
    expect(all.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([c.seriesId, b.seriesId, a.seriesId]);
    expect(all.json.nextCursor).toBeNull();
    const first = all.json.series[2];
    const liveA = a.occurrences.filter((o: { status: string }) => o.status === "scheduled");
    expect(first).toMatchObject({
      seriesId: a.seriesId,
      templateId: t.templateId,
      status: "active",
      rule: { rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00:00`, timeZone: "Europe/Berlin", duration: "PT2H" },
      nextOccurrence: liveA[0].startTime,
      counts: { scheduled: liveA.length, shifted: 0, skipped: 0, cancelled: 0 },
    });
    // The paused series: its occurrences not yet started were cancelled, so none is next.
    expect(all.json.series[1]).toMatchObject({ status: "paused", nextOccurrence: null, counts: { scheduled: 0, cancelled: b.occurrences.length } });

    const paused = await call("GET", `/v1/admin/series?templateId=${t.templateId}&status=paused`);
    expect(paused.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([b.seriesId]);
    const anyPaused = await call("GET", "/v1/admin/series?status=paused&limit=100");
    expect(anyPaused.json.series.every((s: { status: string }) => s.status === "paused")).toBe(true);

    const p1 = await call("GET", `/v1/admin/series?templateId=${t.templateId}&limit=2`);
    expect(p1.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([c.seriesId, b.seriesId]);
    expect(p1.json.nextCursor).toEqual(expect.any(String));
    const p2 = await call("GET", `/v1/admin/series?templateId=${t.templateId}&limit=2&cursor=${encodeURIComponent(p1.json.nextCursor)}`);
    expect(p2.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([a.seriesId]);
    expect(p2.json.nextCursor).toBeNull();

    // A viewer may read the list; a player may not.
    const viewer = await apiKey({ name: "series-viewer", role: "viewer" });
    expect((await call("GET", `/v1/admin/series?templateId=${t.templateId}`, { token: viewer.key })).json.series).toHaveLength(3);
    expect((await call("GET", `/v1/admin/series/${a.seriesId}`, { token: viewer.key })).status).toBe(200);
    expect((await call("POST", `/v1/admin/series/${a.seriesId}/pause`, { token: viewer.key })).status).toBe(403);
  });

  it("keeps each series' counts as its occurrence rows change status in D1, in whatever order rows and series arrive", async () => {
    const rule = { rrule: "FREQ=DAILY", dtstart: "2031-01-01T10:00:00", duration: "PT1H", timeZone: "UTC", exdates: [], until: null };
    const templateId = `counts-${crypto.randomUUID().slice(0, 8)}`;
    const seriesId = "ser_c0a1b2c3d4e5f6a7";
    const occ = (key: string, status: string, revision: number) => ({ seriesId, key, eventId: null, status, start: Date.parse(key), end: Date.parse(key) + 3_600_000, shiftedFrom: null, reason: null, updatedAt: 1, revision, originalStart: Date.parse(key), seqBase: 0 }) as any;
    // Two occurrences land before their series row (counted when it comes), then the rest after it.
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2031-01-01T10:00:00Z", "scheduled", 0), occ("2031-01-02T10:00:00Z", "skipped", 0)]));
    await env.DB.batch(seriesStatements(env.DB, [{ seriesId, templateId, rule, onConflict: "skip", status: "active", sequence: 0, createdAt: 1, updatedAt: 1, revision: 0 }]));
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2031-01-03T10:00:00Z", "scheduled", 0), occ("2031-01-04T10:00:00Z", "shifted", 0)]));
    const counts = async () => (await call("GET", `/v1/admin/series?templateId=${templateId}`)).json.series[0].counts;
    expect(await counts()).toEqual({ scheduled: 2, shifted: 1, skipped: 1, cancelled: 0 });
    // A status change moves one count to another; a stale (lower revision) write and a same-status rewrite change nothing.
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2031-01-01T10:00:00Z", "cancelled", 1)]));
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2031-01-01T10:00:00Z", "scheduled", 0), occ("2031-01-03T10:00:00Z", "scheduled", 1)]));
    expect(await counts()).toEqual({ scheduled: 1, shifted: 1, skipped: 1, cancelled: 1 });
    // A series update (its status, its rule) leaves the counts alone.
    await env.DB.batch(seriesStatements(env.DB, [{ seriesId, templateId, rule, onConflict: "skip", status: "paused", sequence: 1, createdAt: 1, updatedAt: 2, revision: 1 }]));
    expect(await counts()).toEqual({ scheduled: 1, shifted: 1, skipped: 1, cancelled: 1 });
  });

  it("the 0026 count triggers exist after every migration, and an occurrence written, restatused and deleted moves the counts", async () => {
    // Drizzle's snapshots do not know these triggers: a generated table rebuild would drop them without a word.
    const triggers = await env.DB.prepare("SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'series%count%' ORDER BY name").all();
    expect(triggers.results).toEqual([
      { name: "series_count_insert", tbl: "series" },
      { name: "series_occurrences_count_delete", tbl: "series_occurrences" },
      { name: "series_occurrences_count_insert", tbl: "series_occurrences" },
      { name: "series_occurrences_count_update", tbl: "series_occurrences" },
    ]);
    const rule = { rrule: "FREQ=DAILY", dtstart: "2032-01-01T10:00:00", duration: "PT1H", timeZone: "UTC", exdates: [], until: null };
    const seriesId = "ser_d0a1b2c3d4e5f6a7";
    await env.DB.batch(seriesStatements(env.DB, [{ seriesId, templateId: "count-triggers", rule, onConflict: "skip", status: "active", sequence: 0, createdAt: 1, updatedAt: 1, revision: 0 }]));
    const counts = () =>
      env.DB.prepare("SELECT count_scheduled AS scheduled, count_shifted AS shifted, count_skipped AS skipped, count_cancelled AS cancelled FROM series WHERE series_id = ?").bind(seriesId).first();
    const occ = (key: string, status: string, revision: number) => ({ seriesId, key, eventId: null, status, start: Date.parse(key), end: Date.parse(key) + 3_600_000, shiftedFrom: null, reason: null, updatedAt: 1, revision, originalStart: Date.parse(key), seqBase: 0 }) as any;
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2032-01-01T10:00:00Z", "scheduled", 0), occ("2032-01-02T10:00:00Z", "shifted", 0)]));
    expect(await counts()).toEqual({ scheduled: 1, shifted: 1, skipped: 0, cancelled: 0 });
    await env.DB.batch(occurrenceStatements(env.DB, [occ("2032-01-02T10:00:00Z", "skipped", 1)]));
    expect(await counts()).toEqual({ scheduled: 1, shifted: 0, skipped: 1, cancelled: 0 });
    await env.DB.prepare("DELETE FROM series_occurrences WHERE series_id = ? AND occurrence_key = ?").bind(seriesId, "2032-01-01T10:00:00Z").run();
    expect(await counts()).toEqual({ scheduled: 0, shifted: 0, skipped: 1, cancelled: 0 });
  });

  it("refuses bad parameters with a 400 naming the field", async () => {
    for (const [q, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["status=running", "status"],
      ["cursor=not-a-cursor", "cursor"],
      ["colour=red", ""],
    ] as const) {
      const res = await call("GET", `/v1/admin/series?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.code, q).toBe("validation_failed");
      if (field) expect(res.json.error.details.fields.map((f: { path: string }) => f.path), q).toContain(field);
    }
  });
});

describe("GET /v1/admin/series/:seriesId: occurrences by range and page", () => {
  it("pages the occurrences in start order with nextCursor, within from/to, defaulting to 30 days back and the horizon", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T06:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 12 });
    const all = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(all.occurrences.length).toBeGreaterThanOrEqual(11);
    expect(all.nextCursor).toBeNull();
    expect(Date.parse(all.from)).toBeLessThanOrEqual(Date.now() - 30 * DAY + 60_000);
    expect(all.to).toBeNull();

    // Five at a time: every occurrence once, in order, and the last page says so.
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: any = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).json;
      expect(page.occurrences.length).toBeLessThanOrEqual(5);
      seen.push(...page.occurrences.map((o: { occurrence: string }) => o.occurrence));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.occurrences.map((o: { occurrence: string }) => o.occurrence));

    // A range: occurrences starting in [from, to).
    const from = all.occurrences[2].startTime;
    const to = all.occurrences[5].startTime;
    const ranged = (await call("GET", `/v1/admin/series/${s.seriesId}?from=${from}&to=${to}`)).json;
    expect(ranged.occurrences.map((o: { startTime: string }) => o.startTime)).toEqual(all.occurrences.slice(2, 5).map((o: { startTime: string }) => o.startTime));
    expect([ranged.from, ranged.to]).toEqual([from, to]);
    // From past the horizon: nothing yet.
    expect((await call("GET", `/v1/admin/series/${s.seriesId}?from=${new Date(Date.now() + 40 * DAY).toISOString()}`)).json.occurrences).toEqual([]);
  });

  it("pages by where the rule put each occurrence: tied starts, and edits between two page reads, neither skip nor repeat one", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T06:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 9 });
    const keys = (j: { occurrences: { occurrence: string }[] }) => j.occurrences.map((o) => o.occurrence);
    const all = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(all.occurrences.length).toBeGreaterThanOrEqual(8);
    const at = (i: number) => all.occurrences[i].startTime.slice(0, 16);
    // A tie: the fourth moved onto the third's start.
    expect((await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: all.occurrences[3].occurrence, changes: { dtstart: at(2) } } })).status).toBe(200);
    const tied = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(tied.occurrences.filter((o: { startTime: string }) => o.startTime === all.occurrences[2].startTime)).toHaveLength(2);
    const one: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).json;
      one.push(...keys(page));
      cursor = page.nextCursor;
    } while (cursor && one.length < 50);
    expect(one).toEqual(keys(all));

    // Between two page reads: one already read moves past the cursor, one not yet read moves before it.
    const first = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=3`)).json;
    expect(keys(first)).toEqual(keys(all).slice(0, 3));
    const move = (i: number, to: string) => call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: all.occurrences[i].occurrence, changes: { dtstart: to } } });
    expect((await move(0, `${day(6)}T07:00`)).status).toBe(200);
    expect((await move(5, `${day(1)}T04:00`)).status).toBe(200);
    const seen = keys(first);
    cursor = first.nextCursor;
    while (cursor && seen.length < 50) {
      const page: any = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=3&cursor=${encodeURIComponent(cursor)}`)).json;
      seen.push(...keys(page));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(keys(all));
  });

  it("pages by a key no edit rewrites: an 'all' edit to another time zone between two page reads neither repeats nor skips a row", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T06:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 6 });
    const keys = (j: { occurrences: { occurrence: string }[] }) => j.occurrences.map((o) => o.occurrence);
    const before = keys((await call("GET", `/v1/admin/series/${s.seriesId}`)).json);
    expect(before.length).toBeGreaterThanOrEqual(5);
    const first = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=2`)).json;
    expect(keys(first)).toEqual(before.slice(0, 2));
    // Every occurrence's instant moves 8 h later (06:00 in Los Angeles): the keys stay.
    const edited = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "all", changes: { timeZone: "America/Los_Angeles" } } });
    expect(edited.status).toBe(200);
    const after = keys((await call("GET", `/v1/admin/series/${s.seriesId}`)).json);
    const seen = keys(first);
    let cursor: string | null = first.nextCursor;
    while (cursor && seen.length < 50) {
      const page: any = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=2&cursor=${encodeURIComponent(cursor)}`)).json;
      seen.push(...keys(page));
      cursor = page.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(after);
    expect(seen.slice(0, before.length)).toEqual(before);
  });

  it("rows tied on the paging key (page_start) page by key: each once, none skipped", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T05:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 6 });
    const keys = (j: { occurrences: { occurrence: string }[] }) => j.occurrences.map((o) => o.occurrence);
    const all = keys((await call("GET", `/v1/admin/series/${s.seriesId}`)).json);
    expect(all.length).toBeGreaterThanOrEqual(5);
    // Three rows share one paging key (as two occurrences first decided at one instant would).
    await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) => {
      const tie = state.storage.sql.exec<{ p: number }>("SELECT page_start AS p FROM occurrences ORDER BY key LIMIT 1 OFFSET 1").one().p;
      state.storage.sql.exec("UPDATE occurrences SET page_start = ? WHERE key IN (SELECT key FROM occurrences ORDER BY key LIMIT 3 OFFSET 1)", tie);
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await call("GET", `/v1/admin/series/${s.seriesId}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).json;
      seen.push(...keys(page));
      cursor = page.nextCursor;
    } while (cursor && seen.length < 50);
    expect(seen).toEqual(all);
  });

  it("refuses bad paging parameters with a 400 naming the field, and an unknown series with 404", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T06:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 2 });
    for (const [q, field] of [
      ["from=yesterday", "from"],
      ["to=2027-01-01", "to"],
      ["from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z", "to"],
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["cursor=%%%", "cursor"],
      ["cursor=bm90aGluZw", "cursor"],
      ["page=2", ""],
    ] as const) {
      const res = await call("GET", `/v1/admin/series/${s.seriesId}?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.code, q).toBe("validation_failed");
      if (field) expect(res.json.error.details.fields.map((f: { path: string }) => f.path), q).toContain(field);
    }
    expect((await call("GET", "/v1/admin/series/ser_0000000000000000?limit=5")).status).toBe(404);
  });
});

const eventStub = (id: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id));
const occ = (s: { occurrences: { occurrence: string }[] }, key: string): any => s.occurrences.find((o) => o.occurrence === key);
/** The series' next pass, now: its materialize row made due, as its daily time would. */
const pass = (id: string) =>
  runInDurableObject(seriesStub(id), async (o: SeriesActor, state: DurableObjectState) => {
    state.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'materialize'", Date.now());
    await o.tick(Date.now());
  });
const d1State = (eventId: string) => env.DB.prepare("SELECT state FROM instances WHERE event_id = ?").bind(eventId).first<{ state: string }>().then((r) => r?.state ?? null);

describe("series: what ops do to an occurrence's event directly", () => {
  it("an event cancelled through the events API is recorded cancelled in its series at once, and no pass or resume makes it again (a move does)", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T07:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 4 });
    const victim = s.occurrences[1];
    expect((await call("POST", `/v1/admin/events/${victim.eventId}/cancel`, { body: { reason: "server maintenance" } })).status).toBe(200);

    const after = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(occ(after, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "cancelled", reason: "event cancelled by an operator" });
    // The others are untouched, and their events say so.
    expect(occ(after, s.occurrences[0].occurrence)).toMatchObject({ status: "scheduled", eventState: "scheduled" });
    expect((await until(() => call("GET", `/v1/admin/series/${s.seriesId}`), (r) => occ(r.json, victim.occurrence).eventState === "cancelled")).json.occurrences[1].eventState).toBe("cancelled");

    // The next passes, and a pause and resume (which re-make what the pause cancelled), leave it cancelled.
    await pass(s.seriesId);
    expect((await call("POST", `/v1/admin/series/${s.seriesId}/pause`)).status).toBe(200);
    const resumed = (await call("POST", `/v1/admin/series/${s.seriesId}/resume`)).json;
    expect(occ(resumed, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "cancelled", reason: "event cancelled by an operator" });
    expect(occ(resumed, s.occurrences[2].occurrence).status).toBe("scheduled");
    // D1 (the list's counts) agrees once the outbox has run.
    await settle(s.seriesId);
    const listed = (await call("GET", `/v1/admin/series?templateId=${t.templateId}`)).json.series[0];
    expect(listed.counts.cancelled).toBe(1);
    // Moving that occurrence is an explicit ask for it: a new event at the new time.
    const moved = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: victim.occurrence, changes: { dtstart: `${day(2)}T09:00` } } });
    expect(occ(moved.json, victim.occurrence)).toMatchObject({ status: "scheduled", startTime: `${day(2)}T09:00:00.000Z` });
    expect(occ(moved.json, victim.occurrence).eventId).not.toBe(victim.eventId);
  });

  it("a cancel the series was not told of is learnt by its next pass from D1", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T08:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 3 });
    const victim = s.occurrences[0];
    // Straight to the event object, as if the route's word to the series had been lost.
    const r = await runInDurableObject(eventStub(victim.eventId), (o: any) => o.command("cancel", { actor: "test", reason: "direct" }));
    expect(r.ok).toBe(true);
    expect(occ((await call("GET", `/v1/admin/series/${s.seriesId}`)).json, victim.occurrence).status).toBe("scheduled");
    expect(await until(() => d1State(victim.eventId), (v) => v === "cancelled")).toBe("cancelled");
    await pass(s.seriesId);
    const after = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(occ(after, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "cancelled", reason: "event cancelled by an operator", eventState: "cancelled" });
    // Nothing made it again: the same event, still cancelled, after one more pass.
    await pass(s.seriesId);
    expect(occ((await call("GET", `/v1/admin/series/${s.seriesId}`)).json, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "cancelled" });
  });

  it("an occurrence whose event ops ended early keeps its status and shows the event over (expired)", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T09:00`, duration: "PT2H", timeZone: "UTC", horizonDays: 3 });
    const victim = s.occurrences[0];
    await runInDurableObject(eventStub(victim.eventId), (o: any) => o.tick(Date.parse(victim.startTime) + 1000));
    expect((await call("POST", `/v1/admin/events/${victim.eventId}/end-now`, { body: { reason: "bug" } })).status).toBe(200);
    const after = await until(
      () => call("GET", `/v1/admin/series/${s.seriesId}`).then((r) => r.json),
      (j) => occ(j, victim.occurrence).eventState === "expired",
    );
    expect(occ(after, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "scheduled", eventState: "expired" });
  });
});
