// Worker entry: HTTP routing and the queue dispatcher. All state lives in the Durable Objects exported below and in D1.
import { Hono } from "hono";
import { readConfig } from "./config";
import type { AppEnv } from "./http/auth";
import { ApiError, noRoute } from "./http/errors";
import { ClientDisconnected } from "./http/validate";
import { adminApp } from "./routes/admin";
import { benchRoutes } from "./routes/bench";
import { liveSocket } from "./routes/live";
import { playerApp } from "./routes/player";
import { wellKnownApp } from "./routes/well-known";
import { serverApp } from "./routes/server";
import { consumeInventoryRetries } from "./queues/inventory";
import { consumeDeadPush, consumePush, type PushMessage } from "./queues/push";
import type { Grant } from "./actors/contracts";

export { EventActor } from "./actors/event/event-actor";
export { SchedulerActor } from "./actors/scheduler/scheduler-actor";
export { ProgressShardActor } from "./actors/shard/progress-shard-actor";
export { PlayerInventoryActor } from "./actors/inventory/inventory-actor";

// Two apps, each behind its own guard and mounted once: ops at /v1/admin, players at /v1. The player guard covers
// all of /v1/*, and Hono runs matching handlers in registration order (a handler that answers ends the chain), so
// everything that authenticates otherwise is registered before the player app and answers its paths in full:
// - the live socket, which checks the token it carries in Sec-WebSocket-Protocol or ?token= itself (browsers
//   cannot set headers on a socket);
// - the bench echo, which needs no caller and is off unless ENABLE_BENCH_ROUTES=true;
// - the admin app and the game servers' app, each ending in its own 404.
const app = new Hono<AppEnv>()
  .get("/health", (c) => c.json({ ok: true }))
  .route("/.well-known", wellKnownApp)
  .get("/v1/events/:eventId/live", liveSocket)
  .route("/v1/_bench", benchRoutes)
  .route("/v1/admin", adminApp)
  .route("/v1/server", serverApp)
  .route("/v1", playerApp);

app.notFound((c) => c.json(noRoute(c).toJSON(), 404));

app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(err.toJSON(), err.status);
  // The client went away mid-body: nobody is there to read the answer, and nothing of ours failed, so no stack and
  // no error-level line (those mean a bug here), just a note of it.
  if (err instanceof ClientDisconnected) {
    console.log(JSON.stringify({ msg: "client disconnected mid-request", path: c.req.path, error: String(err.cause) }));
    return c.json(new ApiError(400, "client_disconnected", "the request body ended before it was complete").toJSON(), 400);
  }
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
