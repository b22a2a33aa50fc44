// Statistical anti-cheat through the real objects: rate partials from every shard merged by the event object, 3σ
// flags on a synthetic population, held claims released by clearing, review states, a confirmed cheat banned from the
// board, and the routes' refusals. Players post within the first minute, so each one's rate is simply their progress
// (the one-minute floor of active time: their capped gaps between updates add up to less): the populations below are chosen in rates directly.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { merge as mergeMoments } from "../src/domain/anticheat";
import { apiKey, call, createEvent, createTemplate, HOUR, inMs, playerToken } from "./helpers";
import { claim, clearAlarms, runInDurableObject, settle, shardStubFor, tickEvent } from "./rewards-helpers";
import { arenaEvent, coins, inBoard, post, top, until } from "./leaderboard-helpers";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});

/** An event whose one objective takes large amounts: milestone 0 at 50 points, milestone 1 at 1000. */
async function pointsEvent() {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 1000, trackingKey: "pts" }],
    milestones: [
      { index: 0, progressThreshold: 0.05, rewards: coins(10) },
      { index: 1, progressThreshold: 1, rewards: coins(50) },
    ],
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 3 });
  made.push({ eventId: e.eventId, shardCount: 3 });
  return e.eventId as string;
}

/** `count` players at 90 or 110 points a minute (mean 100, sd ≈ 10.1), named `<prefix>-<i>`. */
async function population(eventId: string, prefix: string, count: number, objectiveId = "pts") {
  for (let i = 0; i < count; i++) expect((await post(eventId, `${prefix}-${i}`, objectiveId, i % 2 ? 110 : 90)).status).toBe(200);
}

const REASON = { reason: "ticket 77: reviewed the match logs" };
const evaluate = (eventId: string) => call("POST", `/v1/admin/events/${eventId}/flags/evaluate`, { body: REASON });
const flags = (eventId: string, query = "") => call("GET", `/v1/admin/events/${eventId}/flags${query}`);
const decide = (eventId: string, playerId: string, action: string, body: unknown = REASON) => call("POST", `/v1/admin/events/${eventId}/flags/${playerId}/${action}`, { body });

