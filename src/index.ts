// Worker entry: HTTP routing. All state lives in the Durable Objects exported below and in D1.
import { Hono } from "hono";
import { readConfig } from "./config";
import { requireAdmin, requirePlayer, type AppEnv } from "./http/auth";
import { ApiError } from "./http/errors";
import { adminEventRoutes } from "./routes/admin-events";
import { playerCalendarRoutes } from "./routes/calendar";
import { eventRoutes } from "./routes/events";
import { adminProgressRoutes, benchRoutes, progressRoutes } from "./routes/progress";
import { inboxRoutes, inventoryRoutes, rewardRoutes } from "./routes/rewards";
import { liveRoutes } from "./routes/live";
import { notificationRoutes } from "./routes/notifications";
import { consumeInventoryRetries } from "./queues/inventory";
import { consumeDeadPush, consumePush, type PushMessage } from "./queues/push";
import type { Grant } from "./actors/contracts";
import { scheduleRoutes } from "./routes/schedule";
import { templateRoutes } from "./routes/templates";

export { EventActor } from "./actors/event/event-actor";
export { SchedulerActor } from "./actors/scheduler/scheduler-actor";
export { ProgressShardActor } from "./actors/shard/progress-shard-actor";
export { PlayerInventoryActor } from "./actors/inventory/inventory-actor";

const app = new Hono<AppEnv>();

app.get("/health", (c) => c.json({ ok: true }));
app.route("/v1/_bench", benchRoutes);

app.use("/v1/admin/*", requireAdmin);
app.route("/v1/admin/templates", templateRoutes);
app.route("/v1/admin/events", adminEventRoutes);
app.route("/v1/admin", scheduleRoutes);
app.route("/v1/admin/events", adminProgressRoutes);

// Sockets carry their token in Sec-WebSocket-Protocol or ?token= and are checked by the live route itself.
app.route("/v1/events", liveRoutes);
app.use("/v1/*", async (c, next) => (c.req.path.startsWith("/v1/admin/") || c.req.path.startsWith("/v1/_bench/") ? next() : requirePlayer(c, next)));
app.route("/v1/events", progressRoutes);
app.route("/v1/events", rewardRoutes);
app.route("/v1/inbox", inboxRoutes);
app.route("/v1/inventory", inventoryRoutes);
app.route("/v1/notifications", notificationRoutes);
app.route("/v1/events", eventRoutes);
app.route("/v1/calendar", playerCalendarRoutes);

app.notFound((c) => c.json(new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`).toJSON(), 404));

app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(err.toJSON(), err.status);
  // Anything else is our bug: log it whole, tell the caller only that it happened.
  console.error(JSON.stringify({ msg: "unhandled error", path: c.req.path, error: String(err), stack: (err as Error)?.stack }));
  return c.json(new ApiError(500, "internal_error", "internal error").toJSON(), 500);
});

/** Each queue's consumer, by the name readConfig gives it; the names themselves live in wrangler.toml. */
async function queue(batch: MessageBatch, env: Env): Promise<void> {
  const names = readConfig(env).queues;
  if (batch.queue === names.inventoryDeliveries) return consumeInventoryRetries(batch as MessageBatch<{ grant: Grant }>, env);
  if (batch.queue === names.push) return consumePush(batch as MessageBatch<PushMessage>, env);
  if (batch.queue === names.pushDeadLetter) return consumeDeadPush(batch as MessageBatch<PushMessage>, env);
  // A queue wired to this Worker that the config does not name (a renamed queue, a [vars] typo): guessing a
  // consumer could mark rows wrongly, acking would lose the messages. Retrying keeps them until the config is fixed.
  console.error(JSON.stringify({ msg: "batch from an unknown queue, retrying", queue: batch.queue, messages: batch.messages.length, known: names }));
  batch.retryAll();
}

export default { fetch: app.fetch, queue } satisfies ExportedHandler<Env>;
