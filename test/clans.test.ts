// Cooperative clan events through the real runtime: progress over HTTP → shards → the clan objects → the player and
// ops routes, clan_progress frames on the event sockets, and clan milestone rewards through the claim path.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { clanName } from "../src/domain/clan";
import { shardName, shardOf } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject, templateBody } from "./helpers";
import { connect } from "./live-helpers";
import { claim, clearAlarms, tickEvent } from "./rewards-helpers";
import { coins, post, until } from "./leaderboard-helpers";
import { CLAN, OBJECTIVES } from "./clan-helpers";
import { runDurableObjectAlarm } from "cloudflare:test";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function clanEvent(clan: Record<string, unknown> = CLAN) {
  const t = await createTemplate({ type: "cooperative", objectives: OBJECTIVES, milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(1) }], clan });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
  made.push({ eventId: e.eventId, shardCount: 2 });
  return e.eventId as string;
}
const clanOf = async (eventId: string, playerId: string, clan: string | null) => call("GET", `/v1/events/${eventId}/clan`, { token: await playerToken(playerId, clan ? { clan } : {}) });
const opsClan = (eventId: string, clanId: string) => call("GET", `/v1/admin/events/${eventId}/clans/${clanId}`);
const clanStub = (eventId: string, clanId: string) => env.CLAN_EVENT_ACTOR.get(env.CLAN_EVENT_ACTOR.idFromName(clanName(eventId, clanId)));
const REASON = { reason: "support ticket 7" };