describe("rate passes", () => {
  it("flag nobody while the population is below the sample minimum (30)", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "few", 20);
    expect((await post(eventId, "few-cheat", "pts", 900)).status).toBe(200);
    const pass = await evaluate(eventId);
    expect(pass.status).toBe(200);
    expect(pass.json).toMatchObject({ flagged: 0, escalated: 0, dismissed: 0 });
    expect(pass.json.population).toEqual([{ objectiveId: "pts", n: 21, mean: expect.any(Number), sd: expect.any(Number) }]);
    expect(pass.json.shards).toBeGreaterThan(1);
    expect((await flags(eventId)).json.flags).toEqual([]);
    // the claim is not held: nothing flagged
    expect((await claim(eventId, await playerToken("few-cheat"), 0, "k")).status).toBe(201);
  });

  it("flag only the player 4σ above a 40-player population; the held claim is refused until ops clear it", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "pop", 40);
    // sd of the others ≈ 10.13: 145 is ≈ 4.4σ above their mean of 100
    expect((await post(eventId, "cheat", "pts", 145)).status).toBe(200);
    const pass = await evaluate(eventId);
    expect(pass.json).toMatchObject({ flagged: 1, population: [{ objectiveId: "pts", n: 41 }] });
    const listed = (await flags(eventId, "?state=flagged")).json.flags;
    expect(listed.map((f: any) => f.playerId)).toEqual(["cheat"]);
    expect(listed[0]).toMatchObject({ state: "flagged", objectiveId: "pts", rate: 145, n: 40, history: [{ from: null, to: "flagged", cause: "statistical_outlier", actor: "system" }] });
    expect(listed[0].mean).toBeCloseTo(100, 6);
    expect(listed[0].z).toBeGreaterThan(4);
    // a second pass changes nothing (the review delay has not passed): still one flag, still "flagged"
    expect((await evaluate(eventId)).json).toMatchObject({ flagged: 0, escalated: 0, dismissed: 0 });

    // the outlier's earned milestone is held; an ordinary player's is not
    const token = await playerToken("cheat");
    const held = await claim(eventId, token, 0, "c1");
    expect([held.status, held.json.error.code, held.json.error.details.state]).toEqual([409, "reward_held", "flagged"]);
    expect((await claim(eventId, await playerToken("pop-1"), 0, "p1")).status).toBe(201);

    // automatic investigation: an implausible request from a flagged player escalates the flag to review
    expect((await post(eventId, "cheat", "pts", -3)).status).toBe(422);
    expect((await flags(eventId, "?state=under_review")).json.flags.map((f: any) => f.playerId)).toEqual(["cheat"]);
    expect((await flags(eventId, "?state=flagged")).json.flags).toEqual([]);

    // ops clear it, with a reason: the claim goes through, and the history keeps who and why
    const cleared = await decide(eventId, "cheat", "clear");
    expect(cleared.status).toBe(200);
    expect(cleared.json.flag.state).toBe("cleared");
    expect(cleared.json.flag.history.map((h: any) => [h.to, h.actor, h.reason])).toEqual([
      ["flagged", "system", null],
      ["under_review", "system", null],
      ["cleared", "bootstrap", REASON.reason],
    ]);
    const released = await claim(eventId, token, 0, "c2");
    expect(released.status).toBe(201);
    expect(released.json.receipt).toMatchObject({ playerId: "cheat", milestoneIndex: 0 });
    // ops' word stands: a later pass does not flag a cleared player again, and a closed flag cannot be decided twice
    expect((await evaluate(eventId)).json.flagged).toBe(0);
    const again = await decide(eventId, "cheat", "confirm");
    expect([again.status, again.json.error.code]).toEqual([409, "flag_closed"]);
    // D1 keeps the flag beside the plausibility checks' counts, under its own reason code
    await settle(eventId, 3);
    const rows = await env.DB.prepare("SELECT player_id, objective_id, reason, count FROM progress_flags WHERE event_id = ? ORDER BY reason").bind(eventId).all<any>();
    expect(rows.results).toEqual([
      { player_id: "cheat", objective_id: "pts", reason: "not_positive", count: 1 },
      { player_id: "cheat", objective_id: "pts", reason: "statistical_outlier", count: 1 },
    ]);
    // a claim made before the flag, replayed with its Idempotency-Key, still answers its original receipt
    const early = await playerToken("early");
    expect((await post(eventId, "early", "pts", 100)).status).toBe(200);
    const first = await claim(eventId, early, 0, "e1");
    expect(first.status).toBe(201);
    // (flagged by hand after the claim landed: what a pass between the claim and its replay would have done)
    await runInDurableObject(shardStubFor(eventId, "early", 3), (_o: any, s: DurableObjectState) => {
      s.storage.sql.exec("INSERT INTO reviews (player_id, state, objective_id, rate, z, mean, sd, n, flagged_at, updated_at) VALUES ('early', 'flagged', 'pts', 1, 4, 0, 1, 40, 0, 0)");
    });
    const replay = await claim(eventId, early, 0, "e1");
    expect([replay.status, replay.json.replayed, replay.json.receipt?.claimId]).toEqual([200, true, first.json.receipt.claimId]);
    expect((await claim(eventId, early, 0, "e2")).json.error.code).toBe("reward_held");
  });

  it("escalate a flag to review when a pass still finds the player an outlier after the review delay (1 h)", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "esc", 40);
    expect((await post(eventId, "esc-cheat", "pts", 160)).status).toBe(200);
    expect((await evaluate(eventId)).json.flagged).toBe(1);
    expect((await evaluate(eventId)).json.escalated).toBe(0);
    // the flag is an hour old, as far as the shard knows
    await runInDurableObject(shardStubFor(eventId, "esc-cheat", 3), (_o: any, s: DurableObjectState) => {
      s.storage.sql.exec("UPDATE reviews SET flagged_at = flagged_at - 3600000 WHERE player_id = 'esc-cheat'");
    });
    expect((await evaluate(eventId)).json).toMatchObject({ flagged: 0, escalated: 1 });
    const [flag] = (await flags(eventId, "?state=under_review")).json.flags;
    expect(flag).toMatchObject({ playerId: "esc-cheat", rate: 160 });
    expect(flag.history.map((h: any) => [h.to, h.cause])).toEqual([["flagged", "statistical_outlier"], ["under_review", "still_outlier"]]);
    // still held while under review; confirming forfeits it
    expect((await claim(eventId, await playerToken("esc-cheat"), 0, "k")).json.error.code).toBe("reward_held");
    expect((await decide(eventId, "esc-cheat", "confirm")).json.flag.state).toBe("confirmed");
    expect((await claim(eventId, await playerToken("esc-cheat"), 0, "k2")).json.error.code).toBe("reward_forfeited");
  });

  it("leave held players out of the population, so a flagged cheater does not hide the next one", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "two", 40);
    expect((await post(eventId, "two-a", "pts", 150)).status).toBe(200);
    expect((await evaluate(eventId)).json).toMatchObject({ flagged: 1, population: [{ n: 41 }] });
    // 135 is ≈ 3.5σ above the 40 honest players, but only ≈ 2.6σ above them with the flagged 150 among them
    expect((await post(eventId, "two-b", "pts", 135)).status).toBe(200);
    const pass = await evaluate(eventId);
    expect(pass.json).toMatchObject({ flagged: 1, population: [{ objectiveId: "pts", n: 41 }] });
    expect(pass.json.population[0].mean).toBeGreaterThan(100);
    expect((await flags(eventId, "?state=flagged")).json.flags.map((f: any) => f.playerId).sort()).toEqual(["two-a", "two-b"]);
    // the held one is still judged, against everyone else: still an outlier, so still flagged (not dismissed)
    expect((await evaluate(eventId)).json).toMatchObject({ flagged: 0, dismissed: 0 });
  });

  it("judge each shard's players with the rates it sent for the pass, whatever arrives between the rounds", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "mid", 40);
    const shard = shardStubFor(eventId, "mid-late", 3) as any;
    const partial = await shard.ratePartial(["pts"], "pass-1");
    // a player of that shard posts a huge amount between the rounds: not in what was sent, so not judged this pass
    expect((await post(eventId, "mid-late", "pts", 900)).status).toBe(200);
    const others = await Promise.all([0, 1, 2].map((n) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(`${eventId}:${n}`))).filter((s) => s.id.toString() !== shard.id.toString()).map((s: any) => s.ratePartial(["pts"], "pass-x")));
    const rest = others.reduce((acc: any, p: any) => (p.pts ? { pts: acc.pts ? mergeMoments(acc.pts, p.pts) : p.pts } : acc), {});
    const whole = { pts: mergeMoments(rest.pts, partial.pts) };
    const settings = { minSample: 30, sigma: 3, reviewAfterMs: HOUR };
    expect(await shard.judgeRates("pass-1", whole, rest, settings)).toEqual({ flagged: 0, escalated: 0, dismissed: 0 });
    // a pass the shard no longer holds is refused (the event object runs the pass again)
    expect(await shard.judgeRates("pass-1", whole, rest, settings)).toBeNull();
    // the next full pass sees the late rate and flags it
    expect((await evaluate(eventId)).json.flagged).toBe(1);
  });

  it("reuse a quiet shard's rates instead of reading and parsing every player again", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "quiet", 40);
    const first = (await evaluate(eventId)).json.population[0];
    // rows changed behind the shard's back (no accepted update) are not read again: the pass uses what it had
    const shard = shardStubFor(eventId, "quiet-0", 3);
    await runInDurableObject(shard, (_o: any, s: DurableObjectState) => s.storage.sql.exec(`UPDATE players SET objectives = '{"pts":5000}'`));
    expect((await evaluate(eventId)).json.population[0]).toEqual(first);
    // an accepted update is a change: that shard is read again, and sees every row as it is now
    expect((await post(eventId, "quiet-0", "pts", 1)).status).toBe(200);
    expect((await evaluate(eventId)).json.population[0].mean).toBeGreaterThan(first.mean + 100);
  });

  it("refuse bad input with a clear 4xx", async () => {
    const eventId = await pointsEvent();
    await population(eventId, "bad", 2);
    const noReason = await decide(eventId, "bad-0", "clear", {});
    expect([noReason.status, noReason.json.error.code]).toEqual([422, "validation_failed"]);
    expect((await decide(eventId, "bad-0", "clear", { reason: "  " })).status).toBe(422);
    expect((await decide(eventId, "bad-0", "pardon")).status).toBe(400);
    const none = await decide(eventId, "bad-0", "clear");
    expect([none.status, none.json.error.code]).toEqual([404, "flag_not_found"]);
    expect((await flags(eventId, "?state=suspicious")).status).toBe(400);
    expect((await flags(eventId, "?limit=0")).status).toBe(400);
    expect((await flags("evt_doesnotexist00000000", "")).status).toBe(404);
    expect((await decide("evt_doesnotexist00000000", "bad-0", "clear")).status).toBe(404);
    expect((await call("POST", `/v1/admin/events/nope/flags/evaluate`, { body: REASON })).status).toBe(404);
    // a viewer may list, not decide; a player may do neither
    const viewer = (await apiKey({ name: "flag-viewer", role: "viewer" })).key;
    expect((await call("GET", `/v1/admin/events/${eventId}/flags`, { token: viewer })).status).toBe(200);
    expect((await call("POST", `/v1/admin/events/${eventId}/flags/bad-0/clear`, { token: viewer, body: REASON })).status).toBe(403);
    expect((await call("GET", `/v1/admin/events/${eventId}/flags`, { token: await playerToken("bad-0") })).status).toBe(403);
  });
});

