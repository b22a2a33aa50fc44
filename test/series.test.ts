// Recurring series through the real Worker, SeriesActor, scheduler, event objects and D1.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { EventActor } from "../src/actors/event/event-actor";
import type { SeriesView } from "../src/actors/contracts";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { refInstant, wallOf } from "../src/domain/series.reference";
import { DAY, HOUR, call, createTemplate, nextDstChange, runInDurableObject } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
const eventStub = (id: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id));
const tickEvent = (id: string, at: number) => runInDurableObject(eventStub(id), (o: EventActor) => o.tick(at));
const tickSeries = (id: string, at: number) => runInDurableObject(seriesStub(id), (o: SeriesActor) => o.tick(at));

/** Tomorrow (UTC) as a local date: series in these tests start from there. */
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

async function createSeries(body: Record<string, unknown>) {
  const res = await call("POST", "/v1/admin/series", { body });
  if (res.status !== 201) throw new Error(`series create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}
const live = (s: { occurrences: { status: string }[] }): any[] => s.occurrences.filter((o) => o.status === "scheduled" || o.status === "shifted");

describe("series: create, materialize, read", () => {
  it("materializes the horizon as ordinary events, idempotently, and rolls it forward on the alarm", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "Europe/Berlin", horizonDays: 5 });
    expect(s.seriesId).toMatch(/^ser_[a-f0-9]{16}$/);
    expect(live(s).length).toBeGreaterThanOrEqual(4);
    const first = s.occurrences[0];
    expect(first.occurrence).toBe(`${day(1)}T10:00:00`);
    expect(Date.parse(first.endTime) - Date.parse(first.startTime)).toBe(2 * HOUR);
    // Each occurrence is a real event, made from the template, visible to the events API.
    const ev = await call("GET", `/v1/admin/events/${first.eventId}`);
    expect(ev.status).toBe(200);
    expect([ev.json.templateId, ev.json.startTime, ev.json.state]).toEqual([t.templateId, first.startTime, "scheduled"]);

    // The alarm again: nothing new, nothing twice.
    await runDurableObjectAlarm(seriesStub(s.seriesId));
    const again = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(again.occurrences.map((o: { eventId: string }) => o.eventId)).toEqual(s.occurrences.map((o: { eventId: string }) => o.eventId));

    // Three days later the horizon has moved: three more occurrences exist as events.
    await tickSeries(s.seriesId, Date.now() + 3 * DAY);
    const later = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(live(later).length).toBe(live(s).length + 3);

    // D1 has the series and its occurrences (written behind the object).
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM series_occurrences WHERE series_id = ?").bind(s.seriesId).first<{ n: number }>();
    expect(rows?.n).toBe(later.occurrences.length);
  });

  it("a long horizon is made 50 occurrences a pass, the rest on the next alarm", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T06:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 70 });
    expect(live(s).length).toBe(50);
    // The rest is booked a second out: run it now (the real alarm may also have rung meanwhile).
    let rest = s;
    for (let i = 0; i < 20 && live(rest).length < 68; i++) {
      await runDurableObjectAlarm(seriesStub(s.seriesId));
      rest = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
      if (live(rest).length < 68) await new Promise((r) => setTimeout(r, 250));
    }
    expect(live(rest).length).toBeGreaterThanOrEqual(68);
    expect(new Set(rest.occurrences.map((o: { eventId: string }) => o.eventId)).size).toBe(rest.occurrences.length);
  });

  it("a create replayed after a crash between the event's creation and its record makes no second event", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=WEEKLY;BYDAY=MO,TH", dtstart: `${day(1)}T08:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 10 });
    const victim = s.occurrences[0];
    // As if the object died right after the scheduler created the event: the row still says "pending", and the
    // materialize row (deleted only when a pass completes) is still due.
    await runInDurableObject(seriesStub(s.seriesId), (_o: unknown, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE occurrences SET status = 'pending' WHERE key = ?", victim.occurrence);
      state.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'materialize'", Date.now());
    });
    await runDurableObjectAlarm(seriesStub(s.seriesId));
    const after = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
    expect(after.occurrences[0]).toMatchObject({ occurrence: victim.occurrence, eventId: victim.eventId, status: "scheduled" });
    const windows = await env.SCHEDULER_ACTOR.get(env.SCHEDULER_ACTOR.idFromName("global")).windows();
    expect(windows.filter((w: { eventId: string }) => w.eventId === victim.eventId).length).toBe(1);
  });

  it("refuses bad input with a 4xx naming the field", async () => {
    const t = await createTemplate();
    const base = { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "UTC" };
    const cases: [Record<string, unknown>, string][] = [
      [{ rrule: "FREQ=SOMETIMES" }, "rrule"],
      [{ rrule: "FREQ=DAILY;UNTIL=20300101T000000Z" }, "rrule"],
      [{ rrule: "FREQ=DAILY;BYHOUR=1,2,3,4,5" }, "rrule"],
      [{ rrule: "FREQ=HOURLY" }, "rrule"],
      [{ rrule: "FREQ=DAILY;BYHOUR=99" }, "rrule"],
      [{ rrule: "FREQ=DAILY;BYDAY=+1MO" }, "rrule"],
      [{ timeZone: "Mars/Olympus_Mons" }, "timeZone"],
      [{ timeZone: "+02:00" }, "timeZone"],
      [{ duration: "2 hours" }, "duration"],
      [{ duration: "P1M" }, "duration"],
      [{ duration: "P99999999W" }, "duration"],
      [{ dtstart: "2026-13-40T10:00" }, "dtstart"],
      [{ dtstart: "2026-03-08T10:00Z" }, "dtstart"],
      [{ templateId: "no-such-template" }, "templateId"],
    ];
    for (const [patch, field] of cases) {
      const res = await call("POST", "/v1/admin/series", { body: { ...base, ...patch } });
      expect(res.status, JSON.stringify(patch)).toBe(422);
      expect(res.json.error.code).toBe("validation_failed");
      expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    const unknownField = await call("POST", "/v1/admin/series", { body: { ...base, colour: "red" } });
    expect([unknownField.status, unknownField.json.error.code]).toEqual([422, "validation_failed"]);
    expect((await call("GET", "/v1/admin/series/ser_0000000000000000")).status).toBe(404);
    expect((await call("GET", "/v1/admin/series/junk")).json.error.code).toBe("series_not_found");
  });

  it("writes need an operator; a viewer may read", async () => {
    const viewer = (await call("POST", "/v1/admin/keys", { body: { kind: "operator", name: "series-viewer", role: "viewer" } })).json.key;
    const t = await createTemplate();
    const body = { templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "UTC", horizonDays: 2 };
    expect((await call("POST", "/v1/admin/series", { body, token: viewer })).status).toBe(403);
    const s = await createSeries(body);
    expect((await call("GET", `/v1/admin/series/${s.seriesId}`, { token: viewer })).status).toBe(200);
    expect((await call("POST", `/v1/admin/series/${s.seriesId}/pause`, { token: viewer })).status).toBe(403);
  });
});

