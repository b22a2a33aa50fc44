// Players: discover events, read one with server-computed countdowns, join, report and read progress, claim
// milestone rewards. Progress is the hot path: token check, zod, one RPC to the player's shard.
// Order matters in one place: /active and /upcoming are declared before /:eventId, which would otherwise take them.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { eventActor } from "../../actors/stubs";
import { readConfig } from "../../config";
import { activeEvents, participation, upcomingEvents } from "../../db/instances";
import { publicView } from "../../domain/instance";
import { countdown } from "../../domain/lifecycle";
import { ProgressUpdates } from "../../domain/model";
import { HOUR_MS, iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError, unwrap } from "../../http/errors";
import { eventIdParam } from "../../http/ids";
import { shardFor } from "../../http/shards";
import { idempotencyKey, jsonBody, query } from "../../http/validate";

const UpcomingQuery = z.strictObject({ withinHours: z.coerce.number().min(0).max(24 * 90).default(48) });
const ProgressBody = z.strictObject({ updates: ProgressUpdates });
const HIDDEN_STATES = new Set(["cancelled", "failed_activation"]);

function milestoneIndex(c: Context<AppEnv>): number {
  const raw = c.req.param("index") ?? "";
  if (!/^\d{1,3}$/.test(raw)) throw new ApiError(404, "milestone_not_found", `no milestone "${raw.slice(0, 20)}"`);
  return Number(raw);
}

/** A 429 from a shard says how long to wait in its details; HTTP clients read it from Retry-After. */
function retryAfter(c: Context<AppEnv>, result: { ok: boolean; code?: string; details?: unknown }) {
  if (!result.ok && result.code === "rate_limited") c.header("Retry-After", String((result.details as { retryAfter: number }).retryAfter));
}

/** The calling player's shard for the event in the path. */
const playerShard = (c: Context<AppEnv>, eventId: string) => shardFor(c.env, eventId, c.var.player.playerId);

export const playerEventRoutes = new Hono<AppEnv>()
  .get("/active", async (c) => {
    const now = Date.now();
    const events = await activeEvents(c.env.DB);
    return c.json({ events: events.map((e) => publicView(e, now, c.var.player)) });
  })
  .get("/upcoming", async (c) => {
    const { withinHours } = query(c, UpcomingQuery);
    const now = Date.now();
    const events = await upcomingEvents(c.env.DB, now, withinHours * HOUR_MS);
    return c.json({ events: events.map((e) => publicView(e, now, c.var.player)) });
  })
  .get("/:eventId/countdown", async (c) => {
    const eventId = eventIdParam(c);
    const timing = await eventActor(c.env, eventId).timing();
    if (!timing || HIDDEN_STATES.has(timing.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    const now = Date.now();
    // Clients poll this; a one-second cache is below the countdown's own resolution.
    c.header("Cache-Control", "private, max-age=1");
    return c.json({
      eventId,
      state: timing.state,
      startTime: iso(timing.startTime),
      endTime: iso(timing.endTime),
      serverTime: iso(now),
      ...countdown(timing, now),
    });
  })
  .get("/:eventId", async (c) => {
    const eventId = eventIdParam(c);
    // The actor, not D1, answers: it is the authority on state, so a client polling across a transition sees it
    // the moment it happens rather than after the projection lands.
    const view = await eventActor(c.env, eventId).get();
    if (!view || HIDDEN_STATES.has(view.instance.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    const counts = await participation(c.env.DB, eventId);
    return c.json(publicView({ ...view.instance, ...counts }, Date.now(), c.var.player));
  })
  .post("/:eventId/join", async (c) => {
    const shard = await playerShard(c, eventIdParam(c));
    const result = unwrap(await shard.join(c.var.player));
    return c.json(result.progress, result.joined ? 201 : 200);
  })
  .post("/:eventId/progress", async (c) => {
    const eventId = eventIdParam(c);
    const body = await jsonBody(c, ProgressBody, { maxBytes: readConfig(c.env).progressMaxBytes });
    const shard = await playerShard(c, eventId);
    const result = await shard.progress(c.var.player, body.updates as never);
    retryAfter(c, result);
    return c.json(unwrap(result));
  })
  .get("/:eventId/progress", async (c) => {
    const shard = await playerShard(c, eventIdParam(c));
    return c.json(unwrap(await shard.getProgress(c.var.player.playerId)));
  })
  .get("/:eventId/rewards", async (c) => {
    const shard = await playerShard(c, eventIdParam(c));
    return c.json(unwrap(await shard.rewardStates(c.var.player.playerId)));
  })
  .post("/:eventId/milestones/:index/claim", async (c) => {
    const eventId = eventIdParam(c);
    const index = milestoneIndex(c);
    const key = idempotencyKey(c);
    const shard = await playerShard(c, eventId);
    const result = await shard.claim(c.var.player.playerId, index, key);
    retryAfter(c, result);
    const claim = unwrap(result);
    return c.json({ receipt: claim.receipt, delivery: claim.delivery, replayed: claim.replayed }, claim.replayed ? 200 : 201);
  });
