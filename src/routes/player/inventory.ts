// Players' rewards: milestone claims with signed receipts, the overflow inbox and the built-in inventory ledger.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { playerInventoryActor } from "../actors/stubs";
import type { AppEnv } from "../http/auth";
import { ApiError, unwrap } from "../http/errors";
import { eventIdParam } from "../http/ids";
import { query } from "../http/validate";
import { shardFor } from "./progress";

function idempotencyKey(c: Context<AppEnv>): string {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (!key) throw new ApiError(400, "idempotency_key_required", "send an Idempotency-Key header (any unique string per claim attempt)");
  if (key.length > 200) throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be at most 200 characters");
  return key;
}

function milestoneIndex(c: Context<AppEnv>): number {
  const raw = c.req.param("index") ?? "";
  if (!/^\d{1,3}$/.test(raw)) throw new ApiError(404, "milestone_not_found", `no milestone "${raw.slice(0, 20)}"`);
  return Number(raw);
}

export const rewardRoutes = new Hono<AppEnv>()
  .get("/:eventId/rewards", async (c) => {
    const eventId = eventIdParam(c);
    const shard = await shardFor(c, eventId, c.var.player.playerId);
    return c.json(unwrap(await shard.rewardStates(c.var.player.playerId)));
  })
  .post("/:eventId/milestones/:index/claim", async (c) => {
    const eventId = eventIdParam(c);
    const index = milestoneIndex(c);
    const key = idempotencyKey(c);
    const shard = await shardFor(c, eventId, c.var.player.playerId);
    const result = await shard.claim(c.var.player.playerId, index, key);
    if (!result.ok && result.code === "rate_limited") c.header("Retry-After", String((result.details as { retryAfter: number }).retryAfter));
    const claim = unwrap(result);
    return c.json({ receipt: claim.receipt, delivery: claim.delivery, replayed: claim.replayed }, claim.replayed ? 200 : 201);
  });

const InventoryQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const inboxRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ items: await playerInventoryActor(c.env, c.var.player.playerId).inbox(Date.now()) }))
  .post("/:itemId/claim", async (c) => {
    const key = idempotencyKey(c);
    const itemId = c.req.param("itemId").slice(0, 100);
    return c.json(unwrap(await playerInventoryActor(c.env, c.var.player.playerId).claimInbox(itemId, key, Date.now())));
  });

export const inventoryRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const q = query(c, InventoryQuery);
  return c.json(await playerInventoryActor(c.env, c.var.player.playerId).inventory(q.since, q.limit));
});
