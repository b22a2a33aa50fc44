// Event ids are minted here and checked before any Durable Object is addressed, so a junk id in a URL never
// spins up an object.
import type { Context } from "hono";
import type { AppEnv } from "./auth";
import { ApiError } from "./errors";

export const EVENT_ID = /^evt_[a-z0-9]{8,40}$/;
export const newEventId = () => `evt_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

export function eventIdParam(c: Context<AppEnv>): string {
  return checkEventId((c.req.param as (k: string) => string | undefined)("eventId") ?? "");
}

/** The id itself, as a route's validated path gives it: 404 when it cannot name an event. */
export function checkEventId(id: string): string {
  if (!EVENT_ID.test(id)) throw new ApiError(404, "event_not_found", `no event with id "${id.slice(0, 64)}"`);
  return id;
}
