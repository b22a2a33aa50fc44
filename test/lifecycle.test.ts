// The event lifecycle through the real EventActor: real alarms (runDurableObjectAlarm), and the actor's own
// tick(now) where a test needs to stand at a future instant without sleeping until it.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { EventActor } from "../src/actors/event/event-actor";
import { GRACE_PERIOD_MS } from "../src/domain/lifecycle";
import { HOUR, call, createEvent, createTemplate, inMs } from "./helpers";
import { until } from "./leaderboard-helpers";

const stubOf = (eventId: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(eventId));
const tick = (eventId: string, at: number) => runInDurableObject(stubOf(eventId), (o: EventActor) => o.tick(at));
const stateOf = async (eventId: string) => (await call("GET", `/v1/admin/events/${eventId}`)).json;
const d1Transitions = async (eventId: string) =>
  (await env.DB.prepare("SELECT from_state, to_state, cause FROM event_transitions WHERE event_id = ? ORDER BY seq").bind(eventId).all()).results;
const d1State = async (eventId: string) =>
  (await env.DB.prepare("SELECT state FROM instances WHERE event_id = ?").bind(eventId).first<{ state: string }>())?.state;
const scheduleRows = (eventId: string) =>
  runInDurableObject(stubOf(eventId), (_o, state) => state.storage.sql.exec("SELECT CASE key WHEN '' THEN kind ELSE kind || ':' || key END AS kind, due_at, attempt FROM schedule ORDER BY due_at").toArray());

// Alarms survive between tests; leave no armed alarm behind for the next test to trip over.
const touched: string[] = [];
afterEach(async () => {
  for (const id of touched.splice(0)) await runInDurableObject(stubOf(id), (_o, s) => s.storage.deleteAlarm());
});
async function event(body: Record<string, unknown> = {}, template?: { templateId: string }) {
  const t = template ?? (await createTemplate());
  const e = await createEvent(t.templateId, body);
  touched.push(e.eventId);
  return e;
}

describe("alarm-driven lifecycle", () => {
  it("scheduled → active → expired → archived on the instants, each once, mirrored into D1", async () => {
    const e = await event();
    const start = Date.parse(e.startTime);
    const end = Date.parse(e.endTime);

    await tick(e.eventId, start - 1);
    expect((await stateOf(e.eventId)).state).toBe("scheduled");
    await tick(e.eventId, start);
    expect((await stateOf(e.eventId)).state).toBe("active");
    await tick(e.eventId, end - 1);
    expect((await stateOf(e.eventId)).state).toBe("active");
    await tick(e.eventId, end);
    expect((await stateOf(e.eventId)).state).toBe("expired");
    await tick(e.eventId, end + GRACE_PERIOD_MS - 1);
    expect((await stateOf(e.eventId)).state).toBe("expired");
    await tick(e.eventId, end + GRACE_PERIOD_MS);
    const final = await stateOf(e.eventId);
    expect(final.state).toBe("archived");
    expect(final.transitions.map((t: { toState: string }) => t.toState)).toEqual(["scheduled", "active", "expired", "archived"]);
    expect(await d1Transitions(e.eventId)).toEqual([
      { from_state: null, to_state: "scheduled", cause: "created" },
      { from_state: "scheduled", to_state: "active", cause: "start_time_reached" },
      { from_state: "active", to_state: "expired", cause: "end_time_reached" },
      { from_state: "expired", to_state: "archived", cause: "grace_period_elapsed" },
    ]);
    expect(await d1State(e.eventId)).toBe("archived");
    expect(await scheduleRows(e.eventId)).toEqual([]);
  });

  it("a real alarm activates a 'now' event and a real alarm expires it at endTime", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3000) });
    expect(e.state).toBe("active"); // activated inside the create call, not one alarm later
    const stub = stubOf(e.eventId);
    const end = Date.parse(e.endTime);
    // The alarm points at the earliest row: for so short an event, the expiration warning at its midpoint (unless a
    // loaded machine took that long to get here and the real alarm has already run it).
    const midpoint = end - Math.floor((end - Date.parse(e.startTime)) / 2);
    const alarm = await runInDurableObject(stub, (_o, s) => s.storage.getAlarm());
    if (Date.now() < midpoint) expect(alarm).toBe(midpoint);
    expect((await scheduleRows(e.eventId)).find((r) => r.kind === "expire")).toMatchObject({ due_at: end });
    // Nobody fires anything by hand: the platform's own alarm expires the event at endTime.
    await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())));
    await until(() => stateOf(e.eventId), (v) => v.state === "expired", 10_000);
    await until(() => d1State(e.eventId), (v) => v === "expired", 5_000);
    const expired = (await stateOf(e.eventId)).transitions.find((t: { toState: string }) => t.toState === "expired");
    expect(Date.parse(expired.at)).toBeGreaterThanOrEqual(end);
    // Next: the analytics report 10 s after the expiry, then the auto-claim warning at endTime + 23 h, then the
    // archive (with auto-claim) at endTime + 24 h.
    const report = (await scheduleRows(e.eventId)).find((r) => r.kind === "report")!;
    expect(report.due_at).toBeGreaterThanOrEqual(end + 10_000);
    expect(await runInDurableObject(stub, (_o, s) => s.storage.getAlarm())).toBe(report.due_at);
    expect((await scheduleRows(e.eventId)).map((r) => r.kind)).toEqual(["report", "notify:auto_claim_warning", "archive"]);
  });

  it("an early or repeated alarm never double-transitions", async () => {
    const e = await event();
    const stub = stubOf(e.eventId);
    // Fired an hour early (as a duplicate delivery would be): nothing moves, the alarm is re-armed at startTime.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stateOf(e.eventId)).state).toBe("scheduled");
    expect(await runInDurableObject(stub, (_o, s) => s.storage.getAlarm())).toBe(Date.parse(e.startTime));
    const start = Date.parse(e.startTime);
    await tick(e.eventId, start);
    await tick(e.eventId, start);
    await tick(e.eventId, start + 1000);
    const view = await stateOf(e.eventId);
    expect(view.transitions).toHaveLength(2);
    expect(await d1Transitions(e.eventId)).toHaveLength(2);
  });

  it("a late alarm catches up: an event found past its end activates and expires in one tick", async () => {
    const e = await event();
    await tick(e.eventId, Date.parse(e.endTime) + 5);
    const view = await stateOf(e.eventId);
    expect(view.transitions.map((t: { toState: string }) => t.toState)).toEqual(["scheduled", "active", "expired"]);
  });
});

