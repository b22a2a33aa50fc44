// A series and the cancels that happen to its events outside it (README "Series (admin)" and its limits): the
// operator's word never waits on a pass, a pass never needs D1 to cancel, a paused or ended series still learns, and a
// cancel is booked as the operator's only when it was one. Through the real Worker, SeriesActor, event objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { call, createTemplate, DAY, runInDurableObject, until } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
const eventStub = (id: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id));
const settle = (id: string) => runInDurableObject(seriesStub(id), (o: SeriesActor) => o.tick(Date.now()));
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
const OPS = "event cancelled by an operator";
const occ = (s: { occurrences: { occurrence: string }[] }, key: string): any => s.occurrences.find((o) => o.occurrence === key);
const getSeries = async (id: string) => (await call("GET", `/v1/admin/series/${id}`)).json;
const d1State = (eventId: string) => env.DB.prepare("SELECT state FROM instances WHERE event_id = ?").bind(eventId).first<{ state: string }>().then((r) => r?.state ?? null);
const scheduleOf = (id: string) =>
  runInDurableObject(seriesStub(id), (_o: SeriesActor, state: DurableObjectState) => state.storage.sql.exec<{ kind: string; due_at: number }>("SELECT kind, due_at FROM schedule").toArray());
/** The series' next pass, now: its materialize row made due, as its daily time would. */
const pass = (id: string) =>
  runInDurableObject(seriesStub(id), async (o: SeriesActor, state: DurableObjectState) => {
    state.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'materialize'", Date.now());
    await o.tick(Date.now());
  });
/** Straight to the event object, as if the admin route's word to the series had been lost. */
const cancelDirect = (eventId: string, actor = "ops:test", reason = "direct") =>
  runInDurableObject(eventStub(eventId), (o: any) => o.command("cancel", { actor, reason })).then((r: any) => expect(r.ok).toBe(true));
/** D1 unable to answer reads of the events' states while `body` runs (a real failure: the table is away). */
async function withoutInstances<T>(body: () => Promise<T>): Promise<T> {
  await env.DB.exec("ALTER TABLE instances RENAME TO instances_away");
  try {
    return await body();
  } finally {
    await env.DB.exec("ALTER TABLE instances_away RENAME TO instances");
  }
}

async function createSeries(body: Record<string, unknown>) {
  const t = await createTemplate();
  const res = await call("POST", "/v1/admin/series", { body: { templateId: t.templateId, rrule: "FREQ=DAILY", duration: "PT1H", timeZone: "UTC", horizonDays: 3, ...body } });
  if (res.status !== 201) throw new Error(`series create failed: ${res.status} ${JSON.stringify(res.json)}`);
  await settle(res.json.seriesId);
  return res.json;
}

