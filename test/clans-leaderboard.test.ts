// The clan ranking as a clan leaderboard, through the real runtime: clans ranked by total (ties to the clan that got
// there first), pages with a cursor and the caller's clan's place, then at the event's end the final clan standings
// recorded once with a digest, projected to D1 clan_standings, and clan rank rewards claimed through the claim path.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { clanDirectoryName } from "../src/domain/clan";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject, templateBody } from "./helpers";
import { claim, clearAlarms, tickEvent } from "./rewards-helpers";
import { coins, post, until } from "./leaderboard-helpers";

const OBJECTIVES = [
  { objectiveId: "boss-damage", description: "Damage the raid boss", type: "collect", targetValue: 1000, trackingKey: "raid.damage" },
  { objectiveId: "own-wins", description: "Win your own fights", type: "collect", targetValue: 5, trackingKey: "arena.wins" },
];
const CLAN = { objectiveIds: ["boss-damage"], milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(50), unlockMessage: "Halfway" }] };
const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function clanEvent(clan: Record<string, unknown> = CLAN, templateExtra: Record<string, unknown> = {}) {
  const t = await createTemplate({ type: "cooperative", objectives: OBJECTIVES, milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(1) }], clan, ...templateExtra });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
  made.push({ eventId: e.eventId, shardCount: 2 });
  return e.eventId as string;
}
const ranking = async (eventId: string, playerId: string, clan: string | null, query = "") =>
  call("GET", `/v1/events/${eventId}/clans${query}`, { token: await playerToken(playerId, clan ? { clan } : {}) });