describe("clan definition", () => {
  it("refuses clan objectives that do not exist and bad milestones, naming each field", async () => {
    const bad = await call("POST", "/v1/admin/templates", {
      body: { ...templateBody({ objectives: OBJECTIVES }), clan: { objectiveIds: ["nope"], milestones: [{ index: 1, progressThreshold: 0.5 }], thresholdPercent: 150 } },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(["clan.thresholdPercent"]));
    const fixed = await call("POST", "/v1/admin/templates", { body: { ...templateBody({ objectives: OBJECTIVES }), clan: { objectiveIds: ["nope"], milestones: [{ index: 1, progressThreshold: 0.5 }] } } });
    expect(fixed.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["clan.objectiveIds[0]", "clan.milestones[0].index"]);
    const fine = await createTemplate({ objectives: OBJECTIVES, clan: CLAN });
    expect(fine.clan).toMatchObject({ thresholdPercent: 5, objectiveIds: ["boss-damage"] });
  });
});

describe("clan progress", () => {
  it("adds members' contributions from both shards to the clan total; exactly 5 % qualifies, 4.9 % says how much more", async () => {
    const eventId = await clanEvent();
    const plan: Array<[string, number]> = [["big", 900], ["five", 50], ["under", 49], ["ann", 1]];
    expect(new Set(plan.map(([p]) => shardOf(p, 2))).size).toBe(2); // the members are on both shards
    for (const [p, amount] of plan) expect((await post(eventId, p, "boss-damage", amount, { clan: "red" })).status).toBe(200);
    // individual objectives keep working beside the clan's, and do not count for the clan
    const own = await post(eventId, "five", "own-wins", 2, { clan: "red" });
    expect(own.json.objectives["own-wins"]).toMatchObject({ currentValue: 2, targetValue: 5 });
    const { value, tookMs } = await until(() => clanOf(eventId, "under", "red"), (r) => r.json.total === 1000);
    expect(tookMs).toBeLessThan(1500);
    expect(value.json).toMatchObject({ clanId: "red", total: 1000, completion: 1, thresholdPercent: 5, finalized: false });
    expect(value.json.milestones.map((m: any) => m.reached)).toEqual([true, true]);
    expect(value.json.members.map((m: any) => [m.playerId, m.rank, m.contribution, m.eligible, m.neededMore])).toEqual([
      ["big", 1, 900, true, 0],
      ["five", 2, 50, true, 0],
      ["under", 3, 49, false, 2],
      ["ann", 4, 1, false, 52],
    ]);
    expect(value.json.me).toMatchObject({ playerId: "under", sharePercent: 4.9, eligible: false, neededMore: 2 });
    // the ops view and the clan ranking see the same clan
    expect((await opsClan(eventId, "red")).json.total).toBe(1000);
    const ranking = await until(() => call("GET", `/v1/admin/events/${eventId}/clans`), (r) => r.json.clans?.[0]?.total === 1000);
    expect(ranking.value.json.clans).toEqual([{ rank: 1, clanId: "red", total: 1000, completion: 1, members: 4, reachedAt: expect.any(String), rewardTier: null }]);
  });

  it("keeps a contribution with the clan it was made for when the member switches clans", async () => {
    const eventId = await clanEvent();
    await post(eventId, "switcher", "boss-damage", 100, { clan: "red" });
    await post(eventId, "stayer", "boss-damage", 10, { clan: "blue" });
    await post(eventId, "switcher", "boss-damage", 30, { clan: "blue" });
    const blue = await until(() => clanOf(eventId, "switcher", "blue"), (r) => r.json.total === 40);
    expect(blue.value.json.me).toMatchObject({ playerId: "switcher", contribution: 30 });
    const red = await until(() => opsClan(eventId, "red"), (r) => r.json.total === 100);
    expect(red.value.json.members.map((m: any) => [m.playerId, m.contribution])).toEqual([["switcher", 100]]);
    const ranking = await until(() => call("GET", `/v1/admin/events/${eventId}/clans`), (r) => r.json.clans?.length === 2 && r.json.clans[1].total === 40);
    expect(ranking.value.json.clans.map((c: any) => [c.clanId, c.total])).toEqual([["red", 100], ["blue", 40]]);
  });

  it("answers clear 4xx errors: no clan claim, not a clan event, bad ids", async () => {
    const eventId = await clanEvent();
    const none = await clanOf(eventId, "loner", null);
    expect(none.status).toBe(403);
    expect(none.json.error.code).toBe("no_clan");
    const empty = await clanOf(eventId, "newbie", "green");
    expect(empty.json).toMatchObject({ clanId: "green", total: 0, members: [], me: null, milestones: [{ reached: false }, { reached: false }] });
    const plain = await createTemplate();
    const ev = await createEvent(plain.templateId, { startTime: "now", endTime: inMs(HOUR) });
    made.push({ eventId: ev.eventId, shardCount: ev.shardCount });
    const notClan = await clanOf(ev.eventId, "x", "red");
    expect(notClan.status).toBe(404);
    expect(notClan.json.error.code).toBe("clan_event_not_found");
    expect((await clanOf("not-an-event", "x", "red")).json.error.code).toBe("event_not_found");
    expect((await call("GET", `/v1/admin/events/${eventId}/clans?limit=0`)).status).toBe(400);
    const noFlag = await call("POST", `/v1/admin/events/${eventId}/clans/red/members/nobody/clear-flag`, { body: REASON });
    expect(noFlag.status).toBe(404);
    expect(noFlag.json.error.code).toBe("flag_not_found");
    expect((await call("POST", `/v1/admin/events/${eventId}/clans/red/members/nobody/clear-flag`, { body: {} })).json.error.code).toBe("validation_failed");
  });
});

describe("exactly once and eviction", () => {
  it("acknowledges a retried shard push without counting it twice, and a shard that lost its ack re-sends the same seq", async () => {
    const eventId = await clanEvent();
    const info = { eventId, objectives: [OBJECTIVES[0]], definition: { ...CLAN, thresholdPercent: 5 } };
    const batch = { source: `${eventId}:0`, seq: 1, info, entries: [{ playerId: "p", amounts: { "boss-damage": 5 }, at: 1000, flagged: false }] };
    const first = await runInDurableObject(clanStub(eventId, "red"), (o) => o.push(batch));
    const again = await runInDurableObject(clanStub(eventId, "red"), (o) => o.push(batch));
    expect(first).toMatchObject({ applied: true, total: 5 });
    expect(again).toMatchObject({ applied: false, total: 5 });
    const other = await runInDurableObject(clanStub(eventId, "red"), (o) => o.push({ ...batch, source: `${eventId}:1` }));
    expect(other).toMatchObject({ applied: true, total: 10 });

    // Through a real shard: the push lands, then the shard "forgets" it was acknowledged (its in-flight row is back,
    // as after an eviction between the clan's answer and the delete) and re-sends it: the clan total does not move.
    await post(eventId, "retry", "boss-damage", 7, { clan: "blue" });
    await until(() => opsClan(eventId, "blue"), (r) => r.json.total === 7);
    const shard = env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, shardOf("retry", 2))));
    await runInDurableObject(shard, (_o, s) => {
      const sent = { source: `${eventId}:${shardOf("retry", 2)}`, seq: 1, info, entries: [{ playerId: "retry", amounts: { "boss-damage": 7 }, at: Date.now(), flagged: false }] };
      s.storage.sql.exec("INSERT INTO clan_inflight (clan_id, seq, batch) VALUES ('blue', 1, ?)", JSON.stringify(sent));
      s.storage.sql.exec("INSERT OR REPLACE INTO schedule (kind, key, due_at, attempt) VALUES ('clan', '', ?, 0)", Date.now());
    });
    await runDurableObjectAlarm(shard);
    const inflight = await runInDurableObject(shard, (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM clan_inflight").one().n);
    expect(inflight).toBe(0);
    expect((await opsClan(eventId, "blue")).json.total).toBe(7);
  });

  it("a clan object rebuilt from its SQLite (as after eviction) answers the same", async () => {
    const eventId = await clanEvent();
    for (const [p, a] of [["e1", 300], ["e2", 200]] as const) await post(eventId, p, "boss-damage", a, { clan: "red" });
    const before = await until(() => opsClan(eventId, "red"), (r) => r.json.total === 500);
    const info = { eventId, objectives: [OBJECTIVES[0]], definition: { ...CLAN, thresholdPercent: 5 } };
    const rebuilt = await runInDurableObject(clanStub(eventId, "red"), (o, state) => new (o.constructor as any)(state, env).view(info, null));
    expect(rebuilt).toEqual(before.value.json);
  });
});

