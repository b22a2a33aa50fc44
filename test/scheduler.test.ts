// The scheduling rules enforced through the one CalendarActor: races, overrides, dry runs, releases, rebuilds,
// and the calendar views. Every test works in its own far-future stretch of time so that the one shared
// calendar never mixes its windows with another test's.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { DAY, HOUR, apiKey, call, createTemplate, playerToken } from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();
let slot = 0;
/** A private stretch of calendar: 30 days wide, years away, different for every call in this file. */
const privateBase = () => Date.now() + (800 + 30 * slot++) * DAY;
// Typed loosely: the calendar's RPC types are deep enough to exhaust tsc's instantiation limit here.
const calendarStub = (): any => env.SCHEDULER_ACTOR.get(env.SCHEDULER_ACTOR.idFromName("global"));
const inCalendar = runInDurableObject as unknown as (stub: unknown, fn: (o: any, state: DurableObjectState) => unknown) => Promise<any>;
const calendarWindows = (): Promise<any[]> => inCalendar(calendarStub(), (o) => o.windows());

async function templates() {
  const types = ["seasonal", "competitive", "cooperative", "crossover", "gacha"] as const;
  const out: Record<string, string> = {};
  for (const type of types) out[type] = (await createTemplate({ type, tier: "standard" })).templateId;
  return out;
}
const create = (body: Record<string, unknown>, token?: string) => call("POST", "/v1/admin/events", { body, token });

describe("concurrency rules under racing creates", () => {
  it("20 concurrent creates where only 4 fit: exactly 4 succeed, the rest get 409 with conflicts", async () => {
    const t = await templates();
    const base = privateBase();
    const kinds = Object.values(t);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create({ templateId: kinds[i % kinds.length], startTime: iso(base), endTime: iso(base + DAY), name: `racer-${i}` }),
      ),
    );
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    expect(won).toHaveLength(4);
    expect(lost).toHaveLength(16);
    for (const r of lost) {
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe("schedule_conflict");
      expect(r.json.error.details.conflicts.length).toBeGreaterThan(0);
      for (const c of r.json.error.details.conflicts) {
        expect(["max_concurrent", "max_concurrent_same_type"]).toContain(c.rule);
        expect(c.conflictingEventIds.length).toBeGreaterThan(0);
        expect(c.window.from).toBe(iso(base));
      }
    }
    // The winners never break the per-type rule either, and the losers left no trace.
    const winnerTypes = won.map((r) => r.json.type);
    for (const type of new Set(winnerTypes)) expect(winnerTypes.filter((x) => x === type).length).toBeLessThanOrEqual(2);
    const windows = await calendarWindows();
    expect(windows.filter((w) => w.start === base)).toHaveLength(4);
  });

  it("touching windows do not overlap; mini events are exempt", async () => {
    const t = await templates();
    const base = privateBase();
    for (const k of ["seasonal", "competitive", "cooperative", "crossover"]) {
      expect((await create({ templateId: t[k], startTime: iso(base), endTime: iso(base + DAY) })).status).toBe(201);
    }
    // A fifth standard event right after them (start == their end) fits.
    expect((await create({ templateId: t.gacha, startTime: iso(base + DAY), endTime: iso(base + 2 * DAY) })).status).toBe(201);
    // One more overlapping the four does not …
    const refused = await create({ templateId: t.gacha, startTime: iso(base + HOUR), endTime: iso(base + 2 * HOUR) });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(/5th concurrent event \(limit 4\)/);
    // … unless it is a mini event.
    expect((await create({ templateId: t.gacha, tier: "mini", startTime: iso(base + HOUR), endTime: iso(base + 2 * HOUR) })).status).toBe(201);
  });

  it("major events need 48 h between them, both ways; exactly 48 h is allowed", async () => {
    const t = await templates();
    const base = privateBase();
    const first = await create({ templateId: t.seasonal, tier: "major", name: "Season One", startTime: iso(base + 5 * DAY), endTime: iso(base + 7 * DAY) });
    expect(first.status).toBe(201);
    const after = await create({ templateId: t.competitive, tier: "major", startTime: iso(base + 9 * DAY - 1), endTime: iso(base + 10 * DAY) });
    expect(after.status).toBe(409);
    expect(after.json.error.details.conflicts).toEqual([
      expect.objectContaining({ rule: "major_gap", conflictingEventIds: [first.json.eventId], window: { from: iso(base + 7 * DAY), to: iso(base + 9 * DAY - 1) } }),
    ]);
    expect(after.json.error.message).toContain("Season One");
    const before = await create({ templateId: t.competitive, tier: "major", startTime: iso(base + 2 * DAY), endTime: iso(base + 3 * DAY + 1) });
    expect(before.status).toBe(409);
    expect((await create({ templateId: t.competitive, tier: "major", startTime: iso(base + 9 * DAY), endTime: iso(base + 10 * DAY) })).status).toBe(201);
    expect((await create({ templateId: t.cooperative, tier: "major", startTime: iso(base + 2 * DAY), endTime: iso(base + 3 * DAY) })).status).toBe(201);
  });
});

