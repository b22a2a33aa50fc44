// What the clan routes share: the event's clan definition as the clan objects take it, or a 404 that says why not.
// From the isolate's short memo of the event (src/http/event-cache.ts), not a read of the event object per request.
import type { ClanInfo } from "../actors/contracts";
import { clanObjectives } from "../domain/clan";
import { ApiError } from "./errors";
import { eventMechanics } from "./event-cache";
import { checkEventId } from "./ids";

export async function clanInfo(env: Env, rawEventId: string): Promise<ClanInfo> {
  const eventId = checkEventId(rawEventId);
  const event = await eventMechanics(env, eventId);
  const def = event.clan;
  if (!def) throw new ApiError(404, "clan_event_not_found", "this event has no clan objectives (it is not a cooperative clan event)");
  return { eventId, objectives: clanObjectives(def, event.objectives), definition: def };
}