describe("ops transitions", () => {
  it("pause keeps endTime and still expires at it; resume may move endTime", async () => {
    const e = await event({ startTime: "now", endTime: inMs(2 * HOUR) });
    const paused = await call("POST", `/v1/admin/events/${e.eventId}/pause`, { body: { reason: "bug in boss fight" } });
    expect(paused.json).toMatchObject({ state: "paused", endTime: e.endTime });
    const newEnd = inMs(3 * HOUR);
    const resumed = await call("POST", `/v1/admin/events/${e.eventId}/resume`, { body: { endTime: newEnd } });
    expect(resumed.json).toMatchObject({ state: "active", endTime: new Date(newEnd).toISOString(), scheduledEndTime: e.endTime });
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    await tick(e.eventId, Date.parse(newEnd));
    const view = await stateOf(e.eventId);
    expect(view.state).toBe("expired");
    expect(view.transitions.slice(1).map((t: { cause: string; reason: string | null }) => [t.cause, t.reason])).toEqual([
      ["start_time_reached", null],
      ["ops_pause", "bug in boss fight"],
      ["ops_resume", null],
      ["ops_pause", null],
      ["end_time_reached", null],
    ]);
  });

  it("end-now expires at once and starts the 24 h grace period from that moment", async () => {
    const e = await event({ startTime: "now", endTime: inMs(5 * HOUR) });
    const before = Date.now();
    const ended = await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "exploit" } });
    expect(ended.status).toBe(200);
    expect(ended.json.state).toBe("expired");
    expect(Date.parse(ended.json.endTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(ended.json.endTime)).toBeLessThanOrEqual(Date.now());
    const rows = await scheduleRows(e.eventId);
    expect(rows).toEqual([
      { kind: "report", due_at: Date.parse(ended.json.endTime) + 10_000, attempt: 0 },
      { kind: "notify:auto_claim_warning", due_at: Date.parse(ended.json.endTime) + GRACE_PERIOD_MS - HOUR, attempt: 0 },
      { kind: "archive", due_at: Date.parse(ended.json.endTime) + GRACE_PERIOD_MS, attempt: 0 },
    ]);
  });

  it("cancel removes every pending timer; a cancelled event never activates", async () => {
    const e = await event();
    expect((await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "duplicate" } })).json.state).toBe("cancelled");
    expect(await scheduleRows(e.eventId)).toEqual([]);
    await tick(e.eventId, Date.parse(e.startTime) + 1);
    expect((await stateOf(e.eventId)).state).toBe("cancelled");
    const again = await call("POST", `/v1/admin/events/${e.eventId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "illegal_transition", details: { state: "cancelled" } });
  });
});

describe("activation failure", () => {
  // The seed's "event data corruption" case: the stored instance stops parsing, so activation throws.
  const corrupt = (eventId: string) =>
    runInDurableObject(stubOf(eventId), (_o, s) => {
      s.storage.sql.exec("UPDATE doc SET json = json_set(json, '$.objectives', json('[]'))");
    });
  const repair = (eventId: string, objectives: unknown) =>
    runInDurableObject(stubOf(eventId), (_o, s) => {
      s.storage.sql.exec("UPDATE doc SET json = json_set(json, '$.objectives', json(?))", JSON.stringify(objectives));
    });

  it("retries 3 times with exponential backoff, then parks the event as failed_activation; ops retry it", async () => {
    const e = await event();
    const start = Date.parse(e.startTime);
    await corrupt(e.eventId);
    await tick(e.eventId, start);
    expect(await scheduleRows(e.eventId)).toEqual([{ kind: "activate", due_at: start + 1000, attempt: 1 }]);
    await tick(e.eventId, start + 1000);
    expect(await scheduleRows(e.eventId)).toEqual([{ kind: "activate", due_at: start + 1000 + 2000, attempt: 2 }]);
    await tick(e.eventId, start + 3000);
    expect(await scheduleRows(e.eventId)).toEqual([{ kind: "activate", due_at: start + 3000 + 4000, attempt: 3 }]);
    let view = await stateOf(e.eventId);
    expect(view).toMatchObject({ state: "scheduled", activationAttempts: 3, lastError: expect.stringContaining("invalid") });
    await tick(e.eventId, start + 7000);
    view = await stateOf(e.eventId);
    expect(view).toMatchObject({ state: "failed_activation", activationAttempts: 4 });
    expect(await d1State(e.eventId)).toBe("failed_activation");
    expect(await scheduleRows(e.eventId)).toEqual([]);
    // Visible to ops in the list.
    const listed = await call("GET", `/v1/admin/events?state=failed_activation&limit=200`);
    expect(listed.json.events.map((x: { eventId: string }) => x.eventId)).toContain(e.eventId);

    // Still broken: the retry goes back through the same backoff…
    const retried = await call("POST", `/v1/admin/events/${e.eventId}/retry-activation`, { body: { reason: "try again" } });
    expect(retried.json.state).toBe("scheduled");
    // The retry re-arms activation at startTime (still in this test's simulated future).
    expect(await scheduleRows(e.eventId)).toEqual([{ kind: "activate", due_at: start, attempt: 0 }]);
    await tick(e.eventId, start + 8000);
    expect((await stateOf(e.eventId)).activationAttempts).toBe(1);
    // Fixed: the next attempt activates.
    await repair(e.eventId, e.objectives);
    await tick(e.eventId, start + 9000);
    expect((await stateOf(e.eventId)).state).toBe("active");
  });

  it("recovers on a retry when the fault clears", async () => {
    const e = await event();
    const start = Date.parse(e.startTime);
    await corrupt(e.eventId);
    await tick(e.eventId, start);
    await repair(e.eventId, e.objectives);
    await tick(e.eventId, start + 1000);
    expect(await stateOf(e.eventId)).toMatchObject({ state: "active", activationAttempts: 2, lastError: null });
  });
});

describe("D1 projection", () => {
  it("a failed D1 write loses no transition: it is retried by the alarm until it lands", async () => {
    const t = await createTemplate();
    const marker = `d1-outage-${crypto.randomUUID()}`;
    // A real D1 failure, aimed at this one event so parallel test files are unaffected.
    await env.DB.exec(`CREATE TRIGGER fail_${marker.replaceAll("-", "_")} BEFORE INSERT ON instances WHEN NEW.custom_name = '${marker}' BEGIN SELECT RAISE(ABORT, 'injected outage'); END;`);
    const e = await event({ name: marker, startTime: "now" }, t);
    expect(e.state).toBe("active"); // the actor answered from its own storage
    expect(await d1State(e.eventId)).toBeUndefined();
    const rows = await scheduleRows(e.eventId);
    expect(rows.find((r) => r.kind === "sink:project")).toMatchObject({ attempt: 1 });

    await tick(e.eventId, Date.now() + 1500); // still failing: backoff doubles
    expect((await scheduleRows(e.eventId)).find((r) => r.kind === "sink:project")).toMatchObject({ attempt: 2 });

    await env.DB.exec(`DROP TRIGGER fail_${marker.replaceAll("-", "_")}`);
    await tick(e.eventId, Date.now() + 5000);
    expect(await d1State(e.eventId)).toBe("active");
    expect((await d1Transitions(e.eventId)).map((r) => r.to_state)).toEqual(["scheduled", "active"]);
    expect((await scheduleRows(e.eventId)).find((r) => r.kind === "sink:project")).toBeUndefined();
  });
});
