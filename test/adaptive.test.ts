// Adaptive difficulty (issue 15) through the real progress shard: a struggling player (by pace, or stalled while
// playing) is adjusted once (targets × 0.8 rounded up, never below their progress, the booster on their first unclaimed
// milestone), sees it in their progress and on their socket, reaches a milestone at once when the new targets put them
// past it, and claims the booster; a replayed update, a second struggle and an evicted shard never adjust twice; a
// control-group player is only recorded. Time in the event is moved by back-dating the player's join in the shard's
// SQLite and evicting the object, as a player who joined long ago would be found after a restart.
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config";
import { DEFAULT_ADAPTIVE, inControl } from "../src/domain/adaptive";
import { pseudonym } from "../src/lib/pseudonym";
import { call, playerToken, uniqueSlug } from "./helpers";
import { connect } from "./live-helpers";
import { claim, drainShard, liveRewardEvents, runInDurableObject, shardStubFor } from "./rewards-helpers";

const live = liveRewardEvents();
const MIN = 60_000;

/** Player ids on either side of the 10 % holdout. */
function pick(control: boolean, n = 1): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const id = `${uniqueSlug("ad")}-${i}`;
    if (inControl(id, DEFAULT_ADAPTIVE.holdoutShare) === control) out.push(id);
  }
  return out;
}

async function post(eventId: string, playerId: string, amount: number, seq: number) {
  const token = await playerToken(playerId);
  return call("POST", `/v1/events/${eventId}/progress`, { token, body: { updates: [{ objectiveId: "pts", amount, seq }] } });
}

/** The player joined `minutes` ago (and, with `markMinutes`, last reached a milestone then): as found after eviction. */
async function backdate(eventId: string, playerId: string, minutes: number, markMinutes?: number) {
  const stub = shardStubFor(eventId, playerId, 1);
  await runInDurableObject(stub, (_o, s) => {
    s.storage.sql.exec("UPDATE players SET joined_at = joined_at - ? WHERE player_id = ?", minutes * MIN, playerId);
    if (markMinutes !== undefined) s.storage.sql.exec("UPDATE milestone_marks SET at = at - ? WHERE player_id = ?", markMinutes * MIN, playerId);
  });
  await evictDurableObject(stub);
  return stub;
}

const progressOf = async (eventId: string, playerId: string) => (await call("GET", `/v1/events/${eventId}/progress`, { token: await playerToken(playerId) })).json;
const decisions = async (eventId: string) =>
  (await env.DB.prepare("SELECT player_id, arm, reason, factor, targets, assist FROM adaptive_decisions WHERE event_id = ? ORDER BY player_id").bind(eventId).all<any>()).results;

