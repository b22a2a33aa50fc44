// Cooperative clan events at their edges, through the real runtime: a member rewarded by two clans (they switched),
// a held clan reward released after the claim window closed, and a shard owing more clans than one push covers.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { shardName, shardOf } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { claim, clearAlarms, shardStubFor, tickEvent } from "./rewards-helpers";
import { coins, post, until } from "./leaderboard-helpers";
import { CLAN, OBJECTIVES } from "./clan-helpers";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function clanEvent() {
  const t = await createTemplate({ type: "cooperative", objectives: OBJECTIVES, milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(1) }], clan: CLAN });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
  made.push({ eventId: e.eventId, shardCount: 2 });
  return e.eventId as string;
}
const opsClan = (eventId: string, clanId: string) => call("GET", `/v1/admin/events/${eventId}/clans/${clanId}`);
const REASON = { reason: "support ticket 9" };
const endNow = (eventId: string) => call("POST", `/v1/admin/events/${eventId}/end-now`, { body: { reason: "test" } });
/** Holds a shard's clan pushes back (its "clan" row backing off for an hour), as if its timer had not rung. */
const holdPushes = (shard: DurableObjectStub) =>
  runInDurableObject(shard, (_o, s) => void s.storage.sql.exec("INSERT OR REPLACE INTO schedule (kind, key, due_at, attempt) VALUES ('clan', '', ?, 1)", Date.now() + HOUR));

describe("clan rewards at the edges", () => {
  it("pays a member who switched clans and is eligible in both the same clan milestone from each clan, in one claim", async () => {
    const eventId = await clanEvent();
    await post(eventId, "sw", "boss-damage", 100, { clan: "red" });
    await post(eventId, "sw-mate", "boss-damage", 400, { clan: "red" });
    await post(eventId, "sw", "boss-damage", 600, { clan: "blue" });
    await until(() => opsClan(eventId, "blue"), (r) => r.json.total === 600);
    await until(() => opsClan(eventId, "red"), (r) => r.json.total === 500);
    expect((await endNow(eventId)).status).toBe(200);
    await tickEvent(eventId, Date.now() + 5000);
    const token = await playerToken("sw", { clan: "blue" });
    const paid = await until(() => claim(eventId, token, 900, "both"), (r) => r.status === 201);
    expect(paid.value.json.receipt.rewards.map((r: any) => r.quantity)).toEqual([50, 50]);
    expect((await claim(eventId, token, 901, "none")).status).toBe(404);
  });

  it("auto-claims a held clan reward that ops release after the claim window closed", async () => {
    const eventId = await clanEvent();
    await post(eventId, "late-flag", "boss-damage", 600, { clan: "red" });
    expect((await post(eventId, "late-flag", "boss-damage", -5, { clan: "red" })).status).toBe(422);
    await until(() => opsClan(eventId, "red"), (r) => r.json.members.some((m: any) => m.flagged));
    expect((await endNow(eventId)).status).toBe(200);
    await tickEvent(eventId, Date.now() + 5000);
    await until(() => opsClan(eventId, "red"), (r) => r.json.finalized === true);
    await tickEvent(eventId, Date.now() + 25 * HOUR); // past the grace period: archived
    expect((await call("GET", `/v1/admin/events/${eventId}`)).json.state).toBe("archived");
    const cleared = await call("POST", `/v1/admin/events/${eventId}/clans/red/members/late-flag/clear-flag`, { body: REASON });
    expect(cleared.json).toMatchObject({ released: 1 });
    const claims = await runInDurableObject(shardStubFor(eventId, "late-flag", 2), (_o, s) =>
      s.storage.sql.exec("SELECT milestone_index, source FROM claims WHERE player_id = 'late-flag' AND milestone_index >= 900").toArray(),
    );
    expect(claims).toEqual([{ milestone_index: 900, source: "auto_claim" }]);
  });
});

describe("a shard owing many clans", () => {
  it("pushes them a chunk at a time, and finalization's flush still takes every one", async () => {
    const eventId = await clanEvent();
    const players: string[] = [];
    for (let i = 0; players.length < 3; i++) if (shardOf(`many-${i}`, 2) === 0) players.push(`many-${i}`);
    const shard = env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, 0)));
    await runInDurableObject(shard, (o: any) => void (o.clan.chunk = 1));
    const clans = ["c-one", "c-two", "c-three"];
    for (let k = 0; k < 3; k++) await post(eventId, players[k], "boss-damage", 10, { clan: clans[k] });
    for (const c of clans) await until(() => opsClan(eventId, c), (r) => r.json.total === 10);
    await holdPushes(shard);
    for (let k = 0; k < 3; k++) await post(eventId, players[k], "boss-damage", 5, { clan: clans[k] });
    const owed = await runInDurableObject(shard, (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM clan_pending").one().n);
    expect(owed).toBe(3);
    expect((await endNow(eventId)).status).toBe(200);
    await tickEvent(eventId, Date.now() + 5000);
    for (const c of clans) expect((await opsClan(eventId, c)).json).toMatchObject({ total: 15, finalized: true });
  });
});
