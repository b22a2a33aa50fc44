// How the Worker addresses its Durable Objects. Names are stable ids, so any Worker anywhere reaches the same object.
import type { EventActor } from "./event-actor";

/**
 * Our RPC payloads carry free-form JSON (theme, details) that workers-types maps to `never`; everything we send
 * is structured-cloneable, so the stub is typed by the class's own method signatures instead.
 */
type Api<T, K extends keyof T> = Pick<T, K>;
export type EventActorApi = Api<EventActor, "create" | "get" | "command" | "tick">;

export function eventActor(env: Env, eventId: string): EventActorApi {
  return env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(eventId)) as unknown as EventActorApi;
}
