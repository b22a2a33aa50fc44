// A local-time event's wave pushes against a real HTTP push provider on 127.0.0.1 (test/webhook-server.ts serves
// /push): a preview, start or ending-soon wave is one topic push per group of its zones (`audience: "zones"`), so a
// zone no shard has ever seen is pushed too, at the instant its quiet hours allow, under a fixed webhook id.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { syncWaves, waveBatch } from "../src/actors/event/waves";
import { feedRows } from "../src/db/notifications";
import { HOUR, call, createTemplate, nextDstChange, playerToken, runInDurableObject, utcOn } from "./helpers";
import { connect } from "./live-helpers";
import { OBJ, eventStub, tick, tracked } from "./local-time-helpers";

// New York's next spring-forward (and fall-back) night, whatever today is: the tests read their instants from it.
const S = nextDstChange("America/New_York", true);

const MINUTE = 60_000;
const server = (path: string) => `${env.PUSH_WEBHOOK_URL.replace("/push", "")}${path}`;
const pushes = async (eventId: string) =>
  ((await (await fetch(server("/__received"))).json()) as any[]).filter((r) => r.path === "/push" && String(r.key).startsWith(`${eventId}:`));
const pushRows = async (id: string) =>
  ((await runInDurableObject(eventStub(id), (_o, s) => s.storage.sql.exec("SELECT key, due_at FROM schedule WHERE kind = 'wave' AND key LIKE 'push|%' ORDER BY due_at").toArray())) as any[]).map((r) => ({ ...r }));
