// A player's zone from their profile (issue 17) through the real Worker, D1 and progress shard: a game server posts
// `timeZone` (checked, kept when left out, cleared by null), and a local-time event judges a player whose token has no
// tz claim in that zone; a claim still wins, and without either the player is in DEFAULT_PLAYER_TIME_ZONE (UTC here).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toLocal } from "../src/domain/zoned";
import { HOUR, apiKey, call, createTemplate, playerToken, runInDurableObject } from "./helpers";
import { connect, type Client } from "./live-helpers";
import { eventStub, OBJ, tracked } from "./local-time-helpers";

const tag = `ptz-${Date.now().toString(36)}`;
const shardStub = (id: string) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(`${id}:0`));
const profilePath = (playerId: string) => `/v1/server/players/${playerId}/profile`;
const setZone = async (playerId: string, timeZone: string | null) => expect((await call("POST", profilePath(playerId), { body: { timeZone } })).status).toBe(204);
const zoneRows = (id: string) =>
  runInDurableObject(shardStub(id), (_o, s) => s.storage.sql.exec("SELECT player_id, tz, fixed FROM player_zones ORDER BY player_id").toArray());

const { events, sockets } = tracked();

/**
 * A local-time event whose window in Kolkata runs two hours from the minute `inMs` from now: active at once (earlier
 * zones began hours ago). Its Kolkata window is clipped to the envelope, which starts at creation: with `inMs` > 0 it
 * starts exactly on that minute.
 */
async function kolkataIn(inMs: number) {
  const now = Date.now() + inMs;
  const start = toLocal(now, "Asia/Kolkata").slice(0, 16);
  const t = await createTemplate({ name: "Chai Hour", objectives: OBJ });
  const res = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, tier: "mini", shardCount: 1, localTime: { start, end: toLocal(now + 2 * HOUR, "Asia/Kolkata").slice(0, 16) } } });
  expect(res.status).toBe(201);
  expect(res.json.state).toBe("active");
  events.push(res.json.eventId);
  // Kolkata keeps +05:30 all year.
  return { id: res.json.eventId as string, start: Date.parse(`${start}:00+05:30`) };
}
const post = async (id: string, playerId: string, claims: Record<string, unknown>, seq = 1) =>
  call("POST", `/v1/events/${id}/progress`, { token: await playerToken(playerId, claims), body: { updates: [{ objectiveId: "pts", amount: 1, seq }] } });

describe("a server's timeZone on the player's profile", () => {
  it("is stored and shown, kept when a post leaves it out, cleared by null; a zone the runtime does not know is a 422 naming the field", async () => {
    const me = `${tag}-p`;
    await setZone(me, "Asia/Kolkata");
    expect((await call("GET", `/v1/admin/players/${me}/profile`)).json).toMatchObject({ playerId: me, timeZone: "Asia/Kolkata", level: null });
    expect((await call("POST", profilePath(me), { body: { level: 7 } })).status).toBe(204);
    expect((await call("GET", `/v1/admin/players/${me}/profile`)).json).toMatchObject({ timeZone: "Asia/Kolkata", level: 7 });
    for (const timeZone of ["Mars/Olympus", "+05:30", "", 42]) {
      const bad = await call("POST", profilePath(me), { body: { timeZone } });
      expect(bad.status, String(timeZone)).toBe(422);
      expect(bad.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["timeZone"]);
    }
    // Refused means unchanged.
    expect((await call("GET", `/v1/admin/players/${me}/profile`)).json.timeZone).toBe("Asia/Kolkata");
    await setZone(me, null);
    expect((await call("GET", `/v1/admin/players/${me}/profile`)).json).toMatchObject({ timeZone: null, level: 7 });
  });
});