describe("the gap between majors counts majors that already ran", () => {
  const tickEvent = (eventId: string, at: number) => inCalendar(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(eventId)), (o) => o.tick(at));
  const validate = async (body: Record<string, unknown>) => (await call("POST", "/v1/admin/schedule/validate", { body })).json;

  it("an expired major keeps its place: the dry run and the create both refuse a major 12 s after its end", async () => {
    const t = await templates();
    const base = privateBase();
    const first = (await create({ templateId: t.seasonal, tier: "major", name: "Ran Already", startTime: iso(base), endTime: iso(base + HOUR) })).json;
    await tickEvent(first.eventId, base);
    await tickEvent(first.eventId, base + HOUR);
    expect((await calendarWindows()).find((w) => w.eventId === first.eventId).state).toBe("expired");
    const body = { templateId: t.competitive, tier: "major", startTime: iso(base + HOUR + 12_000), endTime: iso(base + 2 * HOUR) };
    const dry = await validate(body);
    expect(dry.conflicts).toEqual([expect.objectContaining({ rule: "major_gap", conflictingEventIds: [first.eventId] })]);
    const refused = await create(body);
    expect(refused.status).toBe(409);
    expect(refused.json.error.details.conflicts).toEqual(dry.conflicts);
    // It still counts after the scheduler's storage is lost and rebuilt from D1.
    const stub = calendarStub();
    await inCalendar(stub, (_o, state) => state.storage.deleteAll());
    await evictDurableObject(stub);
    expect((await validate(body)).conflicts).toEqual(dry.conflicts);
  });

  it("a major ended early counts from its actual end; a cancelled one does not count at all", async () => {
    const t = await templates();
    const ended = (await create({ templateId: t.gacha, tier: "major", name: "Stopped Early", startTime: "now", endTime: iso(Date.now() + 10 * DAY) })).json;
    expect(ended.state).toBe("active");
    const stopped = (await call("POST", `/v1/admin/events/${ended.eventId}/end-now`, { body: { reason: "exploit" } })).json;
    const actualEnd = Date.parse(stopped.endTime);
    const soon = { templateId: t.crossover, tier: "major", startTime: iso(actualEnd + 12_000), endTime: iso(actualEnd + DAY) };
    const conflicts = (await validate(soon)).conflicts;
    expect(conflicts).toEqual([expect.objectContaining({ rule: "major_gap", conflictingEventIds: [ended.eventId], window: { from: iso(actualEnd), to: iso(actualEnd + 12_000) } })]);

    const base = privateBase();
    const cancelled = (await create({ templateId: t.seasonal, tier: "major", startTime: iso(base), endTime: iso(base + HOUR) })).json;
    await call("POST", `/v1/admin/events/${cancelled.eventId}/cancel`, { body: { reason: "never mind" } });
    expect((await create({ templateId: t.competitive, tier: "major", startTime: iso(base + HOUR + 12_000), endTime: iso(base + 2 * HOUR) })).status).toBe(201);
  });
});

describe("run-time settings", () => {
  it("a rule changed through the admin API applies to the next decision and survives a calendar rebuild", async () => {
    const t = await templates();
    const base = privateBase();
    await create({ templateId: t.seasonal, tier: "major", startTime: iso(base), endTime: iso(base + DAY) });
    const body = { templateId: t.competitive, tier: "major", startTime: iso(base + DAY + 60 * HOUR), endTime: iso(base + 5 * DAY) };
    expect((await call("POST", "/v1/admin/schedule/validate", { body })).json.ok).toBe(true);
    try {
      const put = await call("PUT", "/v1/admin/settings", { body: { majorGapHours: 72 } });
      expect(put.json).toMatchObject({ majorGapHours: 72, maxConcurrent: 4 });
      const dry = await call("POST", "/v1/admin/schedule/validate", { body });
      expect(dry.json.conflicts).toEqual([expect.objectContaining({ rule: "major_gap", limit: 72 * HOUR })]);
      const stub = calendarStub();
      await inCalendar(stub, (_o, state) => state.storage.deleteAll());
      await evictDurableObject(stub);
      expect((await call("GET", "/v1/admin/settings")).json.majorGapHours).toBe(72);
    } finally {
      await call("PUT", "/v1/admin/settings", { body: { majorGapHours: 48 } });
    }
    expect((await call("POST", "/v1/admin/schedule/validate", { body })).json.ok).toBe(true);
  });
});

