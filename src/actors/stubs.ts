// How the Worker addresses its Durable Objects. Names are stable ids, so any Worker anywhere reaches the same object.
import type { CalendarActor } from "./calendar-actor";
import type { EventActor } from "./event-actor";
import type { ProgressShardActor } from "./progress-shard-actor";
import type { PlayerInventoryActor } from "./inventory-actor";
import { shardName } from "../domain/sharding";

/**
 * Our RPC payloads carry free-form JSON (theme, details) that workers-types maps to `never`; everything we send
 * is structured-cloneable, so the stub is typed by the class's own method signatures instead.
 */
type Api<T, K extends keyof T> = Pick<T, K>;
export type EventActorApi = Api<EventActor, "create" | "get" | "command" | "tick" | "reschedule" | "timing" | "attachShard">;

export function eventActor(env: Env, eventId: string): EventActorApi {
  return env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(eventId)) as unknown as EventActorApi;
}

export type CalendarActorApi = Api<
  CalendarActor,
  "settings" | "updateSettings" | "check" | "createEvent" | "reschedule" | "resume" | "syncWindow" | "windows"
>;

/** Scheduling decisions are low-traffic and must be serialized, so there is exactly one calendar. */
export function calendarActor(env: Env): CalendarActorApi {
  return env.CALENDAR_ACTOR.get(env.CALENDAR_ACTOR.idFromName("global")) as unknown as CalendarActorApi;
}

export type ProgressShardApi = Api<ProgressShardActor, "join" | "progress" | "getProgress" | "summary" | "syncEvent" | "echo" | "rewardStates" | "claim" | "autoClaim" | "broadcast" | "notifyUnclaimed"> & {
  fetch(request: Request): Promise<Response>;
};

export function progressShard(env: Env, eventId: string, shardNo: number): ProgressShardApi {
  return env.PROGRESS_SHARD.get(env.PROGRESS_SHARD.idFromName(shardName(eventId, shardNo))) as unknown as ProgressShardApi;
}

export type InventoryApi = Api<PlayerInventoryActor, "deliver" | "retryDelivery" | "inbox" | "claimInbox" | "inventory">;

/** One inventory object per player: deliveries, the built-in ledger and the overflow inbox are serialized per player. */
export function inventoryActor(env: Env, playerId: string): InventoryApi {
  return env.PLAYER_INVENTORY.get(env.PLAYER_INVENTORY.idFromName(playerId)) as unknown as InventoryApi;
}