describe("series: edits, pause and end", () => {
  it("this / following / all each change exactly their occurrences", async () => {
    const t = await createTemplate();
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "UTC", horizonDays: 6 });
    const [o1, o2, o3] = s.occurrences;

    const one = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: o2.occurrence, changes: { dtstart: `${day(2)}T14:00`, duration: "PT1H" } } });
    expect(one.status).toBe(200);
    expect(one.json.sequence).toBe(s.sequence + 1);
    const moved = one.json.occurrences.find((o: { occurrence: string }) => o.occurrence === o2.occurrence);
    expect([moved.eventId, moved.startTime, moved.endTime]).toEqual([o2.eventId, `${day(2)}T14:00:00.000Z`, `${day(2)}T15:00:00.000Z`]);
    expect((await call("GET", `/v1/admin/events/${o2.eventId}`)).json.startTime).toBe(`${day(2)}T14:00:00.000Z`);
    expect(one.json.occurrences[0]).toMatchObject({ eventId: o1.eventId, startTime: o1.startTime });

    const cancelOne = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: o1.occurrence, changes: { cancel: true } } });
    expect(cancelOne.json.occurrences[0]).toMatchObject({ eventId: o1.eventId, status: "cancelled" });
    expect((await call("GET", `/v1/admin/events/${o1.eventId}`)).json.state).toBe("cancelled");

    const following = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "following", occurrence: o3.occurrence, changes: { dtstart: `${day(3)}T18:00` } } });
    expect(following.status).toBe(200);
    const after = following.json.occurrences.filter((o: { status: string }) => o.status !== "cancelled");
    // o2's single edit stays; from o3 on every occurrence is at 18:00 with new events; the old 10:00 ones are cancelled.
    expect(after.find((o: { occurrence: string }) => o.occurrence === o2.occurrence).startTime).toBe(`${day(2)}T14:00:00.000Z`);
    const fromO3 = after.filter((o: { startTime: string }) => o.startTime >= `${day(3)}`);
    expect(fromO3.length).toBeGreaterThan(0);
    expect(fromO3.every((o: { startTime: string }) => o.startTime.endsWith("T18:00:00.000Z"))).toBe(true);
    expect((await call("GET", `/v1/admin/events/${o3.eventId}`)).json.state).toBe("cancelled");

    const all = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "all", changes: { duration: "PT3H" } } });
    expect(all.status).toBe(200);
    for (const o of live(all.json) as unknown as { startTime: string; endTime: string; occurrence: string }[]) {
      if (o.occurrence === o2.occurrence) continue; // its own one-off duration wins
      expect(Date.parse(o.endTime) - Date.parse(o.startTime)).toBe(3 * HOUR);
    }

    // A pass between o2's planned start (10:00) and its moved one (14:00) leaves it be.
    await tickSeries(s.seriesId, Date.parse(`${day(2)}T12:00:00Z`));
    const mid = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json.occurrences.find((o: { occurrence: string }) => o.occurrence === o2.occurrence);
    expect([mid.status, mid.eventId]).toEqual(["scheduled", o2.eventId]);
    expect((await call("GET", `/v1/admin/events/${o2.eventId}`)).json.state).toBe("scheduled");

    const far = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: o2.occurrence, changes: { dtstart: `${day(12)}T10:00` } } });
    expect([far.status, far.json.error.details.fields[0].path]).toEqual([422, "changes.dtstart"]);
    const bad = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "this", occurrence: `${day(1)}T11:00`, changes: { cancel: true } } });
    expect([bad.status, bad.json.error.code]).toEqual([422, "validation_failed"]);
    const huge = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "all", changes: { duration: "P99999999W" } } });
    expect([huge.status, huge.json.error.details.fields[0].path]).toEqual([422, "duration"]);
    const noScope = await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "sometimes", changes: {} } });
    expect([noScope.status, noScope.json.error.details.fields[0].path]).toEqual([422, "scope"]);
  });

  it("pause cancels what has not started and leaves the running one; resume brings them back; end is final", async () => {
    const t = await createTemplate();
    // Starting on the next minute (a local start has no seconds), then daily.
    const first = Math.ceil((Date.now() + 2000) / 60_000) * 60_000;
    const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: new Date(first).toISOString().slice(0, 16), duration: "PT2H", timeZone: "UTC", horizonDays: 3 });
    const running = s.occurrences[0];
    await tickEvent(running.eventId, Date.parse(running.startTime));
    expect((await call("GET", `/v1/admin/events/${running.eventId}`)).json.state).toBe("active");

    // The actor judges "started" by its clock: from here on that clock (Date, in this isolate) reads a second past the
    // first start, rather than the test waiting up to a minute for it.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(first + 1000);
    try {
      const paused = await runInDurableObject(seriesStub(s.seriesId), (o: SeriesActor) => o.command("pause", { actor: "test" }));
      expect(paused.ok).toBe(true);
      const view = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
      expect(view.status).toBe("paused");
      const future = view.occurrences.filter((o: { occurrence: string }) => o.occurrence !== running.occurrence);
      expect(future.length).toBeGreaterThan(0);
      expect(future.every((o: { status: string }) => o.status === "cancelled")).toBe(true);
      for (const o of future) expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.state).toBe("cancelled");
      expect((await call("GET", `/v1/admin/events/${running.eventId}`)).json.state).toBe("active");

      const resumed = await call("POST", `/v1/admin/series/${s.seriesId}/resume`);
      expect(resumed.status).toBe(200);
      const back = (live(resumed.json) as unknown as { eventId: string; occurrence: string }[]).filter((o) => o.occurrence !== running.occurrence);
      // Every cancelled occurrence is back, as a new event (the cancelled ones stay cancelled).
      for (const f of future) {
        const o = back.find((b) => b.occurrence === f.occurrence);
        expect(o && o.eventId !== f.eventId).toBe(true);
      }

      const ended = await call("POST", `/v1/admin/series/${s.seriesId}/end`, { body: { reason: "season over" } });
      expect(ended.json.status).toBe("ended");
      expect(live(ended.json).map((o: { occurrence: string }) => o.occurrence)).toEqual([running.occurrence]);
      const again = await call("POST", `/v1/admin/series/${s.seriesId}/resume`);
      expect([again.status, again.json.error.code]).toEqual([409, "series_ended"]);
      expect((await call("PATCH", `/v1/admin/series/${s.seriesId}`, { body: { scope: "all", changes: { duration: "PT1H" } } })).status).toBe(409);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("series: conflicts are skipped or shifted, and reported", () => {
  it("skip reports the rule; shift moves to the next legal slot and says from where", async () => {
    // Two standard competitive events fill the same-type limit (2) on a day of this file's own, 10:00–14:00 UTC
    // (the calendar is shared by every test file; theirs are elsewhere).
    const blocker = await createTemplate({ type: "competitive", tier: "standard" });
    const d = day(310);
    for (let i = 0; i < 2; i++) {
      const r = await call("POST", "/v1/admin/events", { body: { templateId: blocker.templateId, startTime: `${d}T10:00:00Z`, endTime: `${d}T14:00:00Z` } });
      expect(r.status).toBe(201);
    }
    const t = await createTemplate({ type: "competitive", tier: "standard" });
    const body = { templateId: t.templateId, rrule: "FREQ=DAILY;COUNT=1", dtstart: `${d}T12:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 320 };
    const skip = await createSeries({ ...body, onConflict: "skip" });
    expect(skip.occurrences).toHaveLength(1);
    expect(skip.occurrences[0]).toMatchObject({ status: "skipped", eventId: null });
    expect(skip.occurrences[0].reason).toMatch(/concurrent competitive event/);

    const shift = await createSeries({ ...body, onConflict: "shift" });
    expect(shift.occurrences[0]).toMatchObject({ status: "shifted", startTime: `${d}T14:00:00.000Z`, endTime: `${d}T15:00:00.000Z`, shiftedFrom: `${d}T12:00:00.000Z` });
    expect((await call("GET", `/v1/admin/events/${shift.occurrences[0].eventId}`)).json.startTime).toBe(`${d}T14:00:00.000Z`);
  });
});

describe("series: lifecycle through a spring-forward and a fall-back night (America/New_York)", () => {
  for (const { forward, time } of [
    { forward: true, time: "02:30" },
    { forward: false, time: "01:30" },
  ]) {
    it(`a daily ${time} series around the ${forward ? "spring-forward" : "fall-back"} night: its own alarm brings each occurrence in as the horizon reaches it, and each event starts and ends at the right instant`, async () => {
      const zone = "America/New_York";
      // The next such night, whatever today is (up to a year ahead): the series' clock is moved there, not its horizon.
      const change = nextDstChange(zone, forward);
      const at = (offsetDays: number) => new Date(Date.parse(`${change}T00:00:00Z`) + offsetDays * DAY).toISOString().slice(0, 10);
      const t = await createTemplate();
      const created = Date.now();
      const s = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${at(-1)}T${time}`, until: `${at(1)}T${time}`, duration: "PT1H", timeZone: zone, horizonDays: 2 });
      const keys = [-1, 0, 1].map((n) => `${at(n)}T${time}:00`);
      const want = keys.map((k) => refInstant(wallOf(k), zone)); // RFC 5545 by brute force: gap → forward, overlap → first
      const stub = seriesStub(s.seriesId);
      const made = async () => ((await runInDurableObject(stub, (o: SeriesActor) => o.get())) as SeriesView).occurrences.filter((o) => o.eventId && o.status === "scheduled");
      const nightStart = refInstant(wallOf(`${change}T00:00:00`), zone);
      const passes: number[] = [];
      // The series' clock (Date, in this isolate, where its object runs) jumps to each time its own alarm is set for,
      // from three days before the first occurrence to past the last, and the alarm runs there.
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        let clock = Math.max(created, want[0] - 3 * DAY);
        for (let i = 0; i < 100 && clock <= want[2] + HOUR; i++) {
          vi.setSystemTime(clock);
          expect(await runInDurableObject(stub, () => Date.now())).toBe(clock);
          if (await runDurableObjectAlarm(stub)) passes.push(clock);
          // Exactly the occurrences the 2-day horizon has reached exist as events, none twice.
          const got = await made();
          expect(got.map((o) => o.key), new Date(clock).toISOString()).toEqual(keys.filter((_, j) => want[j] < clock + 2 * DAY));
          expect(got.map((o) => o.start)).toEqual(want.filter((w) => w < clock + 2 * DAY));
          const due = (await runInDurableObject(stub, (_o: unknown, state: DurableObjectState) => state.storage.getAlarm())) as number | null;
          expect(due).not.toBeNull();
          clock = Math.max(due!, clock + 1);
        }
      } finally {
        vi.useRealTimers();
      }
      expect((await made()).length).toBe(3);
      // The alarm rang on the change night itself (a pass between its local midnight and 06:00, across the change).
      const nightEnd = refInstant(wallOf(`${change}T06:00:00`), zone);
      expect(passes.some((p) => p >= nightStart && p < nightEnd), passes.map((p) => new Date(p).toISOString()).join(" ")).toBe(true);
      const view = (await call("GET", `/v1/admin/series/${s.seriesId}`)).json;
      // Three nights, three events: none lost in the gap, none doubled in the overlap.
      expect(view.occurrences.map((o: { occurrence: string }) => o.occurrence)).toEqual(keys);
      for (const [j, o] of view.occurrences.entries()) {
        expect([Date.parse(o.startTime), Date.parse(o.endTime)]).toEqual([want[j], want[j] + HOUR]);
        // Drive the event's own alarms through its window.
        await tickEvent(o.eventId, want[j] - 1);
        expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.state).toBe("scheduled");
        await tickEvent(o.eventId, want[j]);
        expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.state).toBe("active");
        await tickEvent(o.eventId, want[j] + HOUR);
        expect((await call("GET", `/v1/admin/events/${o.eventId}`)).json.state).toBe("expired");
      }
      // Spring forward: 02:30 does not exist, so that night's event starts 03:30 EDT, the same instant as 02:30 EST
      // would have been; fall back: 01:30 happens twice, the event starts at the first (EDT).
      if (forward) expect([want[1] - want[0], want[2] - want[1]]).toEqual([DAY, DAY - HOUR]);
      else expect([want[1] - want[0], want[2] - want[1]]).toEqual([DAY, DAY + HOUR]);
    });
  }
});
