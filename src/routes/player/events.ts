// Players: discover events, read one with server-computed countdowns, join, report and read progress, claim
// milestone rewards. Progress is the hot path: token check, zod, one RPC to the player's shard.
// Order matters in one place: /active and /upcoming are declared before /:eventId, which would otherwise take them.
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { eventActor } from "../../actors/stubs";
import { readConfig } from "../../config";
import { activeEvents, participation, upcomingEvents } from "../../db/instances";
import { publicView } from "../../domain/instance";
import { countdown } from "../../domain/lifecycle";
import { ProgressUpdates } from "../../domain/model";
import { HOUR_MS, iso } from "../../domain/time";
import { ClaimResult, Countdown, MilestoneRewards, PlayerProgress, ProgressAck, ProgressSnapshot, PublicEvent, PublicEventList } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { revalidate } from "../../http/cache";
import { ApiError, unwrap } from "../../http/errors";
import { checkEventId } from "../../http/ids";
import { seriesOf } from "../../http/public-series";
import { EventIdParam, PLAYER, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { shardFor } from "../../http/shards";
import { fixedZones } from "../../http/local-zones";
import { idempotencyKey } from "../../http/validate";
import { logLine } from "../../lib/log";

const UpcomingQuery = z.strictObject({ withinHours: z.coerce.number().min(0).max(24 * 90).default(48) });
const ProgressBody = z.strictObject({ updates: ProgressUpdates }).meta({ id: "ProgressBody" });
const EventPath = z.object({ eventId: EventIdParam });
const MilestonePath = z.object({ eventId: EventIdParam, index: z.string().meta({ description: "The milestone's index (0-based)", example: "0" }) });
const IdempotencyHeader = z.object({
  "idempotency-key": z.string().optional().meta({ description: "Required: any unique string per claim attempt (at most 200 characters). A retry with the same key returns the first answer." }),
});
const HIDDEN_STATES = new Set(["cancelled", "failed_activation"]);

function milestoneIndex(raw: string): number {
  if (!/^\d{1,3}$/.test(raw)) throw new ApiError(404, "milestone_not_found", `no milestone "${raw.slice(0, 20)}"`);
  return Number(raw);
}

/** A 429 from a shard says how long to wait in its details; HTTP clients read it from Retry-After. */
function retryAfter(c: Context<AppEnv>, result: { ok: boolean; code?: string; details?: unknown }) {
  if (!result.ok && result.code === "rate_limited") c.header("Retry-After", String((result.details as { retryAfter: number }).retryAfter));
}

/** The calling player's shard for the event in the path. */
const playerShard = (c: Context<AppEnv>, eventId: string) => shardFor(c.env, checkEventId(eventId), c.var.player.playerId);

const players = { tags: ["Events (players)"], security: PLAYER };
const NOT_MODIFIED = { 304: { description: "Not modified (If-None-Match)" } };

export const playerEventRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/active",
      summary: "Events running now",
      middleware: [revalidate],
      responses: { 200: json(PublicEventList, "Active and paused events"), ...NOT_MODIFIED, ...errors(401, 429) },
    }),
    async (c) => {
      const now = Date.now();
      const events = await activeEvents(c.env.DB);
      const [fixed, series] = await Promise.all([fixedZones(c.env, events, c.var.player.playerId), seriesOf(c.env.DB, events.map((e) => e.eventId))]);
      return c.json({ events: events.map((e) => ({ ...publicView(e, now, c.var.player, readConfig(c.env).defaultPlayerTimeZone, fixed.get(e.eventId)), series: series(e.eventId) })) }, 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/upcoming",
      summary: "Events starting within the next hours",
      middleware: [revalidate],
      request: { query: UpcomingQuery },
      responses: { 200: json(PublicEventList, "Scheduled events"), ...NOT_MODIFIED, ...errors(400, 401, 429) },
    }),
    async (c) => {
      const { withinHours } = c.req.valid("query");
      const now = Date.now();
      const events = await upcomingEvents(c.env.DB, now, withinHours * HOUR_MS);
      const [fixed, series] = await Promise.all([fixedZones(c.env, events, c.var.player.playerId), seriesOf(c.env.DB, events.map((e) => e.eventId))]);
      return c.json({ events: events.map((e) => ({ ...publicView(e, now, c.var.player, readConfig(c.env).defaultPlayerTimeZone, fixed.get(e.eventId)), series: series(e.eventId) })) }, 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}/countdown",
      summary: "Server-computed countdown (cheap to poll)",
      request: { params: EventPath },
      responses: { 200: json(Countdown, "Seconds to start and to end, with the server's clock"), ...errors(401, 404, 429) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const timing = await eventActor(c.env, eventId).timing();
      if (!timing || HIDDEN_STATES.has(timing.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
      const now = Date.now();
      // Clients poll this; a one-second cache is below the countdown's own resolution.
      c.header("Cache-Control", "private, max-age=1");
      return c.json(
        { eventId, state: timing.state, startTime: iso(timing.startTime), endTime: iso(timing.endTime), serverTime: iso(now), ...countdown(timing, now) },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}",
      summary: "Read one event",
      middleware: [revalidate],
      request: { params: EventPath },
      responses: { 200: json(PublicEvent, "The event as players see it"), ...NOT_MODIFIED, ...errors(401, 404, 429) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      // The actor, not D1, answers: it is the authority on state, so a client polling across a transition sees it
      // the moment it happens rather than after the projection lands.
      const view = await eventActor(c.env, eventId).get();
      if (!view || HIDDEN_STATES.has(view.instance.state)) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
      const [counts, fixed, series] = await Promise.all([participation(c.env.DB, eventId), fixedZones(c.env, [view.instance], c.var.player.playerId), seriesOf(c.env.DB, [eventId])]);
      return c.json({ ...publicView({ ...view.instance, ...counts }, Date.now(), c.var.player, readConfig(c.env).defaultPlayerTimeZone, fixed.get(eventId)), series: series(eventId) }, 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "post",
      path: "/{eventId}/join",
      summary: "Join an event (idempotent)",
      request: { params: EventPath },
      responses: {
        201: json(ProgressSnapshot, "Joined now: the fresh progress record"),
        200: json(ProgressSnapshot, "Already joined: the progress so far"),
        ...errors(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const eventId = c.req.valid("param").eventId;
      const shard = await playerShard(c, eventId);
      const result = unwrap(await shard.join(c.var.player));
      if (result.joined) logLine("info", "player", "joined event", { eventId, playerId: c.var.player.playerId });
      return result.joined ? c.json(result.progress, 201) : c.json(result.progress, 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "post",
      path: "/{eventId}/progress",
      summary: "Report progress: 1–100 updates, each with the client's seq",
      request: {
        params: EventPath,
        body: jsonRequest(ProgressBody, { maxBytes: (c) => readConfig(c.env).progressMaxBytes, description: "At most PROGRESS_MAX_BYTES (default 64 KiB)." }),
      },
      responses: { 200: json(ProgressAck, "The progress after the updates"), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
    }),
    async (c) => {
      const eventId = c.req.valid("param").eventId;
      const shard = await playerShard(c, eventId);
      const result = await shard.progress(c.var.player, c.req.valid("json").updates as never);
      retryAfter(c, result);
      const ack = unwrap(result);
      // Milestones only: one line per progress request would be most of the Worker's log volume.
      if (ack.newMilestones.length) logLine("info", "player", "milestones reached", { eventId, playerId: c.var.player.playerId, milestones: ack.newMilestones });
      return c.json(ack, 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}/progress",
      summary: "The calling player's progress",
      request: { params: EventPath },
      responses: { 200: json(PlayerProgress, "The progress record"), ...errors(401, 404, 429) },
    }),
    async (c) => {
      const shard = await playerShard(c, c.req.valid("param").eventId);
      return c.json(unwrap(await shard.getProgress(c.var.player.playerId)), 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/{eventId}/rewards",
      summary: "Each milestone's reward state (locked, claimable, claimed, auto_claimed)",
      request: { params: EventPath },
      responses: { 200: json(MilestoneRewards, "Milestones with their rewards and receipts"), ...errors(401, 404, 429) },
    }),
    async (c) => {
      const shard = await playerShard(c, c.req.valid("param").eventId);
      return c.json(unwrap(await shard.rewardStates(c.var.player.playerId)), 200);
    },
  )
  .openapi(
    createRoute({
      ...players,
      method: "post",
      path: "/{eventId}/milestones/{index}/claim",
      summary: "Claim a milestone's rewards (Idempotency-Key required)",
      request: { params: MilestonePath, headers: IdempotencyHeader },
      responses: {
        201: json(ClaimResult, "Claimed: the signed receipt and how the rewards were delivered"),
        200: json(ClaimResult, "A retry with a key already used: the first answer again"),
        ...errors(400, 401, 403, 404, 409, 410, 429),
      },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const index = milestoneIndex(c.req.valid("param").index);
      const key = idempotencyKey(c);
      const shard = await playerShard(c, eventId);
      const result = await shard.claim(c.var.player.playerId, index, key);
      retryAfter(c, result);
      const claim = unwrap(result);
      if (!claim.replayed) logLine("info", "player", "reward claimed", { eventId, playerId: c.var.player.playerId, milestone: index, delivery: claim.delivery });
      const body = { receipt: claim.receipt, delivery: claim.delivery, replayed: claim.replayed };
      return claim.replayed ? c.json(body, 200) : c.json(body, 201);
    },
  );