describe("confirmed cheats", () => {
  it("leave the board and forfeit their rewards", async () => {
    const e = await arenaEvent({ rewardTiers: [{ fromRank: 1, toRank: 1, rewards: coins(500) }] }, { shardCount: 2 });
    made.push(e);
    await population(e.eventId, "arena", 40, "wins");
    expect((await post(e.eventId, "arena-cheat", "wins", 150)).status).toBe(200);
    await until(() => top(e.eventId, "arena-0"), (r) => r.json.total === 41 && r.json.entries[0]?.playerId === "arena-cheat");
    expect((await evaluate(e.eventId)).json.flagged).toBe(1);
    const confirmed = await decide(e.eventId, "arena-cheat", "confirm");
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toMatchObject({ board: "banned", released: 0, flag: { state: "confirmed" } });
    const board = await until(() => top(e.eventId, "arena-0"), (r) => r.json.total === 40);
    expect(board.value.json.entries.map((r: any) => r.playerId)).not.toContain("arena-cheat");
    // their progress stays out: a later score does not bring them back
    expect((await post(e.eventId, "arena-cheat", "wins", 1)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect((await top(e.eventId, "arena-0")).json.total).toBe(40);
    const refused = await claim(e.eventId, await playerToken("arena-cheat"), 0, "k");
    expect([refused.status, refused.json.error.code]).toEqual([403, "reward_forfeited"]);
    expect((await flags(e.eventId, "?state=confirmed")).json.flags.map((f: any) => f.playerId)).toEqual(["arena-cheat"]);
  });
});

describe("dismissal", () => {
  it("a flag the population catches up with is dismissed by the next pass, and its board flag lifted", async () => {
    const e = await arenaEvent({}, { shardCount: 2 });
    made.push(e);
    await population(e.eventId, "dis", 40, "wins");
    expect((await post(e.eventId, "dis-fast", "wins", 150)).status).toBe(200);
    expect((await evaluate(e.eventId)).json.flagged).toBe(1);
    const onBoard = () => inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT player_id, cleared_at, cleared_by FROM flagged").toArray());
    await until(onBoard, (rows: any[]) => rows.length === 1);
    // 40 more players at 60 or 140 a minute: the spread widens (sd ≈ 29), and 150 is no longer 3σ above the others
    for (let i = 0; i < 40; i++) expect((await post(e.eventId, `wide-${i}`, "wins", i % 2 ? 140 : 60)).status).toBe(200);
    expect((await evaluate(e.eventId)).json).toMatchObject({ flagged: 0, dismissed: 1 });
    const [flag] = (await flags(e.eventId, "?state=dismissed")).json.flags;
    expect(flag.history.map((h: any) => [h.to, h.cause, h.actor])).toEqual([["flagged", "statistical_outlier", "system"], ["dismissed", "back_within_range", "system"]]);
    expect(await onBoard()).toEqual([{ player_id: "dis-fast", cleared_at: expect.any(Number), cleared_by: "system" }]);
    expect((await claim(e.eventId, await playerToken("dis-fast"), 0, "k")).status).toBe(201);
    // ops cannot decide a dismissed flag
    expect((await decide(e.eventId, "dis-fast", "confirm")).json.error.code).toBe("flag_closed");
  });
});

describe("decisions whose board call fails", () => {
  /** The board refuses every write (its audit table is away) until `restore` puts it back. */
  const breakBoard = (eventId: string) => inBoard(eventId, "global", (_o, s) => s.storage.sql.exec("ALTER TABLE audit RENAME TO audit_away"));
  const restore = (eventId: string) => inBoard(eventId, "global", (_o, s) => s.storage.sql.exec("ALTER TABLE audit_away RENAME TO audit"));
  /** The player's shard runs its "flag" row now, as its alarm will after the backoff; answers the rows left. */
  async function retryFlagRow(eventId: string, playerId: string) {
    const shard = shardStubFor(eventId, playerId, 2);
    const due = (s: DurableObjectState) => s.storage.sql.exec("SELECT key, attempt FROM schedule WHERE kind = 'flag'").toArray();
    const before = await runInDurableObject(shard, (_o: any, s: DurableObjectState) => {
      const rows = due(s);
      s.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'flag'", Date.now());
      return rows;
    });
    // The shard's own alarm (its drains, every second) may run at the same moment and find the row in flight; run it
    // again until the row is done or it has had a fair number of turns.
    let after: Record<string, SqlStorageValue>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      await runDurableObjectAlarm(shard);
      after = await runInDurableObject(shard, (_o: any, s: DurableObjectState) => due(s));
      if (after.length === 0) break;
      await runInDurableObject(shard, (_o: any, s: DurableObjectState) => s.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'flag'", Date.now()));
    }
    return { before, after };
  }

  it("a confirm stands, a repeat answers 200 instead of 409, and the shard bans the entry once the board is back", async () => {
    const e = await arenaEvent({}, { shardCount: 2 });
    made.push(e);
    await population(e.eventId, "fail", 40, "wins");
    expect((await post(e.eventId, "fail-cheat", "wins", 150)).status).toBe(200);
    await until(() => top(e.eventId, "fail-0"), (r) => r.json.total === 41);
    expect((await evaluate(e.eventId)).json.flagged).toBe(1);
    await breakBoard(e.eventId);
    const confirmed = await decide(e.eventId, "fail-cheat", "confirm");
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toMatchObject({ board: "none", flag: { state: "confirmed" } });
    // the same decision again re-runs what did not land, rather than 409 flag_closed
    const repeated = await decide(e.eventId, "fail-cheat", "confirm");
    expect([repeated.status, repeated.json.flag?.state, repeated.json.flag?.history.length]).toEqual([200, "confirmed", 2]);
    expect((await top(e.eventId, "fail-0")).json.total).toBe(41);
    await restore(e.eventId);
    const { before, after } = await retryFlagRow(e.eventId, "fail-cheat");
    expect(before).toEqual([{ key: "fail-cheat", attempt: expect.any(Number) }]);
    expect(before[0].attempt).toBeGreaterThan(0);
    expect(after).toEqual([]);
    await until(() => top(e.eventId, "fail-0"), (r) => r.json.total === 40);
    // the other decision on a closed flag is still refused
    expect((await decide(e.eventId, "fail-cheat", "clear")).json.error.code).toBe("flag_closed");
  });

  it("a dismissal whose board call fails keeps the pass answering, and the board flag is lifted on the retry", async () => {
    const e = await arenaEvent({}, { shardCount: 2 });
    made.push(e);
    await population(e.eventId, "dfail", 40, "wins");
    expect((await post(e.eventId, "dfail-fast", "wins", 150)).status).toBe(200);
    expect((await evaluate(e.eventId)).json.flagged).toBe(1);
    const onBoard = () => inBoard(e.eventId, "global", (_o, s) => s.storage.sql.exec("SELECT player_id, cleared_by FROM flagged").toArray());
    await until(onBoard, (rows: any[]) => rows.length === 1);
    for (let i = 0; i < 40; i++) expect((await post(e.eventId, `dwide-${i}`, "wins", i % 2 ? 140 : 60)).status).toBe(200);
    await breakBoard(e.eventId);
    const pass = await evaluate(e.eventId);
    expect([pass.status, pass.json.dismissed]).toEqual([200, 1]);
    expect(await onBoard()).toEqual([{ player_id: "dfail-fast", cleared_by: null }]);
    await restore(e.eventId);
    const { after } = await retryFlagRow(e.eventId, "dfail-fast");
    expect(after).toEqual([]);
    expect(await onBoard()).toEqual([{ player_id: "dfail-fast", cleared_by: "system" }]);
  });
});

describe("at expiry", () => {
  it("a pass runs on its own, so the outlier's rank reward is held at finalization until ops clear the flag", async () => {
    const e = await arenaEvent({ rewardTiers: [{ fromRank: 1, toRank: 1, rewards: coins(500) }] }, { shardCount: 2 });
    made.push(e);
    await population(e.eventId, "fin", 40, "wins");
    expect((await post(e.eventId, "fin-cheat", "wins", 150)).status).toBe(200);
    await until(() => top(e.eventId, "fin-0"), (r) => r.json.total === 41);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    await until(() => flags(e.eventId), (r) => r.json.flags?.length === 1);
    await tickEvent(e.eventId, Date.now() + 5000);
    const final = await until(() => call("GET", `/v1/admin/events/${e.eventId}/leaderboard/final`), (r) => r.json.standings?.length === 41);
    expect(final.value.json.standings[0]).toMatchObject({ playerId: "fin-cheat", rank: 1, rewardTier: 0, held: true });
    const token = await playerToken("fin-cheat");
    expect((await claim(e.eventId, token, 999, "r1")).status).toBe(409);
    const cleared = await decide(e.eventId, "fin-cheat", "clear");
    expect(cleared.json).toMatchObject({ board: "cleared", flag: { state: "cleared" } });
    const won = await until(() => claim(e.eventId, token, 999, "r2"), (r) => r.status === 201);
    expect(won.value.json.receipt.rewards[0]).toMatchObject({ itemId: "coins", quantity: 500 });
  });
});

describe("clans", () => {
  const OBJECTIVES = [
    { objectiveId: "boss-damage", description: "Damage the raid boss", type: "collect", targetValue: 1000, trackingKey: "raid.damage" },
    { objectiveId: "own-wins", description: "Win your own fights", type: "collect", targetValue: 5, trackingKey: "arena.wins" },
  ];
  const CLAN = { objectiveIds: ["boss-damage"], thresholdPercent: 1, milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(50), unlockMessage: "Halfway" }] };
  /** 40 members of clan red at 20 or 30 damage (mean 25, sd ≈ 5.06) and one at 48 (≈ 4.5σ above them): total 1048. */
  async function raid() {
    const t = await createTemplate({ type: "cooperative", objectives: OBJECTIVES, milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(1) }], clan: CLAN });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
    made.push({ eventId: e.eventId, shardCount: 2 });
    for (let i = 0; i < 40; i++) expect((await post(e.eventId, `raid-${i}`, "boss-damage", i % 2 ? 30 : 20, { clan: "red" })).status).toBe(200);
    expect((await post(e.eventId, "raider", "boss-damage", 48, { clan: "red" })).status).toBe(200);
    await until(() => opsClan(e.eventId), (r) => r.json.total === 1048);
    expect((await evaluate(e.eventId)).json.flagged).toBe(1);
    // the flag reaches the clan through the shard's push: the member is held there too
    await until(() => opsClan(e.eventId), (r) => r.json.members?.find((m: any) => m.playerId === "raider")?.flagged === true);
    return e.eventId as string;
  }
  const opsClan = (eventId: string) => call("GET", `/v1/admin/events/${eventId}/clans/red`);

  it("hold a flagged member's clan reward until ops clear the flag", async () => {
    const eventId = await raid();
    expect((await call("POST", `/v1/admin/events/${eventId}/end-now`, { body: { reason: "test" } })).status).toBe(200);
    await tickEvent(eventId, Date.now() + 5000);
    await until(() => opsClan(eventId), (r) => r.json.finalized === true);
    const token = await playerToken("raider", { clan: "red" });
    expect((await claim(eventId, await playerToken("raid-1", { clan: "red" }), 900, "ok")).status).toBe(201);
    const held = await claim(eventId, token, 900, "h");
    expect([held.status, held.json.error.code]).toEqual([409, "reward_held"]);
    const cleared = await decide(eventId, "raider", "clear");
    expect(cleared.json).toMatchObject({ clans: 1, flag: { state: "cleared" } });
    const got = await until(() => claim(eventId, token, 900, "h2"), (r) => r.status === 201);
    expect(got.value.json.receipt.rewards[0]).toMatchObject({ itemId: "coins", quantity: 50 });
  });

  it("take a confirmed cheat's contribution out of the clan total", async () => {
    const eventId = await raid();
    const confirmed = await decide(eventId, "raider", "confirm");
    expect(confirmed.json).toMatchObject({ clans: 1, board: "none", flag: { state: "confirmed" } });
    const view = await until(() => opsClan(eventId), (r) => r.json.total === 1000);
    // With nothing left in the clan, the cheat is no longer one of its members (a row holding only a flag is not one).
    expect(view.value.json.members.find((m: any) => m.playerId === "raider")).toBeUndefined();
    // what they push later is ignored
    expect((await post(eventId, "raider", "boss-damage", 5, { clan: "red" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect((await opsClan(eventId)).json.total).toBe(1000);
  });
});
