// Events in players' local time through the real Worker, EventActor and progress shard: the UTC envelope and bad input
// at create, the `tz` claim and its fallback, progress refused outside the player's own window (HTTP and socket), and
// the lifecycle driven by the event object's alarms through a spring-forward and a fall-back night: activation, the
// per-zone waves, quiet hours deferring push and never the feed.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { envelope, waves, zoneWindow } from "../src/domain/local-time";
import { toLocal } from "../src/domain/zoned";
import { waveBatch } from "../src/actors/event/waves";
import { HOUR, call, createTemplate, dayOf, nextDstChange, playerToken, runInDurableObject, utcOn } from "./helpers";
import { connect, type Client } from "./live-helpers";
import { eventStub, OBJ, tick, tracked } from "./local-time-helpers";

// New York's next spring-forward (and fall-back) night, whatever today is: the tests read their instants from it.
const S = nextDstChange("America/New_York", true);
const F = nextDstChange("America/New_York", false);

const shardStub = (id: string) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(`${id}:0`));
const waveRows = async (id: string) =>
  (await runInDurableObject(eventStub(id), (_o, s) => s.storage.sql.exec("SELECT key, due_at FROM schedule WHERE kind = 'wave' ORDER BY due_at, key").toArray())) as { key: string; due_at: number }[];
/** The shard's own gate at a chosen instant, for the player as their token names them. */
const gate = (id: string, playerId: string, tz: string, at: number) =>
  runInDurableObject(shardStub(id), (o) => o.localTime.gate(o.info, { playerId, level: 1, clan: null, tz }, at)) as Promise<{ code: string; details: any } | null>;
const feed = async (id: string) =>
  (await env.DB.prepare("SELECT notification_id, notification_type, target_player_id, status FROM notification_queue WHERE event_id = ? AND target_player_id IS NOT NULL ORDER BY notification_id").bind(id).all<any>()).results;

/** The event's wave broadcasts (preview, start, ending soon): one row per wave, naming its zones. */
const broadcasts = async (id: string) =>
  (await env.DB.prepare("SELECT notification_id, notification_type, status, payload FROM notification_queue WHERE event_id = ? AND target_player_id IS NULL AND payload IS NOT NULL ORDER BY notification_id").bind(id).all<any>()).results.map((r) => ({ ...r, zones: JSON.parse(r.payload).zones as string[] }));
/** Waves name Kolkata by its IANA name, never ICU's Asia/Calcutta (domain/zone-names.ts). */
const isKolkata = (z: string) => z === "Asia/Kolkata";
const inZone = (zone: string) => (r: { zones: string[] }) => r.zones.includes(zone);

const { events, sockets } = tracked();

async function localEvent(localTime: Record<string, unknown>, template: Record<string, unknown> = {}) {
  const t = await createTemplate({ ...template, name: "Night Owls", objectives: OBJ, milestones: [{ index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "a", type: "currency", itemId: "coins", quantity: 1 }] }] });
  const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", shardCount: 1, localTime } });
  if (res.status === 201) events.push(res.json.eventId);
  return res;
}
const post = async (id: string, playerId: string, claims: Record<string, unknown>, seq = 1) =>
  call("POST", `/v1/events/${id}/progress`, { token: await playerToken(playerId, claims), body: { updates: [{ objectiveId: "pts", amount: 1, seq }] } });