/** Waits (a bounded while) for the queue consumer to deliver what `pred` looks for. */
async function arrived(eventId: string, pred: (r: any) => boolean) {
  for (let i = 0; i < 80; i++) {
    const found = (await pushes(eventId)).filter(pred);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}
/** Waves name Kolkata by its IANA name, the one phones report, never ICU's Asia/Calcutta (domain/zone-names.ts). */
const isKolkata = (z: string) => z === "Asia/Kolkata";

const { events } = tracked();

/** A pause or resume as the event object applies it (its doc, then its wave rows), at an instant of the test's choosing. */
const setState = (id: string, state: "paused" | "active", now: number) =>
  runInDurableObject(eventStub(id), (o: any) => {
    const next = { ...o.load().instance, state };
    o.save(next);
    syncWaves(o.sql, o.schedule, next, now);
  });

/** A mini local-time event (one shard) from a fresh template; its alarm is cleared after the test. */
async function localEvent(name: string, localTime: Record<string, unknown>) {
  const t = await createTemplate({ name, objectives: OBJ });
  const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", shardCount: 1, localTime } });
  expect(res.status).toBe(201);
  const id = res.json.eventId as string;
  events.push(id);
  return { id, res };
}

describe("a local-time wave's push reaches zones no shard has seen", () => {
  it("Kolkata's start, inside quiet hours: one zones push at 03:00 IST, none at the wave; London's ending soon at once; nobody twice", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const { id, res } = await localEvent("Zone Owls", lt);
    // Nobody joins, posts or opens a socket: no shard has seen a single player.
    await tick(id, Date.parse(res.json.startTime));
    const kolStart = utcOn(S, -1, 21, 0);
    const deferred = utcOn(S, -1, 21, 30);
    const startId = `${id}:start@${new Date(kolStart).toISOString()}`;
    await tick(id, kolStart);
    // 02:30 IST is quiet: the wave's push waits for 03:00 IST in a row of its own, and nothing went out yet.
    expect(await pushRows(id)).toContainEqual({ key: `push|${deferred}|start|start|${kolStart}`, due_at: deferred });
    await new Promise((r) => setTimeout(r, 500));
    expect((await pushes(id)).filter((r) => r.key.startsWith(startId))).toEqual([]);

    await tick(id, deferred);
    const [kol, ...again] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(again).toEqual([]);
    // Deferred 30 minutes: its own webhook id, the same on any retry.
    expect(kol).toMatchObject({ key: `${startId}:${waveBatch(30 * MINUTE, 0)}`, verified: true, status: 200, audience: "zones", type: "start", title: "Zone Owls has started" });
    expect(kol.playerIds).toBeUndefined();
    // The topic is the name a phone in Kolkata reports, whatever workerd's ICU calls the zone.
    expect(kol.zones).toContain("Asia/Kolkata");
    expect(kol.zones).not.toContain("Asia/Calcutta");
    // The feed (read at the wave's instant) shows the wave's row to a reader whose token says either name.
    for (const tz of ["Asia/Kolkata", "Asia/Calcutta"]) expect((await feedRows(env.DB, `feed-${tz}`, tz, deferred)).map((r) => r.notification_id), tz).toContain(startId);
    expect((await feedRows(env.DB, "feed-lon", "Europe/London", deferred)).map((r) => r.notification_id)).not.toContain(startId);
    expect(kol.zones).toContain("Asia/Colombo");
    expect(kol.zones).not.toContain("Europe/London");
    // The wave's feed row is marked sent by the push.
    const row = await env.DB.prepare("SELECT status FROM notification_queue WHERE notification_id = ?").bind(startId).first<any>();
    expect(row.status).toBe("sent");

    // The wave row retried a minute late (its handler failed before recording the wave): one feed row, the same push
    // row, and its push goes under the same webhook id as before, not a new one counted from the retry.
    const waveKey = `start|start|${kolStart}`;
    await runInDurableObject(eventStub(id), (_o, s) => {
      s.storage.sql.exec("DELETE FROM waves_fired WHERE key = ?", waveKey);
      s.storage.sql.exec("INSERT INTO schedule (kind, key, due_at, attempt) VALUES ('wave', ?, ?, 1)", waveKey, kolStart + 60_000);
    });
    await tick(id, kolStart + 60_000);
    expect(await pushRows(id)).toContainEqual({ key: `push|${deferred}|${waveKey}`, due_at: deferred });
    await tick(id, deferred);
    const kolPushes = async () => (await pushes(id)).filter((r) => r.key.startsWith(startId));
    for (let i = 0; i < 80 && (await kolPushes()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const retried = await kolPushes();
    expect(retried).toHaveLength(2);
    expect(new Set(retried.map((r) => r.key))).toEqual(new Set([kol.key]));
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM notification_queue WHERE notification_id = ?").bind(startId).first<any>()).n).toBe(1);

    // London's ending soon (01:30 GMT) is outside quiet hours: pushed at once, to its zones, under batch 0.
    const lonEnd = utcOn(S, 0, 3, 30);
    const urgencyId = `${id}:urgency@${new Date(lonEnd).toISOString()}`;
    await tick(id, lonEnd - 2 * HOUR);
    const [lon] = await arrived(id, (r) => r.key.startsWith(urgencyId));
    expect(lon).toMatchObject({ key: `${urgencyId}:${waveBatch(0, 0)}`, audience: "zones" });
    expect(lon.zones).toContain("Europe/London");
    expect(lon.zones).toContain("UTC");

    // No wave was pushed per player, and each wave's zones were each in exactly one of its pushes (the retried
    // Kolkata push is the same message again, under the same id).
    const all = await pushes(id);
    expect(all.filter((r) => r.audience === "players")).toEqual([]);
    const byKey = new Map(all.map((r) => [r.key, r]));
    const byWave = new Map<string, string[]>();
    for (const r of byKey.values()) {
      const wave = r.key.slice(0, r.key.lastIndexOf(":"));
      byWave.set(wave, [...(byWave.get(wave) ?? []), ...r.zones]);
    }
    for (const [wave, zones] of byWave) expect(new Set(zones).size, wave).toBe(zones.length);
    expect(byWave.get(startId)).toContain("Asia/Kolkata");
  });

  it("a push deferred past the zone's window is dropped; one still in time counts the time left from when it goes", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "22:00", end: "08:00" } };
    const { id, res } = await localEvent("Late Owls", lt);
    const lonStart = utcOn(S, 0, 2, 30);
    const previewId = `${id}:preview@${new Date(lonStart).toISOString()}`;
    // London's preview (02:30 GMT the day before) is quiet: it goes at 08:00, 18 h 30 before the start, and says so.
    await tick(id, lonStart - 24 * HOUR);
    const eight = utcOn(S, -1, 8, 0);
    expect(await pushRows(id)).toContainEqual({ key: `push|${eight}|preview|start|${lonStart}`, due_at: eight });
    await tick(id, eight);
    const [preview] = await arrived(id, (r) => r.key.startsWith(previewId));
    expect(preview).toMatchObject({ key: `${previewId}:${waveBatch(330 * MINUTE, 0)}`, audience: "zones", title: "Late Owls starts soon", body: "Get ready: the event opens in 19 hours." });
    expect(preview.zones).toContain("Europe/London");
    // 08:00 GMT is after London's 02:30–03:30: neither "has started" nor "ends soon" is worth sending then.
    await tick(id, Date.parse(res.json.startTime));
    await tick(id, lonStart);
    const dropped = [`start|start|${lonStart}`, `urgency|end|${lonStart + HOUR}`];
    expect((await pushRows(id)).filter((r) => dropped.some((k) => r.key.endsWith(k)))).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    const ids = [`${id}:start@${new Date(lonStart).toISOString()}`, `${id}:urgency@${new Date(lonStart + HOUR).toISOString()}`];
    expect((await pushes(id)).filter((r) => ids.some((i) => r.key.startsWith(i)))).toEqual([]);
  });

  it("pause then resume keeps the deferred pushes: Kolkata's goes at 03:00 IST; London's, due after its window closed, is dropped", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const { id, res } = await localEvent("Paused Owls", lt);
    const kolStart = utcOn(S, -1, 21, 0);
    const deferred = utcOn(S, -1, 21, 30);
    const kolKey = `push|${deferred}|start|start|${kolStart}`;
    await tick(id, Date.parse(res.json.startTime));
    await tick(id, kolStart);
    expect(await pushRows(id)).toContainEqual({ key: kolKey, due_at: deferred });
    const before = (await pushRows(id)).map((r) => r.key).sort();

    // Paused: nothing is pushed, the rows wait at the envelope's end; resumed: each is back at its own instant.
    expect((await call("POST", `/v1/admin/events/${id}/pause`, { body: {} })).json.state).toBe("paused");
    const parked = await pushRows(id);
    expect(parked.map((r) => r.key).sort()).toEqual(before);
    expect(parked.every((r) => r.due_at === Date.parse(res.json.endTime))).toBe(true);
    expect((await call("POST", `/v1/admin/events/${id}/resume`, { body: {} })).json.state).toBe("active");
    expect(await pushRows(id)).toContainEqual({ key: kolKey, due_at: deferred });
    expect((await pushRows(id)).map((r) => r.key).sort()).toEqual(before);

    await tick(id, deferred);
    const startId = `${id}:start@${new Date(kolStart).toISOString()}`;
    const [kol, ...again] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(again).toEqual([]);
    expect(kol).toMatchObject({ key: `${startId}:${waveBatch(30 * MINUTE, 0)}`, audience: "zones", type: "start", title: "Paused Owls has started" });
    expect(kol.zones.some(isKolkata)).toBe(true);

    // London's start (02:30 GMT, quiet) waits for 03:00 GMT; after a pause and resume, an alarm that comes only at
    // 03:31, when London's window has closed, sends London nothing.
    const lonStart = utcOn(S, 0, 2, 30);
    const lon3 = utcOn(S, 0, 3, 0);
    await tick(id, lonStart);
    expect(await pushRows(id)).toContainEqual({ key: `push|${lon3}|start|start|${lonStart}`, due_at: lon3 });
    await call("POST", `/v1/admin/events/${id}/pause`, { body: {} });
    await call("POST", `/v1/admin/events/${id}/resume`, { body: {} });
    await tick(id, lonStart + HOUR + 60_000);
    expect((await pushRows(id)).filter((r) => r.key.endsWith(`start|start|${lonStart}`))).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    const lonId = `${id}:start@${new Date(lonStart).toISOString()}`;
    expect((await pushes(id)).filter((r) => r.key.startsWith(lonId))).toEqual([]);
  });

  it("a resume inside quiet hours holds the late push until they end, under the same webhook id", { timeout: 40_000 }, async () => {
    // A 25-hour window: Kolkata's is still open the next night, when the resume lands inside its quiet hours.
    const S1 = new Date(Date.parse(`${S}T00:00:00Z`) + 24 * HOUR).toISOString().slice(0, 10);
    const lt = { start: `${S}T02:30`, end: `${S1}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const { id, res } = await localEvent("Night Owls", lt);
    await tick(id, Date.parse(res.json.startTime));
    const kolStart = utcOn(S, -1, 21, 0);
    const deferred = utcOn(S, -1, 21, 30);
    const key = `push|${deferred}|start|start|${kolStart}`;
    await tick(id, kolStart);
    expect(await pushRows(id)).toContainEqual({ key, due_at: deferred });
    // Paused at 02:40 IST, resumed at 02:15 IST the next night: the push is late, and Kolkata is quiet again.
    await setState(id, "paused", kolStart + 10 * MINUTE);
    const resumed = utcOn(S, 0, 20, 45);
    await setState(id, "active", resumed);
    await tick(id, resumed);
    const nextEnd = utcOn(S, 0, 21, 30); // 03:00 IST the next night
    expect(await pushRows(id)).toContainEqual({ key, due_at: nextEnd });
    await new Promise((r) => setTimeout(r, 500));
    const startId = `${id}:start@${new Date(kolStart).toISOString()}`;
    expect((await pushes(id)).filter((r) => r.key.startsWith(startId))).toEqual([]);
    await tick(id, nextEnd);
    const [kol, ...again] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(again).toEqual([]);
    expect(kol).toMatchObject({ key: `${startId}:${waveBatch(30 * MINUTE, 0)}`, audience: "zones", title: "Night Owls has started" });
    expect(kol.zones).toContain("Asia/Kolkata");
    expect(await pushRows(id)).not.toContainEqual(expect.objectContaining({ key }));
  });

  it("a push row booked after a pause overtook its wave's handler parks while paused and goes after the resume", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const { id, res } = await localEvent("Race Owls", lt);
    await tick(id, Date.parse(res.json.startTime));
    const kolStart = utcOn(S, -1, 21, 0);
    const deferred = utcOn(S, -1, 21, 30);
    const key = `push|${deferred}|start|start|${kolStart}`;
    await tick(id, kolStart);
    // The pause landed while the wave's handler awaited: the doc says paused, the push row sits at its own instant.
    await runInDurableObject(eventStub(id), (o: any) => o.save({ ...o.load().instance, state: "paused" }));
    await tick(id, deferred);
    expect(await pushRows(id)).toContainEqual({ key, due_at: Date.parse(res.json.endTime) });
    const startId = `${id}:start@${new Date(kolStart).toISOString()}`;
    await new Promise((r) => setTimeout(r, 300));
    expect((await pushes(id)).filter((r) => r.key.startsWith(startId))).toEqual([]);
    // Resumed a minute later (03:01 IST, past quiet hours): the row is back, and its push goes under its own id.
    await setState(id, "active", deferred + MINUTE);
    expect(await pushRows(id)).toContainEqual({ key, due_at: deferred + MINUTE });
    await tick(id, deferred + MINUTE);
    const [kol, ...again] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(again).toEqual([]);
    expect(kol).toMatchObject({ key: `${startId}:${waveBatch(30 * MINUTE, 0)}`, audience: "zones" });
    expect(kol.zones).toContain("Asia/Kolkata");
  });

  it("a deferred push counts from the wave's first attempt even when the wave's own row was never recorded", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const { id, res } = await localEvent("Begun Owls", lt);
    await tick(id, Date.parse(res.json.startTime));
    const kolStart = utcOn(S, -1, 21, 0);
    const deferred = utcOn(S, -1, 21, 30);
    await tick(id, kolStart);
    // As if the handler had thrown after booking the push row, before recording the wave (it is written last).
    await runInDurableObject(eventStub(id), (_o, s) => s.storage.sql.exec("DELETE FROM waves_fired WHERE key = ?", `start|start|${kolStart}`));
    await tick(id, deferred);
    const startId = `${id}:start@${new Date(kolStart).toISOString()}`;
    const [kol, ...again] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(again).toEqual([]);
    expect(kol.key).toBe(`${startId}:${waveBatch(30 * MINUTE, 0)}`);
  });

  it("a start wave that fires after its zones' windows closed tells them nothing: no feed row, frame or push for Kolkata; Karachi, still open, is told", { timeout: 40_000 }, async () => {
    const { id, res } = await localEvent("Tardy Owls", { start: `${S}T02:30`, end: `${S}T03:30` });
    // A player in Kolkata has a socket open: the shard would send them the wave's frame.
    const { client } = await connect(id, await playerToken("tardy-kol", { tz: "Asia/Kolkata" }));
    await tick(id, Date.parse(res.json.startTime));
    const kolStart = utcOn(S, -1, 21, 0);
    const karStart = utcOn(S, -1, 21, 30);
    // The alarm comes 10 minutes after Kolkata's window (21:00–22:00 UTC) closed: its start row is due, and late.
    const late = kolStart + HOUR + 10 * 60_000;
    await tick(id, late);
    const rows = (await env.DB.prepare("SELECT notification_id, payload FROM notification_queue WHERE event_id = ? AND notification_type = 'start' AND payload IS NOT NULL").bind(id).all<any>()).results;
    const kolId = `${id}:start@${new Date(kolStart).toISOString()}`;
    const karId = `${id}:start@${new Date(karStart).toISOString()}`;
    expect(rows.map((r) => r.notification_id)).not.toContain(kolId);
    expect(rows.map((r) => r.notification_id)).toContain(karId);
    expect(rows.flatMap((r) => JSON.parse(r.payload).zones).some(isKolkata)).toBe(false);
    expect(JSON.parse(rows.find((r) => r.notification_id === karId).payload).zones).toContain("Asia/Karachi");
    const [kar] = await arrived(id, (r) => r.key.startsWith(karId));
    expect(kar).toMatchObject({ key: `${karId}:${waveBatch(0, 0)}`, audience: "zones" });
    await new Promise((r) => setTimeout(r, 300));
    const started = (await pushes(id)).filter((r) => r.type === "start");
    expect(started.filter((r) => r.key.startsWith(kolId) || r.zones.some(isKolkata))).toEqual([]);
    // Its preview (on time, at the envelope's start) reached the socket; no "has started" did.
    expect(client!.frames.filter((f) => f.type === "notification").map((f) => f.notificationType)).toEqual(["preview"]);
    client!.ws.close(1000, "done");
  });

  it("two push instants of one wave 20 s apart get two webhook ids: New York at once, Bogota at its quiet hours' end", { timeout: 40_000 }, async () => {
    const t = await createTemplate({ name: "Second Owls", objectives: OBJ });
    // 01:30 on the spring-forward night: New York and Bogota (−5) open at one instant, 06:30 UTC. The alarm comes late,
    // at 07:00:40 UTC: New York reads 03:00:40 EDT (outside 01:00–02:01), Bogota 02:00:40 (inside until 02:01).
    const lt = { start: `${S}T01:30`, end: `${S}T05:00`, quietHours: { start: "01:00", end: "02:01" } };
    const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", shardCount: 1, localTime: lt } });
    const id = res.json.eventId as string;
    events.push(id);
    const at = utcOn(S, 0, 6, 30);
    const firedAt = utcOn(S, 0, 7, 0) + 40_000;
    const bogota = utcOn(S, 0, 7, 1);
    const startId = `${id}:start@${new Date(at).toISOString()}`;
    await tick(id, Date.parse(res.json.startTime));
    await tick(id, firedAt);
    expect(await pushRows(id)).toContainEqual({ key: `push|${bogota}|start|start|${at}`, due_at: bogota });
    await tick(id, bogota);
    const sent = await arrived(id, (r) => r.key === `${startId}:${waveBatch(20_000, 0)}`);
    const all = (await pushes(id)).filter((r) => r.key.startsWith(startId));
    expect(all.map((r) => r.key).sort()).toEqual([`${startId}:${waveBatch(0, 0)}`, `${startId}:${waveBatch(20_000, 0)}`]);
    expect(sent[0].zones).toContain("America/Bogota");
    expect(all.find((r) => r.key === `${startId}:${waveBatch(0, 0)}`).zones).toContain("America/New_York");
    // Each of the wave's zones is in exactly one delivered push.
    const named = all.flatMap((r) => r.zones as string[]);
    expect(new Set(named).size).toBe(named.length);
  });

  it("quiet hours ending in the spring-forward gap: New York's push goes at the first instant after it, Bogota's (same wave, no DST) at its own 02:30", { timeout: 40_000 }, async () => {
    const t = await createTemplate({ name: "Gap Owls", objectives: OBJ });
    // 01:30 on the night New York skips 02:00–03:00; quiet 01:00–02:30, whose end does not exist there that night.
    const lt = { start: `${S}T01:30`, end: `${S}T05:00`, quietHours: { start: "01:00", end: "02:30" } };
    const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", shardCount: 1, localTime: lt } });
    const id = res.json.eventId as string;
    events.push(id);
    // 01:30 EST and 01:30 in Bogota (−5 all year) are one instant, one wave, one feed row.
    const at = utcOn(S, 0, 6, 30);
    const gapEnd = utcOn(S, 0, 7, 0); // 02:00 EST becomes 03:00 EDT
    const bogota = utcOn(S, 0, 7, 30); // 02:30 −5
    const startId = `${id}:start@${new Date(at).toISOString()}`;
    await tick(id, Date.parse(res.json.startTime));
    await tick(id, at);
    const rows = await pushRows(id);
    expect(rows).toContainEqual({ key: `push|${gapEnd}|start|start|${at}`, due_at: gapEnd });
    expect(rows).toContainEqual({ key: `push|${bogota}|start|start|${at}`, due_at: bogota });
    await tick(id, gapEnd);
    const [ny, ...more] = await arrived(id, (r) => r.key.startsWith(startId));
    expect(more).toEqual([]);
    expect(ny).toMatchObject({ key: `${startId}:${waveBatch(30 * MINUTE, 0)}`, audience: "zones", type: "start" });
    expect(ny.zones).toContain("America/New_York");
    expect(ny.zones).not.toContain("America/Bogota");
    await tick(id, bogota);
    const co = (await arrived(id, (r) => r.key === `${startId}:${waveBatch(60 * MINUTE, 0)}`))[0];
    expect(co.zones).toContain("America/Bogota");
    expect(co.zones).not.toContain("America/New_York");
    expect((await pushes(id)).filter((r) => r.key.startsWith(startId))).toHaveLength(2);
  });
});