describe("series passes and outside cancels", () => {
  it("a pause cancels at once even when D1 cannot say what became of the events", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T07:00` });
    const paused = await withoutInstances(() => call("POST", `/v1/admin/series/${s.seriesId}/pause`));
    expect(paused.status).toBe(200);
    expect(paused.json.occurrences.map((o: { status: string }) => o.status)).toEqual(s.occurrences.map(() => "cancelled"));
    for (const o of s.occurrences) expect((await runInDurableObject(eventStub(o.eventId), (x: any) => x.get())).instance.state).toBe("cancelled");
  });

  it("the operator's word is recorded without running a pass in the request, and reaches D1 on the flush; a repeated word changes nothing", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T08:00` });
    const victim = s.occurrences[1];
    await cancelDirect(victim.eventId);
    // A pass is due (its daily time has come, the alarm not yet rung): the word must not run it, nor wait for it.
    const seen = await runInDurableObject(seriesStub(s.seriesId), async (o: SeriesActor, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE schedule SET due_at = 1 WHERE kind = 'materialize'");
      await o.eventCancelled(victim.eventId, 2, { actor: "ops:test", reason: "maintenance" });
      await o.eventCancelled(victim.eventId, 2, { actor: "ops:test", reason: "maintenance" });
      return {
        schedule: state.storage.sql.exec<{ kind: string; due_at: number }>("SELECT kind, due_at FROM schedule").toArray(),
        alarm: await state.storage.getAlarm(),
      };
    });
    expect(seen.schedule.find((r: { kind: string }) => r.kind === "materialize")?.due_at).toBe(1);
    expect(seen.schedule.some((r: { kind: string }) => r.kind === "flush")).toBe(true);
    expect(seen.alarm).not.toBeNull();
    const after = await getSeries(s.seriesId);
    // Told twice, learnt once: the SEQUENCE base grew by the event's revision a single time.
    expect(occ(after, victim.occurrence)).toMatchObject({ status: "cancelled", reason: OPS });
    const seqBase = await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) =>
      state.storage.sql.exec<{ seq_base: number }>("SELECT seq_base FROM occurrences WHERE event_id = ?", victim.eventId).one().seq_base,
    );
    expect(seqBase).toBe(2);
    await settle(s.seriesId);
    const d1 = await env.DB.prepare("SELECT status, reason FROM series_occurrences WHERE event_id = ?").bind(victim.eventId).first();
    expect(d1).toEqual({ status: "cancelled", reason: OPS });
  });

  it("an ended series still learns a lost cancel of an occurrence it lists live, by a daily learn-only pass", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T09:00`, duration: "PT2H" });
    const running = s.occurrences[0];
    // As if it had started: the series leaves a running occurrence alone when it ends.
    await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE occurrences SET start_time = ? WHERE event_id = ?", Date.now() - 60_000, running.eventId);
    });
    const ended = await call("POST", `/v1/admin/series/${s.seriesId}/end`);
    expect(occ(ended.json, running.occurrence).status).toBe("scheduled");
    await cancelDirect(running.eventId);
    expect(await until(() => d1State(running.eventId), (v) => v === "cancelled")).toBe("cancelled");
    const due = (await scheduleOf(s.seriesId)).find((r: { kind: string }) => r.kind === "materialize");
    expect(due?.due_at).toBeGreaterThan(Date.now());
    expect(due!.due_at).toBeLessThanOrEqual(Date.now() + DAY);
    await pass(s.seriesId);
    expect(occ(await getSeries(s.seriesId), running.occurrence)).toMatchObject({ status: "cancelled", reason: OPS });
    // Nothing live is left: the passes stop.
    expect((await scheduleOf(s.seriesId)).some((r: { kind: string }) => r.kind === "materialize")).toBe(false);
  });

  it("a cancel a pause pass finds already done, by ops with the word lost, is held like one the series was told of", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T10:00` });
    const victim = s.occurrences[1];
    await cancelDirect(victim.eventId);
    // D1 has not told the series (it cannot be read): the pause's own cancel finds the event cancelled already.
    await withoutInstances(() => call("POST", `/v1/admin/series/${s.seriesId}/pause`));
    expect(occ(await getSeries(s.seriesId), victim.occurrence)).toMatchObject({ status: "cancelled", reason: OPS });
    const resumed = (await call("POST", `/v1/admin/series/${s.seriesId}/resume`)).json;
    expect(occ(resumed, victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "cancelled", reason: OPS });
    expect(occ(resumed, s.occurrences[0].occurrence).status).toBe("scheduled");
  });

  it("the series' own cancel whose record a crash lost is not taken for an operator's: a resume makes it again", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T11:00` });
    const viaD1 = s.occurrences[1];
    // A pause committed, its pass cancelled an event, then the object died before recording it.
    await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE series SET status = 'paused', revision = revision + 1");
      state.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'materialize'", Date.now() + DAY);
    });
    await cancelDirect(viaD1.eventId, `series:${s.seriesId}`, "the series was paused or ended");
    expect(await until(() => d1State(viaD1.eventId), (v) => v === "cancelled")).toBe("cancelled");
    // The retried pass learns the cancel from D1, and asks the event whose it was.
    await pass(s.seriesId);
    const mid = await getSeries(s.seriesId);
    expect(occ(mid, viaD1.occurrence)).toMatchObject({ status: "cancelled", reason: "the series was paused or ended" });
    // The audit names the series as who cancelled it, not ops.
    const audit = await runInDurableObject(seriesStub(s.seriesId), (_o: SeriesActor, state: DurableObjectState) =>
      state.storage.sql.exec<{ actor: string; details: string }>("SELECT actor, details FROM audit WHERE action = 'event-cancelled'").toArray(),
    );
    expect(audit).toEqual([{ actor: `series:${s.seriesId}`, details: JSON.stringify({ events: [viaD1.eventId], lostRecord: true }) }]);
    const resumed = (await call("POST", `/v1/admin/series/${s.seriesId}/resume`)).json;
    expect(occ(resumed, viaD1.occurrence).status).toBe("scheduled");
    expect(occ(resumed, viaD1.occurrence).eventId).not.toBe(viaD1.eventId);
  });

  it("…and when the pause's own cancel finds it done (D1 unreadable), it keeps the series' reason too", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T12:00` });
    const victim = s.occurrences[1];
    await cancelDirect(victim.eventId, `series:${s.seriesId}`, "the series was paused or ended");
    await withoutInstances(() => call("POST", `/v1/admin/series/${s.seriesId}/pause`));
    expect(occ(await getSeries(s.seriesId), victim.occurrence)).toMatchObject({ status: "cancelled", reason: "the series was paused or ended" });
    const resumed = (await call("POST", `/v1/admin/series/${s.seriesId}/resume`)).json;
    expect(occ(resumed, victim.occurrence).status).toBe("scheduled");
    expect(occ(resumed, victim.occurrence).eventId).not.toBe(victim.eventId);
  });

  it("a cancel whose event cannot be read is left for the next pass, not booked as an operator's and held for ever", async () => {
    const s = await createSeries({ dtstart: `${day(1)}T13:00` });
    const victim = s.occurrences[1];
    // An edit's pass cancelled the event, then the object died before recording it; D1 shows the cancel.
    await cancelDirect(victim.eventId, `series:${s.seriesId}`, "no longer in the series (edited)");
    expect(await until(() => d1State(victim.eventId), (v) => v === "cancelled")).toBe("cancelled");
    // The event object cannot answer (its storage fails) while the pass asks whose cancel it was.
    const swapDoc = (from: string, to: string) =>
      runInDurableObject(eventStub(victim.eventId), (_o: unknown, state: DurableObjectState) => state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`));
    await swapDoc("doc", "doc_away");
    try {
      await pass(s.seriesId);
    } finally {
      await swapDoc("doc_away", "doc");
    }
    expect(occ(await getSeries(s.seriesId), victim.occurrence)).toMatchObject({ eventId: victim.eventId, status: "scheduled" });
    // The next pass reads it: the series' own cancel, so the occurrence is made again (a new event), not held out.
    await pass(s.seriesId);
    const after = occ(await getSeries(s.seriesId), victim.occurrence);
    expect(after.status).toBe("scheduled");
    expect(after.eventId).not.toBe(victim.eventId);
    expect(after.reason).not.toBe(OPS);
  });
});
