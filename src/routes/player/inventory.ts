// Players' rewards outside an event: the overflow inbox (rewards that did not fit) and the built-in inventory ledger.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { playerInventoryActor } from "../../actors/stubs";
import { Inbox, InboxClaim, InventoryPage } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { unwrap } from "../../http/errors";
import { PLAYER, errors, json, openApiApp } from "../../http/openapi";
import { idempotencyKey } from "../../http/validate";

const InventoryQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const IdempotencyHeader = z.object({
  "idempotency-key": z.string().optional().meta({ description: "Required: any unique string per claim attempt (at most 200 characters)." }),
});
const players = { tags: ["Rewards"], security: PLAYER };

export const inboxRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...players,
      method: "get",
      path: "/",
      summary: "The player's overflow inbox",
      responses: { 200: json(Inbox, "Rewards that did not fit, waiting to be claimed"), ...errors(401, 429) },
    }),
    async (c) => c.json({ items: await playerInventoryActor(c.env, c.var.player.playerId).inbox(Date.now()) }, 200),
  )
  .openapi(
    createRoute({
      ...players,
      method: "post",
      path: "/{itemId}/claim",
      summary: "Claim an inbox item (Idempotency-Key required)",
      request: { params: z.object({ itemId: z.string() }), headers: IdempotencyHeader },
      responses: { 200: json(InboxClaim, "The item, and whether it reached the inventory"), ...errors(400, 401, 404, 409, 410) },
    }),
    async (c) => {
      const key = idempotencyKey(c);
      const itemId = c.req.valid("param").itemId.slice(0, 100);
      return c.json(unwrap(await playerInventoryActor(c.env, c.var.player.playerId).claimInbox(itemId, key, Date.now())), 200);
    },
  );

export const inventoryRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    ...players,
    method: "get",
    path: "/",
    summary: "The built-in inventory ledger, read on from a cursor",
    request: { query: InventoryQuery },
    responses: { 200: json(InventoryPage, "Ledger entries after `since`"), ...errors(400, 401, 429) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await playerInventoryActor(c.env, c.var.player.playerId).inventory(q.since, q.limit), 200);
  },
);
