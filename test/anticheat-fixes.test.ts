// Statistical anti-cheat, fixes from a second reading, through the real objects: a player erased between a rate
// pass's two rounds is not judged on the rates the pass kept (a flag would bring their raw id back).
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { merge as mergeMoments } from "../src/domain/anticheat";
import { createEvent, createTemplate, HOUR, inMs } from "./helpers";
import { clearAlarms, runInDurableObject, shardStubFor } from "./rewards-helpers";
import { coins, post } from "./leaderboard-helpers";

const made: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});

async function pointsEvent() {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 1000, trackingKey: "pts" }],
    milestones: [{ index: 0, progressThreshold: 0.05, rewards: coins(10) }],
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 3 });
  made.push({ eventId: e.eventId, shardCount: 3 });
  return e.eventId as string;
}

describe("a player erased between a pass's two rounds", () => {
  it("is not flagged on the rates the pass kept: no review, flag or log row under the raw id", async () => {
    const eventId = await pointsEvent();
    for (let i = 0; i < 40; i++) expect((await post(eventId, `er-${i}`, "pts", i % 2 ? 110 : 90)).status).toBe(200);
    // ≈ 4.4σ above the others: an outlier in the population both rounds use
    expect((await post(eventId, "er-gone", "pts", 145)).status).toBe(200);
    const shard = shardStubFor(eventId, "er-gone", 3) as any;
    const partial = await shard.ratePartial(["pts"], "pass-erase");
    const stubs = [0, 1, 2].map((n) => env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(`${eventId}:${n}`)));
    const others = await Promise.all(stubs.filter((s) => s.id.toString() !== shard.id.toString()).map((s: any) => s.ratePartial(["pts"], "pass-x")));
    const rest = others.reduce((acc: any, p: any) => (p.pts ? { pts: acc.pts ? mergeMoments(acc.pts, p.pts) : p.pts } : acc), {});
    const whole = { pts: rest.pts ? mergeMoments(rest.pts, partial.pts) : partial.pts };
    expect(whole.pts.n).toBe(41);
    // The privacy erase reaches the shard between the rounds.
    await runInDurableObject(shard, (o: any) => o.playerData("er-gone", { kind: "erase", pseudonym: "anon-er-gone" }));
    const settings = { minSample: 30, sigma: 3, reviewAfterMs: HOUR };
    expect(await shard.judgeRates("pass-erase", whole, rest, settings)).toEqual({ flagged: 0, escalated: 0, dismissed: 0 });
    const left = await runInDurableObject(shard, (_o: any, s: DurableObjectState) =>
      ["reviews", "review_log", "flag_counts", "players"].map((t) => s.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${t} WHERE player_id IN ('er-gone', 'anon-er-gone')`).one().n),
    );
    expect(left).toEqual([0, 0, 0, 0]);
  });
});
