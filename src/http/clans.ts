// What the clan routes share: the event's clan definition as the clan objects take it, or a 404 that says why not.
import { eventActor } from "../actors/stubs";
import type { ClanInfo } from "../actors/contracts";
import { clanObjectives } from "../domain/clan";
import { ApiError } from "./errors";
import { checkEventId } from "./ids";

export async function clanInfo(env: Env, rawEventId: string): Promise<ClanInfo> {
  const eventId = checkEventId(rawEventId);
  const view = await eventActor(env, eventId).get();
  if (!view || view.instance.state === "cancelled") throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
  const def = view.instance.clan;
  if (!def) throw new ApiError(404, "clan_event_not_found", "this event has no clan objectives (it is not a cooperative clan event)");
  return { eventId, objectives: clanObjectives(def, view.instance.objectives), definition: def };
}
