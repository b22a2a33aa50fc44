// The event as the read routes need it (its state and its board and clan definitions), remembered per isolate for a
// few seconds: every leaderboard and clan read used to ask the event's one object, which made that object the hot
// spot of a big event. A board or clan definition never changes once the event runs; a state change (a cancel) is
// seen within CACHE_MS. Bounded, like the shard-count memo beside it.
import { eventActor } from "../actors/stubs";
import type { EventInstance } from "../domain/model";
import { ExpiringSet } from "../lib/expiring-set";
import { ApiError } from "./errors";

const CACHE_MS = 5_000;
const MAX_EVENTS = 10_000;

export type EventMechanics = Pick<EventInstance, "eventId" | "state" | "leaderboard" | "clan" | "objectives">;

const held = new Map<string, { until: number; event: EventMechanics }>();
/** Ids that had no event: a flood of made-up ids costs one object lookup per id per window. */
const missing = new ExpiringSet(CACHE_MS, MAX_EVENTS);

/** The live event's mechanics; 404 event_not_found for an event that does not exist or was cancelled. */
export async function eventMechanics(env: Env, eventId: string, now = Date.now()): Promise<EventMechanics> {
  const hit = held.get(eventId);
  let event = hit && hit.until > now ? hit.event : null;
  if (!event) {
    const view = missing.has(eventId, now) ? null : await eventActor(env, eventId).get();
    if (!view) {
      missing.add(eventId, now);
      throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    }
    const { state, leaderboard, clan, objectives } = view.instance;
    event = { eventId, state, leaderboard, clan, objectives };
    if (held.size >= MAX_EVENTS) held.clear();
    held.set(eventId, { until: now + CACHE_MS, event });
  }
  if (event.state === "cancelled") throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
  return event;
}