describe("live frames", () => {
  it("sends online clan members a clan_progress frame with the milestone unlock within a second of the ack", async () => {
    const eventId = await clanEvent();
    // the watcher's socket is on the other shard from the hitter's, which never pushed for them
    expect(shardOf("w-1", 2)).not.toBe(shardOf("hitter", 2));
    const { client } = await connect(eventId, await playerToken("w-1", { clan: "red" }));
    const { client: outsider } = await connect(eventId, await playerToken("outsider", { clan: "blue" }));
    expect(client).not.toBeNull();
    await client!.next((f) => f.type === "snapshot" || f.type === "event_state");
    const acked = Date.now();
    expect((await post(eventId, "hitter", "boss-damage", 600, { clan: "red" })).status).toBe(200);
    const frame = await client!.next((f) => f.type === "clan_progress", 1500);
    expect(Date.now() - acked).toBeLessThan(1000);
    expect(frame).toMatchObject({ eventId, clanId: "red", total: 600, completion: 0.6, unlocked: [0], top: [{ playerId: "hitter", contribution: 600 }] });
    // batched: a burst of contributions is at most one frame a second, and the last total arrives
    for (let i = 0; i < 5; i++) await post(eventId, "hitter", "boss-damage", 1, { clan: "red" });
    const last = await client!.next((f) => f.type === "clan_progress" && f.total === 605, 2500);
    expect(last.unlocked).toEqual([]);
    const frames = client!.frames.filter((f) => f.type === "clan_progress");
    expect(frames.length).toBeLessThanOrEqual(3);
    expect(outsider!.frames.some((f) => f.type === "clan_progress")).toBe(false);
    client!.ws.close(1000);
    outsider!.ws.close(1000);
  });
});