describe("adaptive difficulty", () => {
  it("adjusts a player whose pace cannot reach the next milestone, once, and pays the booster with the milestone", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    expect((await post(e.eventId, p, 1, 1)).status).toBe(200);
    // 100 min in with 0.2: at this pace 0.2 + 0.2/100 × ~120 = 0.44 by the end, short of milestone 0 (0.5).
    await backdate(e.eventId, p, 100);
    const socket = await connect(e.eventId, await playerToken(p));
    const ack = await post(e.eventId, p, 1, 2);
    expect(ack.status).toBe(200);
    expect(ack.json.objectives.pts).toMatchObject({ currentValue: 2, targetValue: 8 }); // ⌈10 × 0.8⌉
    expect(ack.json.completion).toBe(0.25);
    const frame = await socket.client!.next((f) => f.type === "adjusted");
    expect(frame.adjusted).toMatchObject({ reason: "pace", factor: 0.8, targets: { pts: 8 } });
    expect(frame.progress.objectives.pts.targetValue).toBe(8);
    socket.client!.ws.close();

    const view = await progressOf(e.eventId, p);
    expect(view.adjusted).toMatchObject({ reason: "pace", factor: 0.8, targets: { pts: 8 }, assist: { milestoneIndex: 0, reward: { type: "booster", itemId: "booster", quantity: 1 } } });
    // Joining again and a new socket's snapshot show the player's own targets, and the snapshot says why.
    const joined = await call("POST", `/v1/events/${e.eventId}/join`, { token: await playerToken(p) });
    expect(joined.json.objectives.pts.targetValue, JSON.stringify(joined.json)).toBe(8);
    const again = await connect(e.eventId, await playerToken(p));
    const snap = await again.client!.next((f) => f.type === "event_state" && f.change === "snapshot");
    expect(snap.progress.objectives.pts.targetValue).toBe(8);
    expect(snap.progress.adjusted).toMatchObject({ reason: "pace", targets: { pts: 8 } });
    again.client!.ws.close();

    // The same update again (a client retry) and an eviction: nothing moves twice.
    expect((await post(e.eventId, p, 1, 2)).json.duplicates).toEqual([2]);
    await backdate(e.eventId, p, 0);
    const third = await post(e.eventId, p, 2, 3);
    expect(third.json.objectives.pts).toMatchObject({ currentValue: 4, targetValue: 8 });
    // 4 of 8: milestone 0 (it would be 0.4 of the original 10), with the booster among its rewards.
    expect(third.json.newMilestones).toHaveLength(1);
    expect(third.json.newMilestones[0].rewards.map((r: { itemId: string }) => r.itemId)).toEqual(["coins", "booster"]);
    const claimed = await claim(e.eventId, await playerToken(p), 0, `k-${p}`);
    expect(claimed.status, JSON.stringify(claimed.json)).toBe(201);
    expect(claimed.json.receipt.rewards.map((r: { itemId: string }) => r.itemId)).toEqual(["coins", "booster"]);

    const stub = await backdate(e.eventId, p, 0);
    await drainShard(stub);
    const rows = await decisions(e.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ player_id: p, arm: "treated", reason: "pace", factor: 0.8 });
    expect(JSON.parse(rows[0].targets)).toEqual({ pts: 8 });
    const projected = await env.DB.prepare("SELECT completion FROM player_progress WHERE event_id = ? AND player_id = ?").bind(e.eventId, p).first<{ completion: number }>();
    expect(projected?.completion).toBe(0.5);
  });

  it("a stalled player (playing, no milestone for 30 minutes) reaches a milestone at once when the targets drop", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    expect((await post(e.eventId, p, 4.5, 1)).json.completion).toBe(0.45);
    // 40 min in: the pace would make it (0.45 → > 0.5), but no milestone since joining 40 min ago while playing.
    await backdate(e.eventId, p, 40);
    const ack = await post(e.eventId, p, 0.1, 2);
    // 4.6 of 8 = 0.575: milestone 0 unlocks in this very answer, the booster on it.
    expect(ack.json.objectives.pts.targetValue).toBe(8);
    expect(ack.json.newMilestones.map((m: { index: number }) => m.index)).toEqual([0]);
    expect(ack.json.unlockedMilestones).toEqual([0]);
    expect((await progressOf(e.eventId, p)).adjusted.reason).toBe("stalled");
  });

  it("targets never drop below progress made: a player at 9 of 10 gets 9, not 8", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    expect((await post(e.eventId, p, 9, 1)).json.unlockedMilestones).toEqual([0]);
    // Milestone 0 came 35 minutes ago and nothing since, while playing: stalled short of milestone 1.
    await backdate(e.eventId, p, 60, 35);
    const ack = await post(e.eventId, p, 0.0001, 2);
    expect(ack.json.objectives.pts.targetValue).toBe(9.0001);
    expect(ack.json.completion).toBe(1);
    expect(ack.json.newMilestones.map((m: { index: number }) => m.index)).toEqual([1]);
    // The assist goes on the first milestone not claimed: 0 was never claimed, so there.
    expect((await progressOf(e.eventId, p)).adjusted).toMatchObject({ reason: "stalled", targets: { pts: 9.0001 }, assist: { milestoneIndex: 0 } });
  });

  it("a control-group player is recorded as struggling but never adjusted, and the 'adapt' row finds players between updates", async () => {
    const e = await live({ shardCount: 1 });
    const [c] = pick(true);
    const [t] = pick(false);
    expect((await post(e.eventId, c, 1, 1)).status).toBe(200);
    expect((await post(e.eventId, t, 1, 1)).status).toBe(200);
    await backdate(e.eventId, c, 100);
    const ack = await post(e.eventId, c, 1, 2);
    expect(ack.json.objectives.pts.targetValue).toBe(10);
    expect((await progressOf(e.eventId, c)).adjusted).toBeNull();
    // The treated player sends nothing more: the shard's "adapt" row (booked by their first update) judges them.
    const stub = await backdate(e.eventId, t, 100);
    await runInDurableObject(stub, (_o, s) => {
      s.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'adapt'", Date.now());
    });
    await runDurableObjectAlarm(stub);
    expect((await progressOf(e.eventId, t)).adjusted).toMatchObject({ reason: "pace", targets: { pts: 8 } });
    // The row books itself again while the event runs.
    const next = await runInDurableObject(stub, (_o, s) => s.storage.sql.exec("SELECT due_at FROM schedule WHERE kind = 'adapt'").toArray());
    expect(next).toHaveLength(1);
    // Another struggle later changes nothing for either.
    await backdate(e.eventId, c, 10);
    expect((await post(e.eventId, c, 0.1, 3)).json.objectives.pts.targetValue).toBe(10);
    await drainShard(stub);
    expect((await decisions(e.eventId)).map((r: { player_id: string; arm: string }) => [r.player_id, r.arm]).sort()).toEqual(
      [[c, "control"], [t, "treated"]].sort(),
    );
  });

  it("the 'adapt' row keeps its turn through a pause and judges players again once the event resumes", async () => {
    const e = await live({ shardCount: 1 });
    const [t] = pick(false);
    expect((await post(e.eventId, t, 1, 1)).status).toBe(200);
    const stub = shardStubFor(e.eventId, t, 1);
    const fire = async () => {
      await runInDurableObject(stub, (_o, s) => {
        s.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'adapt'", Date.now());
      });
      await runDurableObjectAlarm(stub);
      return runInDurableObject(stub, (_o, s) => s.storage.sql.exec("SELECT due_at FROM schedule WHERE kind = 'adapt'").toArray());
    };
    expect((await call("POST", `/v1/admin/events/${e.eventId}/pause`, { body: { reason: "test" } })).status).toBe(200);
    // Fired while paused: nobody judged, and the row is booked again rather than dropped for good.
    expect(await fire()).toHaveLength(1);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/resume`, { body: { reason: "test" } })).status).toBe(200);
    await backdate(e.eventId, t, 100);
    expect(await fire()).toHaveLength(1);
    expect((await progressOf(e.eventId, t)).adjusted).toMatchObject({ reason: "pace", targets: { pts: 8 } });
  });

  it("takes a holdout of 0–50 % from ADAPTIVE_HOLDOUT_PERCENT; a negative or larger one is a typo and gets the default", () => {
    const share = (v: string) => readConfig({ ...env, ADAPTIVE_HOLDOUT_PERCENT: v } as Env).adaptive.holdoutShare;
    expect(share("0")).toBe(0);
    expect(share("25")).toBe(0.25);
    expect(share("50")).toBe(0.5);
    for (const bad of ["-5", "-0.1", "51", "100", "abc"]) expect(share(bad), bad).toBe(DEFAULT_ADAPTIVE.holdoutShare);
  });

  it("nobody is judged in their first minutes", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    expect((await post(e.eventId, p, 0.1, 1)).status).toBe(200);
    await backdate(e.eventId, p, 9);
    expect((await post(e.eventId, p, 0.1, 2)).json.objectives.pts.targetValue).toBe(10);
    expect((await progressOf(e.eventId, p)).adjusted).toBeNull();
  });

  it("an erase keeps the decision under the pseudonym, in D1 and in the shard", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    expect((await post(e.eventId, p, 1, 1)).status).toBe(200);
    await backdate(e.eventId, p, 100);
    expect((await post(e.eventId, p, 1, 2)).json.objectives.pts.targetValue).toBe(8);
    const stub = shardStubFor(e.eventId, p, 1);
    await drainShard(stub);
    const before = await call("POST", `/v1/admin/players/${p}/export`, { body: { reason: "GDPR access request" } });
    expect(before.json.data["d1/adaptive_decisions"]).toMatchObject([{ player_id: p, arm: "treated", targets: { pts: 8 } }]);
    const job = await call("POST", `/v1/admin/players/${p}/erase`, { body: { reason: "GDPR erasure request" } });
    for (let i = 0; i < 100; i++) {
      if ((await call("GET", `/v1/admin/privacy/jobs/${job.json.jobId}`)).json.state === "done") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const anon = await pseudonym("test-privacy-salt", p);
    expect((await decisions(e.eventId)).map((r: { player_id: string }) => r.player_id)).toEqual([anon]);
    const kept = await runInDurableObject(stub, (_o, s) => s.storage.sql.exec("SELECT player_id FROM adaptive").toArray());
    expect(kept).toEqual([{ player_id: anon }]);
  });

  it("a returning player is judged afresh after an erase, and a second erase completes (the pseudonym's row gives way)", async () => {
    const e = await live({ shardCount: 1 });
    const [p] = pick(false);
    const stub = shardStubFor(e.eventId, p, 1);
    const struggleAndErase = async () => {
      // The shard is still awake from the erase before (none the first time): the event's own targets, not adjusted.
      expect((await post(e.eventId, p, 1, 1)).json.objectives.pts.targetValue).toBe(10);
      expect((await progressOf(e.eventId, p)).adjusted).toBeNull();
      await backdate(e.eventId, p, 100);
      expect((await post(e.eventId, p, 1, 2)).json.objectives.pts.targetValue).toBe(8);
      // The decision owed to D1 is not keyed by the player id (an erase could not rewrite a key).
      const owed = await runInDurableObject(stub, (_o, s) => s.storage.sql.exec<{ id: string }>("SELECT id FROM outbox WHERE topic = 'adapt'").toArray());
      expect(owed).toHaveLength(1);
      expect(owed[0].id).not.toContain(p);
      await drainShard(stub);
      const job = await call("POST", `/v1/admin/players/${p}/erase`, { body: { reason: "GDPR erasure request" } });
      expect(job.status).toBe(202);
      let state = "";
      for (let i = 0; i < 100 && state !== "done"; i++) {
        state = (await call("GET", `/v1/admin/privacy/jobs/${job.json.jobId}`)).json.state;
        if (state !== "done") await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe("done");
    };
    await struggleAndErase();
    // Back after the erase, to the same awake shard: judged afresh, struggles, is adjusted, and is erased again.
    await struggleAndErase();
    const anon = await pseudonym("test-privacy-salt", p);
    expect((await decisions(e.eventId)).map((r: { player_id: string }) => r.player_id)).toEqual([anon]);
    const kept = await runInDurableObject(stub, (_o, s) => s.storage.sql.exec("SELECT player_id FROM adaptive").toArray());
    expect(kept).toEqual([{ player_id: anon }]);
  });
});