describe("override, dry run and bad input", () => {
  it("force with a reason overrides and is audited with who and why; force without a reason is 400", async () => {
    const t = await templates();
    const base = privateBase();
    await create({ templateId: t.seasonal, startTime: iso(base), endTime: iso(base + DAY) });
    await create({ templateId: t.seasonal, startTime: iso(base), endTime: iso(base + DAY) });
    const body = { templateId: t.seasonal, startTime: iso(base), endTime: iso(base + DAY) };
    expect((await create(body)).status).toBe(409);

    const noReason = await create({ ...body, force: true });
    expect(noReason.status).toBe(400);
    expect(noReason.json.error.message).toContain("reason is required when force is true");

    // Setting the rules aside is an admin's call (they set them); an operator's force is 403.
    const otto = await apiKey({ name: "otto-forcer", role: "operator" });
    const notAllowed = await create({ ...body, force: true, reason: "holiday crossover agreed with marketing" }, otto.key);
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.json.error.details).toMatchObject({ required: "admin", fields: ["force"] });
    const dana = await apiKey({ name: "dana", role: "admin" });
    const forced = await create({ ...body, force: true, reason: "holiday crossover agreed with marketing" }, dana.key);
    expect(forced.status).toBe(201);
    expect(forced.json.transitions[0]).toMatchObject({
      actor: dana.actor,
      reason: "holiday crossover agreed with marketing",
      details: { forced: true, overriddenRules: ["max_concurrent_same_type"] },
    });
    const row = await env.DB.prepare("SELECT actor, reason, details FROM event_transitions WHERE event_id = ?").bind(forced.json.eventId).first<any>();
    expect(row.actor).toBe(dana.actor);
    expect(JSON.parse(row.details).overriddenRules).toEqual(["max_concurrent_same_type"]);
  });

  it("the dry run gives the same answer as the real create and writes nothing", async () => {
    const t = await templates();
    const base = privateBase();
    const ok = { templateId: t.crossover, startTime: iso(base), endTime: iso(base + DAY) };
    expect((await call("POST", "/v1/admin/schedule/validate", { body: ok })).json).toEqual({ ok: true, conflicts: [] });
    await create(ok);
    await create(ok);
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM instances").first<{ n: number }>())!.n;
    const dry = await call("POST", "/v1/admin/schedule/validate", { body: ok });
    expect(dry.status).toBe(200);
    expect(dry.json.ok).toBe(false);
    const real = await create(ok);
    expect(real.status).toBe(409);
    expect(dry.json.conflicts).toEqual(real.json.error.details.conflicts);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM instances").first<{ n: number }>())!.n).toBeGreaterThanOrEqual(before);
    const windows = await calendarWindows();
    expect(windows.filter((w) => w.start === base)).toHaveLength(2);
    // Invalid input is refused by the dry run exactly as by the create.
    const bad = { ...ok, endTime: iso(base - HOUR) };
    const dryBad = await call("POST", "/v1/admin/schedule/validate", { body: bad });
    const realBad = await create(bad);
    expect([dryBad.status, realBad.status]).toEqual([422, 422]);
    expect(dryBad.json.error).toEqual(realBad.json.error);
  });

  it("unknown tier, past window, inverted window and over-long window are clear 4xx that change nothing", async () => {
    const t = await templates();
    const base = privateBase();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ tier: "legendary", startTime: iso(base), endTime: iso(base + DAY) }, 422, "tier must be one of"],
      [{ startTime: iso(Date.now() - DAY), endTime: iso(Date.now() + DAY) }, 422, "startTime must not be in the past"],
      [{ startTime: iso(base + DAY), endTime: iso(base) }, 422, "endTime must be after startTime"],
      [{ startTime: iso(base), endTime: iso(base + 91 * DAY) }, 422, "endTime must be at most 90 days after startTime"],
    ];
    for (const [body, status, message] of cases) {
      const res = await create({ templateId: t.gacha, ...body });
      expect(res.status, JSON.stringify(res.json)).toBe(status);
      expect(res.json.error.message).toContain(message);
    }
    const windows = await calendarWindows();
    expect(windows.filter((w) => w.start >= base - DAY && w.start <= base + DAY)).toEqual([]);
    const tpl = await call("GET", `/v1/admin/templates/${t.gacha}`);
    expect(tpl.json.usageCount).toBe(0);
  });
});