const directory = (eventId: string) => env.CLAN_EVENT_ACTOR.get(env.CLAN_EVENT_ACTOR.idFromName(clanDirectoryName(eventId)));
const endAndFinalize = async (eventId: string) => {
  expect((await call("POST", `/v1/admin/events/${eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
  await tickEvent(eventId, Date.now() + 5000);
};
async function sha256(text: string) {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
const d1Standings = (eventId: string) =>
  env.DB.prepare("SELECT clan_id, rank, total, reached_at, members, reward_tier, digest FROM clan_standings WHERE event_id = ? ORDER BY rank").bind(eventId).all<any>();

describe("clan ranking", () => {
  it("ranks clans by total, equal totals to the clan that got there first; pages with a cursor; shows the caller's clan", async () => {
    const eventId = await clanEvent();
    await post(eventId, "g-1", "boss-damage", 500, { clan: "green" });
    await post(eventId, "r-1", "boss-damage", 300, { clan: "red" });
    await until(() => ranking(eventId, "x", null), (r) => r.json.count === 2);
    // blue reaches red's total later: it ranks below red
    await post(eventId, "b-1", "boss-damage", 200, { clan: "blue" });
    await post(eventId, "b-2", "boss-damage", 100, { clan: "blue" });
    await post(eventId, "o-1", "boss-damage", 100, { clan: "gold" });
    const first = await until(() => ranking(eventId, "b-1", "blue", "?limit=2"), (r) => r.json.count === 4 && r.json.me?.total === 300);
    expect(first.value.json).toMatchObject({ eventId, count: 4, finalized: false, digest: null });
    expect(first.value.json.clans.map((c: any) => [c.rank, c.clanId, c.total])).toEqual([[1, "green", 500], [2, "red", 300]]);
    expect(first.value.json.me).toMatchObject({ rank: 3, clanId: "blue", total: 300, members: 2, rewardTier: null });
    const red = first.value.json.clans[1];
    expect(Date.parse(red.reachedAt)).toBeLessThan(Date.parse(first.value.json.me.reachedAt));
    const next = await ranking(eventId, "b-1", "blue", `?limit=2&cursor=${first.value.json.nextCursor}`);
    expect(next.json.clans.map((c: any) => [c.rank, c.clanId, c.total])).toEqual([[3, "blue", 300], [4, "gold", 100]]);
    expect(next.json.nextCursor).toBeNull();
    // the ops route reads the same ranking
    const ops = await call("GET", `/v1/admin/events/${eventId}/clans?limit=1&cursor=${first.value.json.nextCursor}`);
    expect(ops.json.clans.map((c: any) => c.clanId)).toEqual(["blue"]);
    expect(ops.json.me).toBeNull();
    // without a clan claim, or in a clan with no contribution yet, there is no place to show
    expect((await ranking(eventId, "loner", null)).json.me).toBeNull();
    expect((await ranking(eventId, "newbie", "silver")).json.me).toBeNull();

    // No clan leaderboard asked for: the final standings are recorded (and read) but not projected to D1.
    await endAndFinalize(eventId);
    const final = await until(() => ranking(eventId, "b-1", "blue"), (r) => r.json.finalized === true);
    expect(final.value.json.clans.map((c: any) => [c.rank, c.clanId, c.rewardTier])).toEqual([[1, "green", -1], [2, "red", -1], [3, "blue", -1], [4, "gold", -1]]);
    expect((await d1Standings(eventId)).results).toEqual([]);
  });

  it("answers clear 4xx errors: a cursor it never gave out, a bad limit, an unknown parameter, not a clan event", async () => {
    const eventId = await clanEvent();
    const bad = await ranking(eventId, "p", "red", "?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("invalid_cursor");
    for (const q of ["?limit=0", "?limit=101", "?limit=ten", "?sort=asc"]) {
      const r = await ranking(eventId, "p", "red", q);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("validation_failed");
    }
    const plain = await createTemplate();
    const ev = await createEvent(plain.templateId, { startTime: "now", endTime: inMs(HOUR) });
    made.push({ eventId: ev.eventId, shardCount: ev.shardCount });
    expect((await ranking(ev.eventId, "p", "red")).json.error.code).toBe("clan_event_not_found");
    expect((await call("GET", `/v1/admin/events/${eventId}/clans?cursor=${"x".repeat(301)}`)).status).toBe(400);
  });

  it("pages past a clan whose id holds any character", async () => {
    const eventId = await clanEvent();
    await post(eventId, "u-1", "boss-damage", 20, { clan: "狼/ü 🐺" });
    await post(eventId, "u-2", "boss-damage", 10, { clan: "plain" });
    // Both clans' standings reported with their totals (a clan's first report can precede its total's).
    const first = await until(() => ranking(eventId, "u-1", "狼/ü 🐺", "?limit=1"), (r) => r.json.count === 2 && r.json.clans[0]?.total === 20);
    expect(first.value.json.clans[0].clanId).toBe("狼/ü 🐺");
    expect(first.value.json.me).toMatchObject({ rank: 1, clanId: "狼/ü 🐺" });
    const next = await ranking(eventId, "u-1", "狼/ü 🐺", `?limit=1&cursor=${first.value.json.nextCursor}`);
    expect(next.status).toBe(200);
    expect(next.json.clans.map((c: any) => [c.rank, c.clanId])).toEqual([[2, "plain"]]);
  });

  it("spreads the clans' standing reports when the directory has many clans, and still sends the latest", async () => {
    const eventId = await clanEvent();
    // As if the event had 1,000 times more clans: each clan reports at most every 2 s (one clan) or 4 s (two).
    await runInDurableObject(directory(eventId), (o: any) => void (o.directory.reportsPerSecond = 0.5));
    await post(eventId, "s-1", "boss-damage", 100, { clan: "red" });
    await post(eventId, "s-2", "boss-damage", 100, { clan: "blue" });
    await until(() => ranking(eventId, "x", null), (r) => r.json.clans.length === 2 && r.json.clans.every((c: any) => c.total === 100));
    const updatedAt = () => runInDurableObject(directory(eventId), (_o, s) => s.storage.sql.exec("SELECT updated_at FROM clans WHERE clan_id = 'red'").one().updated_at as number);
    const before = await updatedAt();
    await post(eventId, "s-1", "boss-damage", 50, { clan: "red" });
    await until(() => ranking(eventId, "x", null), (r) => r.json.clans[0].total === 150, 8000);
    expect((await updatedAt()) - before).toBeGreaterThanOrEqual(1900);
  });

  it("refuses bad clan rank reward tiers, naming each field", async () => {
    const body = {
      ...templateBody({ objectives: OBJECTIVES }),
      clan: { ...CLAN, rankRewardTiers: [{ fromRank: 3, toRank: 1, rewards: coins(1) }, { topPercent: 10, fromRank: 1, toRank: 1, rewards: coins(1) }, { rewards: coins(1) }] },
    };
    const r = await call("POST", "/v1/admin/templates", { body });
    expect(r.status).toBe(422);
    expect(r.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["clan.rankRewardTiers[0].toRank", "clan.rankRewardTiers[1].topPercent", "clan.rankRewardTiers[2]"]);
  });
});

describe("clan leaderboard", () => {
  it("records the final standings once with a digest, projects them to D1, and pays each rewarded clan's eligible members", async () => {
    const tiers = [{ fromRank: 1, toRank: 1, rewards: coins(500) }, { fromRank: 2, toRank: 2, rewards: coins(100) }];
    const eventId = await clanEvent({ ...CLAN, rankRewardTiers: tiers }, { requiresLeaderboard: true });
    for (const [p, clan, a] of [["lr-big", "red", 950], ["lr-tiny", "red", 10], ["lb-1", "blue", 500], ["lg-1", "green", 20]] as const) {
      expect((await post(eventId, p, "boss-damage", a, { clan })).status).toBe(200);
    }
    await until(() => ranking(eventId, "x", null), (r) => r.json.count === 3);
    // one clan per directory invocation: the rest go on the directory's own alarms
    await runInDurableObject(directory(eventId), (o: any) => void (o.directory.chunk = 1));
    await endAndFinalize(eventId);
    const final = await until(() => ranking(eventId, "lr-big", "red"), (r) => r.json.finalized === true);
    const { clans, digest, me } = final.value.json;
    expect(clans.map((c: any) => [c.rank, c.clanId, c.total, c.members, c.rewardTier])).toEqual([[1, "red", 960, 2, 0], [2, "blue", 500, 1, 1], [3, "green", 20, 1, -1]]);
    expect(me).toMatchObject({ rank: 1, clanId: "red", rewardTier: 0 });
    const lines = clans.map((c: any) => `${c.rank}\t${c.clanId}\t${c.total}\t${Date.parse(c.reachedAt)}`).join("\n");
    expect(digest).toBe(await sha256(`${eventId}\n~clans\n${lines}`));
    const d1 = await until(() => d1Standings(eventId), (r) => r.results.length === 3);
    expect(d1.value.results.map((r: any) => [r.clan_id, r.rank, r.total, r.members, r.reward_tier, r.digest])).toEqual([
      ["red", 1, 960, 2, 0, digest],
      ["blue", 2, 500, 1, 1, digest],
      ["green", 3, 20, 1, -1, digest],
    ]);
    // the rank reward is claimed as milestone 950 by each eligible member of a rewarded clan, once
    const big = await playerToken("lr-big", { clan: "red" });
    const won = await until(() => claim(eventId, big, 950, "rank"), (r) => r.status === 201);
    expect(won.value.json.receipt).toMatchObject({ milestoneIndex: 950, rewards: [expect.objectContaining({ quantity: 500 })] });
    expect((await claim(eventId, big, 950, "rank-again")).json.error.code).toBe("already_claimed");
    const blue = await until(async () => claim(eventId, await playerToken("lb-1", { clan: "blue" }), 950, "b"), (r) => r.status === 201);
    expect(blue.value.json.receipt.rewards[0].quantity).toBe(100);
    // under the clan's 5 % threshold, or in an unrewarded clan: nothing
    expect((await claim(eventId, await playerToken("lr-tiny", { clan: "red" }), 950, "t")).status).toBe(404);
    expect((await claim(eventId, await playerToken("lg-1", { clan: "green" }), 950, "g")).status).toBe(404);
    // repeated alarms change nothing
    await tickEvent(eventId, Date.now() + 10_000);
    const again = await ranking(eventId, "lr-big", "red");
    expect(again.json.digest).toBe(digest);
    expect((await d1Standings(eventId)).results).toHaveLength(3);
    const awards = await runInDurableObject(env.CLAN_EVENT_ACTOR.get(env.CLAN_EVENT_ACTOR.idFromName(`${eventId}|c:red`)), (_o, s) =>
      s.storage.sql.exec("SELECT player_id, idx, granted FROM awards ORDER BY player_id, idx").toArray(),
    );
    expect(awards.map((a: any) => [a.player_id, a.idx, a.granted])).toEqual([["lr-big", 0, 1], ["lr-big", 50, 1]]);
  });
});
