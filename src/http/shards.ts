// Which progress shard a request goes to. Shared by the player routes, the admin progress views and the live socket.
import { eventActor, progressShardActor } from "../actors/stubs";
import { shardOf } from "../domain/sharding";
import { ApiError } from "./errors";

/**
 * shardCount never changes after an event is created, so each isolate remembers it and the hot path skips the
 * event object entirely. Bounded, so a flood of event ids cannot grow it without limit.
 */
const shardCounts = new Map<string, number>();
export async function shardCountOf(env: Env, eventId: string): Promise<number> {
  const hit = shardCounts.get(eventId);
  if (hit) return hit;
  const timing = await eventActor(env, eventId).timing();
  if (!timing) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
  if (shardCounts.size > 10_000) shardCounts.clear();
  shardCounts.set(eventId, timing.shardCount);
  return timing.shardCount;
}

/** The shard that owns this player's progress in this event; 404 event_not_found for an event that does not exist. */
export async function shardFor(env: Env, eventId: string, playerId: string) {
  const shardNo = shardOf(playerId, await shardCountOf(env, eventId));
  return progressShardActor(env, eventId, shardNo);
}