describe("a local-time event and the profile's zone", () => {
  it("judges a claim-less player in their profile's zone (HTTP, server-reported and socket); a tz claim wins; no profile is the default", async () => {
    const { id } = await kolkataIn(0);
    const [kol, claimed, none, srv, sock] = ["kol", "claimed", "none", "srv", "sock"].map((p) => `${tag}-${p}`);
    for (const p of [kol, claimed, srv, sock]) await setZone(p, "Asia/Kolkata");
    expect((await post(id, kol, {})).status).toBe(200);
    // The claim outranks the profile: New York's window is hours away.
    const ny = await post(id, claimed, { tz: "America/New_York" });
    expect(ny.json.error).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "America/New_York" } } });
    // Neither: DEFAULT_PLAYER_TIME_ZONE (UTC), 5 h 30 after Kolkata.
    expect((await post(id, none, {})).json.error).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "UTC" } } });
    // A game server's report carries no token at all: the profile's zone too.
    const reporter = await apiKey({ name: `${tag}-srv`, scopes: ["progress:write"] });
    const server = await call("POST", `/v1/server/events/${id}/players/${srv}/progress`, { token: reporter.key, body: { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] } });
    expect(server.status).toBe(200);
    const { client } = await connect(id, await playerToken(sock));
    sockets.push(client!);
    expect((await client!.next((f) => f.type === "event_state" && f.change === "snapshot")).localWindow).toMatchObject({ timeZone: "Asia/Kolkata", state: "open" });
    client!.send({ type: "progress", id: "k", updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] });
    expect((await client!.next((f) => f.type === "ack" && f.id === "k")).progress).toMatchObject({ applied: [1] });
    // The recorded rows carry the zone, so the waves reach these players in Kolkata's.
    expect(await zoneRows(id)).toEqual([
      { player_id: claimed, tz: "America/New_York", fixed: 0 },
      { player_id: kol, tz: "Asia/Kolkata", fixed: 1 },
      { player_id: none, tz: "UTC", fixed: 0 },
      { player_id: sock, tz: "Asia/Kolkata", fixed: 1 },
      { player_id: srv, tz: "Asia/Kolkata", fixed: 1 },
    ]);
    // The view's window follows the fixed zone; a later profile change does not move a fixed player.
    expect((await call("GET", `/v1/events/${id}`, { token: await playerToken(kol) })).json.localWindow).toMatchObject({ timeZone: "Asia/Kolkata", state: "open" });
    await setZone(kol, "America/New_York");
    expect((await post(id, kol, {}, 2)).status).toBe(200);
  });

  it("opens and closes at Kolkata's instants for a claim-less player whose profile says Kolkata (the shard's gate at chosen instants)", async () => {
    const { id, start } = await kolkataIn(HOUR);
    const [kol, none] = [`${tag}-gk`, `${tag}-gn`];
    await setZone(kol, "Asia/Kolkata");
    // As the token path builds a claim-less player: in the fallback zone, not claimed.
    const gateAt = (playerId: string, at: number) =>
      runInDurableObject(shardStub(id), async (o) => o.localTime.gate(await o.events.event(Date.now()), await o.localTime.zoned({ playerId, level: 1, clan: null, tz: "UTC" }), at)) as Promise<{ code: string; details: any } | null>;
    const end = start + 2 * HOUR;
    // Refused requests fix nothing, so each instant is judged afresh.
    expect(await gateAt(kol, start - 1)).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "Asia/Kolkata", start: new Date(start).toISOString() } } });
    expect(await gateAt(kol, end)).toMatchObject({ code: "outside_local_window", details: { window: { timeZone: "Asia/Kolkata", end: new Date(end).toISOString() } } });
    expect(await gateAt(kol, end - 1)).toBeNull();
    expect(await gateAt(kol, start)).toBeNull();
    // Without a profile the same instants are UTC's: refused all through Kolkata's window, open 5 h 30 later.
    expect(await gateAt(none, end - 1)).toMatchObject({ details: { window: { timeZone: "UTC" } } });
    expect(await gateAt(none, start + 5.5 * HOUR)).toBeNull();
    expect(await zoneRows(id)).toEqual([
      { player_id: kol, tz: "Asia/Kolkata", fixed: 1 },
      { player_id: none, tz: "UTC", fixed: 1 },
    ]);
  });
});