describe("creating a local-time event", () => {
  it("startTime/endTime are the exact UTC envelope over every zone: Kiritimati's start to Niue's end", async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30` };
    const res = await localEvent(lt);
    expect(res.status).toBe(201);
    // 02:30 at +14 (Pacific/Kiritimati) and 03:30 at −11 (Pacific/Niue, Pago_Pago); workerd's own zone list.
    expect([res.json.startTime, res.json.endTime]).toEqual([`${dayOf(S, -1)}T12:30:00.000Z`, `${S}T14:30:00.000Z`]);
    const env2 = envelope(lt)!;
    expect([env2.start, env2.end]).toEqual([Date.parse(res.json.startTime), Date.parse(res.json.endTime)]);
    expect(res.json).toMatchObject({ state: "scheduled", localTime: lt });
    // Each caller's own window: empty in New York (the spring-forward gap swallows it), upcoming in London.
    const mine = async (tz: string) => (await call("GET", `/v1/events/${res.json.eventId}`, { token: await playerToken(`view-${tz}`, { tz }) })).json.localWindow;
    expect(await mine("America/New_York")).toMatchObject({ state: "empty", start: `${S}T07:30:00.000Z`, end: `${S}T07:30:00.000Z`, timeUntilStart: 0, timeRemaining: 0 });
    const lon = await mine("Europe/London");
    expect(lon).toMatchObject({ state: "upcoming", start: `${S}T02:30:00.000Z` });
    expect(lon.timeRemaining - lon.timeUntilStart).toBe(3600);
    // The scheduler counts the envelope: the calendar's window is the same.
    const windows = await runInDurableObject(env.SCHEDULER_ACTOR.get(env.SCHEDULER_ACTOR.idFromName("global")), (o) => o.windows());
    expect(windows.find((w: any) => w.eventId === res.json.eventId)).toMatchObject({ start: env2.start, end: env2.end });
    // A window that follows wall clocks cannot have its envelope moved by hand.
    const moved = await call("PATCH", `/v1/admin/events/${res.json.eventId}`, { body: { endTime: `${dayOf(S, 1)}T00:00:00Z` } });
    expect(moved.status).toBe(409);
    expect(moved.json.error.message + JSON.stringify(moved.json.error.details)).toContain("local-time event cannot be rescheduled");
  });

  it("refuses bad input with a 4xx naming the field", async () => {
    const t = await createTemplate({ objectives: OBJ });
    const cases: [Record<string, unknown>, string][] = [
      [{ localTime: { start: `${S}T10:00`, end: `${S}T09:00` } }, "localTime.end"],
      [{ localTime: { start: `${S}T10:00:00Z`, end: `${S}T12:00` } }, "localTime.start"],
      [{ localTime: { start: "2027-02-29T10:00", end: `${S}T12:00` } }, "localTime.start"],
      [{ localTime: { start: `${S}T10:00`, end: `${S}T12:00`, quietHours: { start: "22:00" } } }, "localTime.quietHours.end"],
      [{ localTime: { start: `${S}T10:00`, end: `${S}T12:00`, quietHours: { start: "25:00", end: "08:00" } } }, "localTime.quietHours.start"],
      [{ localTime: { start: `${S}T10:00`, end: `${S}T12:00` }, startTime: `${S}T10:00:00Z` }, "startTime"],
      [{ localTime: { start: "2020-03-14T10:00", end: "2020-03-14T12:00" } }, "localTime.end"],
      [{}, "startTime"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", ...body } });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.json.error.details.fields.map((p: any) => p.path), JSON.stringify(body)).toContain(path);
    }
  });

  it("a player token whose tz is not an IANA zone is refused (401); a known one is used canonically", async () => {
    for (const tz of ["Mars/Olympus", "Etc/GMT+12"]) {
      const res = await call("GET", "/v1/events/active", { token: await playerToken("p-bad-tz", { tz }) });
      expect(res.status, tz).toBe(401);
      expect(res.json.error.code).toBe("unauthorized");
      // The signature held, so the answer names the claim: the game's developers need not guess.
      expect(res.json.error.message).toBe(`player token refused: its tz claim "${tz}" is not a time zone this server knows (an IANA name such as Europe/London)`);
    }
    expect((await call("GET", "/v1/events/active", { token: await playerToken("p-good-tz", { tz: "Asia/Kolkata" }) })).status).toBe(200);
    // A device on old tz data reports Europe/Kiev: its window says the topic the event's wave pushes go to.
    const eventId = (await localEvent({ start: `${S}T02:30`, end: `${S}T03:30` })).json.eventId;
    const kiev = await call("GET", `/v1/events/${eventId}`, { token: await playerToken("p-kiev", { tz: "Europe/Kiev" }) });
    expect(kiev.status).toBe(200);
    expect(kiev.json.localWindow.pushTopic).toBe("Europe/Kyiv");
  });
});

describe("progress only inside the player's own window", () => {
  it("HTTP and socket: Kolkata's window is open now, New York's and the UTC fallback's are hours away", async () => {
    const now = Date.now();
    const start = toLocal(now, "Asia/Kolkata").slice(0, 16);
    const end = toLocal(now + 2 * HOUR, "Asia/Kolkata").slice(0, 16);
    const res = await localEvent({ start, end });
    expect(res.status).toBe(201);
    // Created after the earliest zones began: it is active at once, from now.
    expect(res.json.state).toBe("active");
    const id = res.json.eventId;
    expect((await post(id, "kol", { tz: "Asia/Kolkata" })).status).toBe(200);
    // The zone is named as the token spelled it (workerd's ICU would say Asia/Calcutta).
    const zones = await runInDurableObject(shardStub(id), (_o, s) => s.storage.sql.exec("SELECT tz FROM player_zones WHERE player_id = 'kol'").toArray());
    expect(zones).toEqual([{ tz: "Asia/Kolkata" }]);
    const ny = await post(id, "ny", { tz: "America/New_York" });
    expect(ny.status).toBe(409);
    expect(ny.json.error).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "America/New_York", localStart: start, localEnd: end } } });
    expect(Date.parse(ny.json.error.details.window.start)).toBeGreaterThan(now + 9 * HOUR);
    // The player's view of the event says when their own window is.
    const seen = await call("GET", `/v1/events/${id}`, { token: await playerToken("ny", { tz: "America/New_York" }) });
    expect(seen.json.localWindow).toMatchObject({ ...ny.json.error.details.window, state: "upcoming", timeRemaining: seen.json.localWindow.timeUntilStart + 2 * 3600 });
    expect(seen.json.localWindow.timeUntilStart).toBeGreaterThan(9 * 3600);
    // No tz claim: DEFAULT_PLAYER_TIME_ZONE, UTC, 5 h 30 after Kolkata.
    const utc = await post(id, "no-tz", {});
    expect(utc.json.error).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "UTC" } } });
    expect(Date.parse(utc.json.error.details.window.start) - Date.parse(res.json.startTime)).toBeGreaterThan(5 * HOUR);

    const { client } = await connect(id, await playerToken("ny-socket", { tz: "America/New_York" }));
    sockets.push(client!);
    client!.send({ type: "progress", id: "x", updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] });
    expect(await client!.next((f) => f.type === "error" && f.id === "x")).toMatchObject({ code: "outside_local_window" });
    const { client: kol } = await connect(id, await playerToken("kol-socket", { tz: "Asia/Kolkata" }));
    sockets.push(kol!);
    kol!.send({ type: "progress", id: "y", updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] });
    expect((await kol!.next((f) => f.type === "ack" && f.id === "y")).progress).toMatchObject({ applied: [1] });
  });
});

describe("a player's zone is fixed for the event by their first accepted request", () => {
  it("Kiritimati then Niue: the second claim is judged by Kiritimati's window, not given a second one a day later", async () => {
    const now = Date.now();
    const res = await localEvent({ start: toLocal(now - HOUR, "Pacific/Kiritimati").slice(0, 16), end: toLocal(now + 2 * HOUR, "Pacific/Kiritimati").slice(0, 16) });
    const id = res.json.eventId;
    // Refused first (New York's window is a day away): the zone is not fixed yet, so the player may still move.
    expect((await post(id, "hopper", { tz: "America/New_York" })).json.error.code).toBe("outside_local_window");
    expect((await post(id, "hopper", { tz: "Pacific/Kiritimati" })).status).toBe(200);
    // Niue's window opens 25 h after Kiritimati's: with the claim switched, the player is still held to Kiritimati.
    const niueOpen = now + 25 * HOUR;
    const refused = await gate(id, "hopper", "Pacific/Niue", niueOpen);
    expect(refused).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "Pacific/Kiritimati" } } });
    expect(await gate(id, "fresh", "Pacific/Niue", niueOpen)).toBeNull();
    const zones = await runInDurableObject(shardStub(id), (_o, s) => s.storage.sql.exec("SELECT player_id, tz, fixed FROM player_zones ORDER BY player_id").toArray());
    expect(zones).toEqual([{ player_id: "fresh", tz: "Pacific/Niue", fixed: 1 }, { player_id: "hopper", tz: "Pacific/Kiritimati", fixed: 1 }]);
    expect((await post(id, "hopper", { tz: "Pacific/Niue" }, 2)).status).toBe(200);

    // Every view of the player's window reads the fixed zone, whatever today's token says: the event, the lists, the
    // socket's snapshot. A player with no fixed zone sees the token's.
    const niue = await playerToken("hopper", { tz: "Pacific/Niue" });
    const one = await call("GET", `/v1/events/${id}`, { token: niue });
    expect(one.json.localWindow).toMatchObject({ timeZone: "Pacific/Kiritimati", state: "open", timeUntilStart: 0 });
    expect(one.json.localWindow.timeRemaining).toBeGreaterThan(HOUR / 1000);
    expect(one.json.localWindow.timeRemaining).toBeLessThanOrEqual(2 * HOUR / 1000);
    const listed = (await call("GET", "/v1/events/active", { token: niue })).json.events.find((e: any) => e.eventId === id);
    expect(listed.localWindow).toMatchObject({ timeZone: "Pacific/Kiritimati", state: "open" });
    const calendar = (await call("GET", "/v1/calendar", { token: niue })).json.events.find((e: any) => e.eventId === id);
    expect(calendar.localWindow).toMatchObject({ timeZone: "Pacific/Kiritimati", state: "open" });
    const { client } = await connect(id, niue);
    sockets.push(client!);
    expect((await client!.next((f) => f.type === "event_state" && f.change === "snapshot")).localWindow).toMatchObject({ timeZone: "Pacific/Kiritimati", state: "open" });
    const other = await call("GET", `/v1/events/${id}`, { token: await playerToken("never-fixed", { tz: "Pacific/Niue" }) });
    expect(other.json.localWindow).toMatchObject({ timeZone: "Pacific/Niue", state: "upcoming", timeRemaining: 0 + other.json.localWindow.timeUntilStart + 3 * 3600 });
    expect(other.json.localWindow.timeUntilStart).toBeGreaterThan(22 * 3600);
  });
});

describe("the views' fixed-zone reads", () => {
  it("ask no event object: one whose object cannot answer falls back to the token's zone instead of failing /active, the calendar and the event", async () => {
    const now = Date.now();
    const res = await localEvent({ start: toLocal(now - HOUR, "Europe/London").slice(0, 16), end: toLocal(now + 2 * HOUR, "Europe/London").slice(0, 16) });
    expect(res.json.state).toBe("active");
    const id = res.json.eventId;
    // The event object loses its state (its D1 row still lists the event): it answers no timing any more.
    await runInDurableObject(eventStub(id), (_o, s) => s.storage.sql.exec("DELETE FROM doc"));
    expect(await runInDurableObject(eventStub(id), (o) => o.timing())).toBeNull();
    const token = await playerToken("orphan-reader", { tz: "Europe/London" });
    const active = await call("GET", "/v1/events/active", { token });
    expect(active.status).toBe(200);
    expect(active.json.events.find((e: any) => e.eventId === id).localWindow).toMatchObject({ timeZone: "Europe/London", state: "open" });
    const calendar = await call("GET", "/v1/calendar", { token });
    expect(calendar.status).toBe(200);
    expect(calendar.json.events.find((e: any) => e.eventId === id).localWindow).toMatchObject({ timeZone: "Europe/London", state: "open" });
  });
});

describe("a paused local-time event", () => {
  it("shows the caller's window by their clock (open) with the event's own state paused, and refuses progress", async () => {
    const now = Date.now();
    const res = await localEvent({ start: toLocal(now - HOUR, "Europe/London").slice(0, 16), end: toLocal(now + 2 * HOUR, "Europe/London").slice(0, 16) });
    const id = res.json.eventId;
    expect((await call("POST", `/v1/admin/events/${id}/pause`, { body: {} })).json.state).toBe("paused");
    const token = await playerToken("paused-reader", { tz: "Europe/London" });
    const seen = (await call("GET", `/v1/events/${id}`, { token })).json;
    expect(seen.state).toBe("paused");
    expect(seen.localWindow).toMatchObject({ timeZone: "Europe/London", state: "open" });
    const refused = await post(id, "paused-reader", { tz: "Europe/London" });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).not.toBe("outside_local_window");
  });
});

describe("wave push batch numbers", () => {
  it("stay distinct per (deferral in ms, batch) past 10,000 batches (a million players in one wave)", () => {
    const seen = new Set<number>();
    for (const ms of [0, 1, 20_000, 30 * 60_000, 24 * HOUR]) for (const i of [0, 1, 9_999, 10_000, 10_001, 999_999]) seen.add(waveBatch(ms, i));
    expect(seen.size).toBe(5 * 6);
    expect(Number.isSafeInteger(waveBatch(10 * 24 * HOUR, 999_999))).toBe(true);
  });
});

describe("a local-time event's expiration warning", () => {
  it("goes to the players of the ending wave who have unclaimed rewards, and to no one else", async () => {
    const now = Date.now();
    const lt = { start: toLocal(now - HOUR, "Europe/London").slice(0, 16), end: toLocal(now + 2 * HOUR, "Europe/London").slice(0, 16) };
    const id = (await localEvent(lt)).json.eventId;
    const body = (amount: number) => ({ updates: [{ objectiveId: "pts", amount, seq: 1 }] });
    for (const [p, amount] of [["rich", 5], ["poor", 1]] as const) {
      expect((await call("POST", `/v1/events/${id}/progress`, { token: await playerToken(p, { tz: "Europe/London" }), body: body(amount) })).status).toBe(200);
    }
    const end = zoneWindow(lt, "Europe/London").end;
    const targets = (await runInDurableObject(shardStub(id), (o) => o.localWave({ type: "expiration_warning", edge: "end", at: end, leftMs: HOUR, feed: false, firedAt: end - HOUR }))) as any[];
    expect(targets.map((t) => t.playerId)).toEqual(["rich"]);
    expect(targets[0].title).toBe("Night Owls ends in 1 hour");
  });
});

describe("a local-time event's waves reach players no shard has seen", () => {
  it("a first-time reader's feed shows their own wave's preview and start, not another zone's", async () => {
    const now = Date.now();
    // London opens in 30 min (its preview is due now); Athens (always London + 2 h) opened 90 min ago and is in the
    // envelope's first start wave; Tokyo's window has already closed.
    const res = await localEvent({ start: toLocal(now + HOUR / 2, "Europe/London").slice(0, 16), end: toLocal(now + 3 * HOUR, "Europe/London").slice(0, 16) });
    expect(res.json.state).toBe("active");
    const id = res.json.eventId;
    await tick(id, Date.now());
    const read = async (playerId: string, tz: string) =>
      (await call("GET", "/v1/notifications?limit=100", { token: await playerToken(playerId, { tz }) })).json.notifications.filter((n: any) => n.eventId === id).map((n: any) => n.type).sort();
    expect(await read("never-seen-lon", "Europe/London")).toEqual(["preview"]);
    expect(await read("never-seen-ath", "Europe/Athens")).toEqual(["start"]);
    // Tokyo's window closed before the event was created: no wave speaks to it, on the feed or from the shard.
    expect(await read("never-seen-tok", "Asia/Tokyo")).toEqual([]);
    const tokyo = (await call("GET", `/v1/events/${id}`, { token: await playerToken("never-seen-tok", { tz: "Asia/Tokyo" }) })).json.localWindow;
    expect(tokyo).toMatchObject({ timeZone: "Asia/Tokyo", state: "closed", timeUntilStart: 0, timeRemaining: 0 });
    // The shard's live frame for a wave goes to the sockets of its zones only (opening one records the zone).
    const clients: Record<string, Client> = {};
    for (const [p, tz] of [["tok", "Asia/Tokyo"], ["ath", "Europe/Athens"]]) sockets.push((clients[p] = (await connect(id, await playerToken(p, { tz }))).client!));
    const envStart = Date.parse(res.json.startTime);
    const targets = await runInDurableObject(shardStub(id), (o) => o.localWave({ type: "start", edge: "start", at: envStart, leftMs: 0, feed: true, firedAt: envStart }));
    // Not pushed per player: the wave's topic push names its zones (event/waves.ts).
    expect(targets).toEqual([]);
    const startId = `${id}:start@${new Date(envStart).toISOString()}`;
    expect(await clients.ath.next((f) => f.type === "notification" && f.notificationId === startId)).toMatchObject({ notificationType: "start" });
    await new Promise((r) => setTimeout(r, 200));
    expect(clients.tok.frames.filter((f) => f.type === "notification")).toEqual([]);
  });
});

describe("shown/clicked on a wave's feed row", () => {
  it("is refused as not found for a reader outside the wave's zones, like any notification they cannot see", async () => {
    const now = Date.now();
    // London's preview is due now; Tokyo's window closed before the create, so no wave names Tokyo.
    const res = await localEvent({ start: toLocal(now + HOUR / 2, "Europe/London").slice(0, 16), end: toLocal(now + 3 * HOUR, "Europe/London").slice(0, 16) });
    const id = res.json.eventId;
    await tick(id, Date.now());
    const preview = (await broadcasts(id)).find((r) => r.notification_type === "preview" && inZone("Europe/London")(r))!;
    expect(preview.zones).not.toContain("Asia/Tokyo");
    for (const what of ["shown", "clicked"]) {
      const outside = await call("POST", `/v1/notifications/${encodeURIComponent(preview.notification_id)}/${what}`, { token: await playerToken("rec-tok", { tz: "Asia/Tokyo" }) });
      expect(outside.status, what).toBe(404);
      expect(outside.json.error.code).toBe("notification_not_found");
      const inside = await call("POST", `/v1/notifications/${encodeURIComponent(preview.notification_id)}/${what}`, { token: await playerToken("rec-lon", { tz: "Europe/London" }) });
      expect(inside.status, what).toBe(200);
    }
    const recorded = await env.DB.prepare("SELECT player_id FROM notification_interactions WHERE notification_id = ? ORDER BY player_id").bind(preview.notification_id).all<any>();
    expect(recorded.results).toEqual([{ player_id: "rec-lon" }]);
  });
});

describe("the lifecycle through the clock changes, driven by the event object's alarms", () => {
  it("spring-forward night, 02:30–03:30 in New York: empty there; London and Kolkata run in their own waves; quiet hours defer push only", { timeout: 40_000 }, async () => {
    const lt = { start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } };
    const res = await localEvent(lt);
    const id = res.json.eventId;
    const envStart = Date.parse(res.json.startTime);
    // Players come by while it is scheduled (refused, but their zones are recorded for the waves).
    for (const [p, tz] of [["ny", "America/New_York"], ["lon", "Europe/London"], ["kol", "Asia/Kolkata"]]) {
      expect((await call("POST", `/v1/events/${id}/join`, { token: await playerToken(p, { tz }) })).json.error.code).toBe("event_not_active");
    }
    const lonStart = utcOn(S, 0, 2, 30);
    const kolStart = utcOn(S, -1, 21, 0);
    const nyInstant = utcOn(S, 0, 7, 30);
    // One preview row per zone group, 24 h before its start; the waves are the domain's.
    const starts = waves(lt, "start").map((w) => w.at);
    expect(starts).toContain(lonStart);
    expect(starts).toContain(kolStart);
    expect((await waveRows(id)).map((r) => r.key).sort()).toEqual(starts.map((at) => `preview|start|${at}`).sort());

    await tick(id, envStart);
    expect((await call("GET", `/v1/admin/events/${id}`)).json.state).toBe("active");
    const rows = await waveRows(id);
    expect(rows).toContainEqual({ key: `start|start|${kolStart}`, due_at: kolStart });
    expect(rows).toContainEqual({ key: `start|start|${lonStart}`, due_at: lonStart });
    expect(rows).toContainEqual({ key: `urgency|end|${lonStart + HOUR}`, due_at: lonStart - HOUR });

    // Kolkata's wave: 02:30 IST is quiet, so its feed row and frame now, its push at 03:00 IST (21:30 UTC), while
    // Kolkata's window is still open.
    await tick(id, kolStart);
    const kolWave = (await broadcasts(id)).filter((r) => r.notification_type === "start" && r.zones.some(isKolkata));
    expect(kolWave).toHaveLength(1);
    expect(kolWave[0].notification_id).toBe(`${id}:start@${new Date(kolStart).toISOString()}`);
    const deferred = utcOn(S, -1, 21, 30);
    expect(await waveRows(id)).toContainEqual({ key: `push|${deferred}|start|start|${kolStart}`, due_at: deferred });
    const kolRow = async () => (await broadcasts(id)).find((r) => r.notification_id === kolWave[0].notification_id)!.status;
    expect(await kolRow()).toBe("pending");
    // The alarm comes at 03:00 IST (an alarm that came only after Kolkata's window closed would send nothing).
    await tick(id, deferred);
    // London's start (02:30) waits for 03:00 GMT; its ending-soon (01:30) was not quiet and went at once.
    await tick(id, lonStart - HOUR);
    await tick(id, lonStart);
    const lon3 = utcOn(S, 0, 3, 0);
    expect((await waveRows(id)).filter((r) => r.key.startsWith("push|"))).toContainEqual({ key: `push|${lon3}|start|start|${lonStart}`, due_at: lon3 });
    // New York's group (America/Bogota and others at −5) starts at 07:30 UTC, but New York's own window is empty.
    await tick(id, nyInstant);
    const started = (await broadcasts(id)).filter((r) => r.notification_type === "start");
    expect(started.filter(inZone("Europe/London"))).toHaveLength(1);
    expect(started.filter(inZone("America/New_York"))).toEqual([]);
    expect(started.some((r) => r.zones.includes("America/Bogota"))).toBe(true);
    // Every deferred push of an earlier wave went out; what waits is for later (the −5 group's start, at 03:00 there).
    const waiting = (await waveRows(id)).filter((r) => r.key.startsWith("push|"));
    expect(waiting).toContainEqual({ key: `push|${nyInstant + HOUR / 2}|start|start|${nyInstant}`, due_at: nyInstant + HOUR / 2 });
    expect(waiting.every((r) => r.due_at > nyInstant)).toBe(true);
    // The feed was never deferred: London's rows are from its own instants, and nobody was told twice.
    expect((await broadcasts(id)).filter(inZone("Europe/London")).map((r) => r.notification_type).sort()).toEqual(["preview", "start", "urgency"]);
    expect(await feed(id)).toEqual([]);

    // The deferred push went through the push queue once the quiet period ended (no provider here: marked sent).
    for (let i = 0; i < 60 && (await kolRow()) !== "sent"; i++) await new Promise((r) => setTimeout(r, 250));
    expect(await kolRow()).toBe("sent");

    // Progress per player zone, as the shard judges it at these instants.
    expect(await gate(id, "kol", "Asia/Kolkata", kolStart - 60_000)).toMatchObject({ code: "outside_local_window" });
    expect(await gate(id, "kol", "Asia/Kolkata", kolStart)).toBeNull();
    expect(await gate(id, "lon", "Europe/London", lonStart + 59 * 60_000)).toBeNull();
    expect(await gate(id, "lon", "Europe/London", lonStart + HOUR)).toMatchObject({ code: "outside_local_window" });
    for (const at of [nyInstant - 60_000, nyInstant, nyInstant + 30 * 60_000]) {
      const refused = await gate(id, "ny", "America/New_York", at);
      expect(refused).toMatchObject({ code: "outside_local_window", details: { window: { start: `${S}T07:30:00.000Z`, end: `${S}T07:30:00.000Z` } } });
    }
  });

  it("an ineligible player's zone is not recorded, so no wave's frame or warning reaches them", async () => {
    const res = await localEvent({ start: `${S}T02:30`, end: `${S}T03:30` }, { minimumPlayerLevel: 5 });
    const id = res.json.eventId;
    expect((await call("POST", `/v1/events/${id}/join`, { token: await playerToken("low", { tz: "Europe/London", lvl: 1 }) })).json.error.code).toBe("event_not_active");
    expect((await call("POST", `/v1/events/${id}/join`, { token: await playerToken("high", { tz: "Europe/London", lvl: 7 }) })).json.error.code).toBe("event_not_active");
    const zones = await runInDurableObject(shardStub(id), (_o, s) => s.storage.sql.exec("SELECT player_id FROM player_zones ORDER BY player_id").toArray());
    expect(zones).toEqual([{ player_id: "high" }]);
  });

  it("a cancelled event sends none of its deferred pushes", async () => {
    const res = await localEvent({ start: `${S}T02:30`, end: `${S}T03:30`, quietHours: { start: "02:00", end: "03:00" } });
    const id = res.json.eventId;
    await call("POST", `/v1/events/${id}/join`, { token: await playerToken("kol", { tz: "Asia/Kolkata" }) });
    // Kolkata's preview fires at 02:30 IST the day before, inside quiet hours: its push waits for 03:00 IST.
    const kolStart = utcOn(S, -1, 21, 0);
    await tick(id, kolStart - 24 * HOUR);
    const pushes = async () => (await waveRows(id)).filter((r) => r.key.startsWith("push|"));
    expect(await pushes()).toContainEqual({ key: `push|${kolStart - 23.5 * HOUR}|preview|start|${kolStart}`, due_at: kolStart - 23.5 * HOUR });
    expect((await call("POST", `/v1/admin/events/${id}/cancel`, { body: {} })).status).toBe(200);
    expect(await pushes()).toEqual([]);
    // Nothing goes out at 03:00 IST either: with no provider a delivered push marks its row sent, and this one never is.
    const previewId = `${id}:preview@${new Date(kolStart).toISOString()}`;
    expect((await broadcasts(id)).map((r) => r.notification_id)).toContain(previewId);
    await tick(id, kolStart - 23.5 * HOUR);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await broadcasts(id)).find((r) => r.notification_id === previewId)!.status).not.toBe("sent");
  });

  it("fall-back night, 01:30–02:30 in New York: the first 01:30 (05:30 UTC) to 02:30 EST (07:30 UTC), two hours, one wave", async () => {
    const lt = { start: `${F}T01:30`, end: `${F}T02:30` };
    const res = await localEvent(lt);
    const id = res.json.eventId;
    await call("POST", `/v1/events/${id}/join`, { token: await playerToken("ny", { tz: "America/New_York" }) });
    await call("POST", `/v1/events/${id}/join`, { token: await playerToken("chi", { tz: "America/Chicago" }) });
    await tick(id, Date.parse(res.json.startTime));
    const start = utcOn(F, 0, 5, 30);
    const end = utcOn(F, 0, 7, 30);
    expect(await gate(id, "ny", "America/New_York", start - 60_000)).toMatchObject({ code: "outside_local_window" });
    // 01:30 EDT, the second 01:00 (EST) and 02:29 EST are all inside; 02:30 EST is the end.
    for (const at of [start, start + 30 * 60_000, end - 60_000]) expect(await gate(id, "ny", "America/New_York", at)).toBeNull();
    expect(await gate(id, "ny", "America/New_York", end)).toMatchObject({ code: "outside_local_window" });
    const rows = await waveRows(id);
    expect(rows.filter((r) => r.key === `start|start|${start}`)).toHaveLength(1);
    expect(rows).toContainEqual({ key: `urgency|end|${end}`, due_at: end - 2 * HOUR });
    // No quiet hours: the wave's push goes at once, and New York is told once, Chicago (an hour later) not yet.
    await tick(id, start);
    await tick(id, start + 1);
    const first = (await broadcasts(id)).filter((r) => r.notification_type === "start" && inZone("America/New_York")(r));
    expect(first).toHaveLength(1);
    expect(first[0].zones).not.toContain("America/Chicago");
    expect((await waveRows(id)).some((r) => r.key.startsWith("push|"))).toBe(false);
    await tick(id, end - 2 * HOUR);
    expect((await broadcasts(id)).filter((r) => r.notification_type === "urgency" && inZone("America/New_York")(r))).toHaveLength(1);
  });
});
