// The event object's one hook into cooperative events: when the event expires, the clan directory finalizes every
// clan once (domain/clan.ts), a couple of seconds after expiry, once every shard has pushed what it owes (event-actor).
import { clanObjectives, keepsClanBoard } from "../../domain/clan";
import type { EventInstance } from "../../domain/model";
import { clanDirectory } from "../stubs";

export const needsClanFinalize = (before: EventInstance | null | undefined, after: EventInstance) =>
  !!after.clan && after.state === "expired" && before?.state !== "expired";

/** Safe to repeat: each clan finalizes once, the standings are recorded once. */
export async function finalizeClans(env: Env, instance: EventInstance): Promise<void> {
  const def = instance.clan;
  if (!def) return;
  await clanDirectory(env, instance.eventId).finalizeAll({ eventId: instance.eventId, objectives: clanObjectives(def, instance.objectives), definition: def }, keepsClanBoard(instance));
}
