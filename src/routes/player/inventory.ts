// Players' rewards outside an event: the overflow inbox (rewards that did not fit) and the built-in inventory ledger.
import { Hono } from "hono";
import { z } from "zod";
import { playerInventoryActor } from "../../actors/stubs";
import type { AppEnv } from "../../http/auth";
import { unwrap } from "../../http/errors";
import { idempotencyKey, query } from "../../http/validate";

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