describe("rewards", () => {
  it("grants each reached clan milestone once to every member at or over 5 %; flagged members wait for ops", async () => {
    const eventId = await clanEvent();
    for (const [p, a] of [["r-big", 850], ["r-five", 50], ["r-flag", 60], ["r-small", 40]] as const) await post(eventId, p, "boss-damage", a, { clan: "red" });
    expect((await post(eventId, "r-flag", "boss-damage", -5, { clan: "red" })).status).toBe(422);
    await until(() => opsClan(eventId, "red"), (r) => r.json.total === 1000 && r.json.members.some((m: any) => m.flagged));
    expect((await call("POST", `/v1/admin/events/${eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    await tickEvent(eventId, Date.now() + 5000);
    await until(() => opsClan(eventId, "red"), (r) => r.json.finalized === true);
    const big = await playerToken("r-big", { clan: "red" });
    const boss = await until(() => claim(eventId, big, 901, "boss"), (r) => r.status === 201);
    expect(boss.value.json.receipt).toMatchObject({ playerId: "r-big", milestoneIndex: 901, rewards: [expect.objectContaining({ quantity: 200 })] });
    expect((await claim(eventId, big, 901, "boss-again")).json.error.code).toBe("already_claimed");
    expect((await claim(eventId, await playerToken("r-five", { clan: "red" }), 900, "half")).status).toBe(201);
    // under the threshold: nothing to claim, and the view says why
    expect((await claim(eventId, await playerToken("r-small", { clan: "red" }), 900, "x")).status).toBe(404);
    expect((await clanOf(eventId, "r-small", "red")).json.me).toMatchObject({ eligible: false, neededMore: 11 });
    // flagged: held until ops clear the flag, then claimable
    const flagged = await playerToken("r-flag", { clan: "red" });
    expect((await claim(eventId, flagged, 900, "held")).status).toBe(404);
    const cleared = await call("POST", `/v1/admin/events/${eventId}/clans/red/members/r-flag/clear-flag`, { body: REASON });
    expect(cleared.json).toEqual({ playerId: "r-flag", clanId: "red", released: 2 });
    expect((await claim(eventId, flagged, 900, "released")).status).toBe(201);
    // finalizing again grants nothing new
    await tickEvent(eventId, Date.now() + 10_000);
    const again = await runInDurableObject(clanStub(eventId, "red"), (o) => o.finalize(null));
    expect(again).toMatchObject({ clanId: "red", awards: 2, held: 1, total: 1000, members: 4 });
    const awards = await runInDurableObject(clanStub(eventId, "red"), (_o, st) => st.storage.sql.exec("SELECT player_id, idx, granted FROM awards ORDER BY player_id, idx").toArray());
    expect(awards.map((a: any) => [a.player_id, a.idx, a.granted])).toEqual([["r-big", 0, 1], ["r-big", 1, 1], ["r-five", 0, 1], ["r-five", 1, 1], ["r-flag", 0, 1], ["r-flag", 1, 1]]);
  });
});

describe("finalization", () => {
  it("includes a contribution acknowledged just before expiry that its shard had not pushed yet, once", async () => {
    const eventId = await clanEvent();
    expect((await post(eventId, "early", "boss-damage", 500, { clan: "red" })).status).toBe(200);
    await until(() => opsClan(eventId, "red"), (r) => r.json.total === 500);
    // Hold the late player's shard's push back (its "clan" row backing off for an hour), as if its timer had not rung.
    const shard = env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, shardOf("late", 2))));
    await runInDurableObject(shard, (_o, s) => {
      s.storage.sql.exec("INSERT OR REPLACE INTO schedule (kind, key, due_at, attempt) VALUES ('clan', '', ?, 1)", Date.now() + HOUR);
    });
    expect((await post(eventId, "late", "boss-damage", 500, { clan: "red" })).status).toBe(200);
    const pending = await runInDurableObject(shard, (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM clan_pending").one().n);
    expect(pending).toBe(1);
    expect((await opsClan(eventId, "red")).json.total).toBe(500);
    expect((await call("POST", `/v1/admin/events/${eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    // The event's own alarms only: its "clans" row has every shard push first, then the clans finalize.
    await tickEvent(eventId, Date.now() + 5000);
    const final = await opsClan(eventId, "red");
    expect(final.json).toMatchObject({ total: 1000, finalized: true });
    expect(final.json.members.map((m: any) => [m.playerId, m.contribution, m.eligible])).toEqual([["early", 500, true], ["late", 500, true]]);
    const owed = await runInDurableObject(shard, (_o, s) => s.storage.sql.exec("SELECT (SELECT COUNT(*) FROM clan_pending) + (SELECT COUNT(*) FROM clan_inflight) AS n").one().n);
    expect(owed).toBe(0);
    const late = await playerToken("late", { clan: "red" });
    expect((await until(() => claim(eventId, late, 901, "late-boss"), (r) => r.status === 201)).value.json.receipt).toMatchObject({ milestoneIndex: 901 });
    // Repeated alarms change nothing; a retried batch is still an ack, a new one is refused as frozen (never applied).
    await tickEvent(eventId, Date.now() + 10_000);
    expect((await opsClan(eventId, "red")).json.total).toBe(1000);
    const info = { eventId, objectives: [OBJECTIVES[0]], definition: { ...CLAN, thresholdPercent: 5 } };
    const source = `${eventId}:${shardOf("late", 2)}`;
    const retried = await runInDurableObject(clanStub(eventId, "red"), (o) => o.push({ source, seq: 1, info, entries: [] }));
    expect(retried).toMatchObject({ applied: false, frozen: false, total: 1000 });
    const fresh = await runInDurableObject(clanStub(eventId, "red"), (o) => o.push({ source, seq: 99, info, entries: [{ playerId: "x", amounts: { "boss-damage": 1 }, at: 1, flagged: false }] }));
    expect(fresh).toMatchObject({ applied: false, frozen: true, total: 1000 });
  });
});

describe("demo", () => {
  it("guild-raid is a cooperative clan event: GET /clan works for a player whose token carries a clan", async () => {
    const { default: demo } = await import("../seed/demo-templates.json");
    const raid = (demo as any[]).find((t) => t.templateId === "guild-raid");
    const t = await createTemplate({ ...raid, templateId: `guild-raid-${Date.now().toString(36)}` });
    expect(t.clan).toMatchObject({ objectiveIds: ["damage"], thresholdPercent: 5 });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR), shardCount: 2, eligibleClanIds: ["wolves"] });
    made.push({ eventId: e.eventId, shardCount: 2 });
    const hit = await post(e.eventId, "raider-1", "damage", 40_000, { clan: "wolves", lvl: 10 });
    expect(hit.status).toBe(200);
    // the clan's damage does not count toward the raider's own milestones
    expect(hit.json.completion).toBe(0);
    await post(e.eventId, "raider-2", "damage", 50_000, { clan: "wolves", lvl: 10 });
    await post(e.eventId, "raider-2", "damage", 20_000, { clan: "wolves", lvl: 10 });
    const view = await until(() => clanOf(e.eventId, "raider-1", "wolves"), (r) => r.json.total === 110_000);
    expect(view.value.json.milestones.map((m: any) => m.reached)).toEqual([true, false, false]);
    expect(view.value.json.me).toMatchObject({ playerId: "raider-1", rank: 2, contribution: 40_000, eligible: true });
  });
});
