// Ops: statistical anti-cheat flags (README "Statistical anti-cheat"). List an event's flags by review state, run a
// rate pass now, and clear (rewards released) or confirm (board entry banned, rewards forfeit) one player's flag, with
// a required reason kept in the flag's history.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { eventActor } from "../../actors/stubs";
import { FlagDecision, FlagList, RatePass, ReviewStateSchema } from "../../domain/anticheat-views";
import type { AppEnv } from "../../http/auth";
import { unwrap } from "../../http/errors";
import { checkEventId } from "../../http/ids";
import { EventIdParam, OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { shardFor } from "../../http/shards";

const EventPath = z.object({ eventId: EventIdParam });
const DecisionPath = z.object({ eventId: EventIdParam, playerId: z.string().min(1).max(64), action: z.enum(["clear", "confirm"]) });
const ListQuery = z.strictObject({
  state: ReviewStateSchema.optional().meta({ description: "Only flags in this review state" }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const Reason = z.strictObject({ reason: z.string().trim().min(1).max(500) }).meta({ id: "FlagDecisionReason" });

const ops = { tags: ["Anti-cheat (ops)"], security: OPERATOR };

export const adminFlagRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/flags",
      summary: "Statistical anti-cheat flags of an event, oldest first, with their review history",
      request: { params: EventPath, query: ListQuery },
      responses: { 200: json(FlagList, "The flags"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const { state, limit } = c.req.valid("query");
      return c.json({ flags: unwrap(await eventActor(c.env, eventId).flags(state ?? null, limit)) }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{eventId}/flags/evaluate",
      summary: "Run a rate pass now (it also runs on its own every ANTICHEAT_INTERVAL_SECONDS while the event is active, and at expiry)",
      request: { params: EventPath, body: jsonRequest(Reason) },
      responses: { 200: json(RatePass, "The merged population and the flags the pass moved"), ...errors(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      return c.json(unwrap(await eventActor(c.env, eventId).ratePass()), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{eventId}/flags/{playerId}/{action}",
      summary: "Clear a flag (held milestone, rank and clan rewards released) or confirm it (board entry banned, rewards forfeit)",
      request: { params: DecisionPath, body: jsonRequest(Reason) },
      responses: { 200: json(FlagDecision, "Decided, and recorded in the flag's history"), ...errors(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { eventId: raw, playerId, action } = c.req.valid("param");
      const eventId = checkEventId(raw);
      const { reason } = c.req.valid("json");
      const shard = await shardFor(c.env, eventId, playerId);
      return c.json(unwrap(await shard.decideFlag(playerId, action, { actor: c.var.operator, reason })), 200);
    },
  );
