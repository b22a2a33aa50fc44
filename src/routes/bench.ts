// Players' progress: join, report, read. The hot path: token check, zod, one RPC to the player's shard.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { eventActor, progressShardActor } from "../actors/stubs";
import { progressTotals } from "../db/progress";
import { ProgressUpdates } from "../domain/model";
import { histogram } from "../domain/progress";
import { shardOf } from "../domain/sharding";
import type { AppEnv } from "../http/auth";
import { ApiError, unwrap } from "../http/errors";
import { eventIdParam } from "../http/ids";
import { jsonBody } from "../http/validate";

const ProgressBody = z.strictObject({ updates: ProgressUpdates });

/**
 * shardCount never changes after an event is created, so each isolate remembers it and the hot path skips the
 * event object entirely. Bounded, so a flood of event ids cannot grow it without limit.
 */
const shardCounts = new Map<string, number>();
async function shardCountOf(env: Env, eventId: string): Promise<number> {
  const hit = shardCounts.get(eventId);
  if (hit) return hit;
  const timing = await eventActor(env, eventId).timing();
  if (!timing) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
  if (shardCounts.size > 10_000) shardCounts.clear();
  shardCounts.set(eventId, timing.shardCount);
  return timing.shardCount;
}

export async function shardFor(c: Context<AppEnv>, eventId: string, playerId: string) {
  const shardNo = shardOf(playerId, await shardCountOf(c.env, eventId));
  return progressShardActor(c.env, eventId, shardNo);
}

export const progressRoutes = new Hono<AppEnv>()
  .post("/:eventId/join", async (c) => {
    const eventId = eventIdParam(c);
    const shard = await shardFor(c, eventId, c.var.player.playerId);
    const result = unwrap(await shard.join(c.var.player));
    return c.json(result.progress, result.joined ? 201 : 200);
  })
  .post("/:eventId/progress", async (c) => {
    const eventId = eventIdParam(c);
    const body = await jsonBody(c, ProgressBody);
    const shard = await shardFor(c, eventId, c.var.player.playerId);
    return c.json(unwrap(await shard.progress(c.var.player, body.updates as never)));
  })
  .get("/:eventId/progress", async (c) => {
    const eventId = eventIdParam(c);
    const shard = await shardFor(c, eventId, c.var.player.playerId);
    return c.json(unwrap(await shard.getProgress(c.var.player.playerId)));
  });

export const adminProgressRoutes = new Hono<AppEnv>()
  .get("/:eventId/players/:playerId/progress", async (c) => {
    const eventId = eventIdParam(c);
    const playerId = c.req.param("playerId").slice(0, 64);
    const shard = await shardFor(c, eventId, playerId);
    return c.json(unwrap(await shard.getProgress(playerId)));
  })
  .get("/:eventId/progress/summary", async (c) => {
    const eventId = eventIdParam(c);
    const count = await shardCountOf(c.env, eventId);
    // The shards are the authority and answer in parallel; D1 may lag them by up to a drain.
    const shards = await Promise.all(Array.from({ length: count }, (_, n) => progressShardActor(c.env, eventId, n).summary()));
    const sum = (k: "participants" | "completions" | "outboxPending" | "flagsPending" | "updatesApplied" | "d1Statements" | "requests") =>
      shards.reduce((acc, s) => acc + s[k], 0);
    const buckets = histogram([], 10).map((b, i) => ({ ...b, count: shards.reduce((acc, s) => acc + s.completionValues[i].count, 0) }));
    return c.json({
      eventId,
      shardCount: count,
      participantCount: sum("participants"),
      completionCount: sum("completions"),
      completionHistogram: buckets,
      ingest: {
        requests: sum("requests"),
        updatesApplied: sum("updatesApplied"),
        d1Statements: sum("d1Statements"),
        outboxPending: sum("outboxPending"),
        flagsPending: sum("flagsPending"),
      },
    });
  })
  .get("/:eventId/progress/totals", async (c) => {
    const eventId = eventIdParam(c);
    return c.json({ eventId, ...(await progressTotals(c.env.DB, eventId)) });
  });

/** Only with ENABLE_BENCH_ROUTES=true: the bare Worker → Durable Object round trip the bench compares against. */
export const benchRoutes = new Hono<AppEnv>().get("/echo", async (c) => {
  if ((c.env.ENABLE_BENCH_ROUTES as string) !== "true") throw new ApiError(404, "not_found", "no such route");
  const n = Number(c.req.query("n") ?? 0) | 0;
  return c.json({ n: await progressShardActor(c.env, "evt_benchecho0", n % 16).echo(n) });
});