describe("rescheduling and releases keep the calendar in step with the events", () => {
  it("PATCH moves a window through the rules; a running event may only move its end", async () => {
    const t = await templates();
    const base = privateBase();
    const a = (await create({ templateId: t.seasonal, startTime: iso(base), endTime: iso(base + DAY) })).json;
    const b = (await create({ templateId: t.seasonal, startTime: iso(base), endTime: iso(base + DAY) })).json;
    const c = (await create({ templateId: t.seasonal, startTime: iso(base + 2 * DAY), endTime: iso(base + 3 * DAY) })).json;
    const clash = await call("PATCH", `/v1/admin/events/${c.eventId}`, { body: { startTime: iso(base + HOUR) } });
    expect(clash.status).toBe(409);
    expect(clash.json.error.details.conflicts[0]).toMatchObject({ rule: "max_concurrent_same_type", conflictingEventIds: [a.eventId, b.eventId].sort() });
    expect((await call("GET", `/v1/admin/events/${c.eventId}`)).json.startTime).toBe(iso(base + 2 * DAY));

    const moved = await call("PATCH", `/v1/admin/events/${c.eventId}`, { body: { startTime: iso(base + DAY), endTime: iso(base + 4 * DAY) } });
    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ startTime: iso(base + DAY), endTime: iso(base + 4 * DAY) });
    expect(moved.json.transitions.at(-1)).toMatchObject({ cause: "ops_reschedule", fromState: "scheduled", toState: "scheduled" });
    const w = (await calendarWindows()).find((x) => x.eventId === c.eventId);
    expect([w.start, w.end]).toEqual([base + DAY, base + 4 * DAY]);

    expect((await call("PATCH", `/v1/admin/events/${c.eventId}`, { body: {} })).status).toBe(422);
    expect((await call("PATCH", `/v1/admin/events/${c.eventId}`, { body: { endTime: iso(base), force: true } })).status).toBe(400);
  });

  it("active events may extend their end but not move their start; the extension is checked", async () => {
    const t = await templates();
    const running = (await create({ templateId: t.cooperative, startTime: "now", endTime: iso(Date.now() + HOUR) })).json;
    expect(running.state).toBe("active");
    const startMove = await call("PATCH", `/v1/admin/events/${running.eventId}`, { body: { startTime: iso(Date.now() + HOUR) } });
    expect(startMove.status).toBe(422);
    expect(startMove.json.error.message).toContain("only endTime may change");
    const extended = await call("PATCH", `/v1/admin/events/${running.eventId}`, { body: { endTime: iso(Date.now() + 2 * HOUR) } });
    expect(extended.status).toBe(200);
    expect(extended.json.state).toBe("active");
    await call("POST", `/v1/admin/events/${running.eventId}/end-now`);
    expect((await call("PATCH", `/v1/admin/events/${running.eventId}`, { body: { endTime: iso(Date.now() + 3 * HOUR) } })).status).toBe(409);
  });

  it("cancelling releases the window: a create refused before is accepted after", async () => {
    const t = await templates();
    const base = privateBase();
    const a = (await create({ templateId: t.gacha, startTime: iso(base), endTime: iso(base + DAY) })).json;
    await create({ templateId: t.gacha, startTime: iso(base), endTime: iso(base + DAY) });
    const body = { templateId: t.gacha, startTime: iso(base), endTime: iso(base + DAY) };
    expect((await create(body)).status).toBe(409);
    await call("POST", `/v1/admin/events/${a.eventId}/cancel`, { body: { reason: "moved to next month" } });
    const w = (await calendarWindows()).find((x) => x.eventId === a.eventId);
    expect(w.state).toBe("cancelled");
    expect((await create(body)).status).toBe(201);
  });

  it("ending early releases the rest of the window", async () => {
    const t = await templates();
    const now = Date.now();
    const a = (await create({ templateId: t.crossover, startTime: "now", endTime: iso(now + 2 * HOUR) })).json;
    await create({ templateId: t.crossover, startTime: "now", endTime: iso(now + 2 * HOUR) });
    const candidate = { templateId: t.crossover, startTime: iso(now + HOUR), endTime: iso(now + 3 * HOUR) };
    const blocking = async () =>
      ((await call("POST", "/v1/admin/schedule/validate", { body: candidate })).json.conflicts as any[]).flatMap((c) => c.conflictingEventIds);
    expect(await blocking()).toContain(a.eventId);
    await call("POST", `/v1/admin/events/${a.eventId}/end-now`, { body: { reason: "exploit found" } });
    // Other test files may hold windows around now too, so assert on this event only.
    expect(await blocking()).not.toContain(a.eventId);
  });

  it("a wiped calendar rebuilds from D1 and keeps enforcing the rules", async () => {
    const t = await templates();
    const base = privateBase();
    await create({ templateId: t.competitive, startTime: iso(base), endTime: iso(base + DAY) });
    await create({ templateId: t.competitive, startTime: iso(base), endTime: iso(base + DAY) });
    const stub = calendarStub();
    await inCalendar(stub, (_o, state) => state.storage.deleteAll());
    await evictDurableObject(stub);
    const res = await create({ templateId: t.competitive, startTime: iso(base), endTime: iso(base + DAY) });
    expect(res.status).toBe(409);
    expect(res.json.error.details.conflicts[0].rule).toBe("max_concurrent_same_type");
  });
});
