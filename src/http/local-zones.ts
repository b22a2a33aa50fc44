// A local-time event fixes each player's zone at their first accepted request, and only their shard knows it. Views
// read it there so the caller's `localWindow` is the window their progress is judged by: one shard RPC per local-time
// event in the view, none for any other event.
import type { EventInstance } from "../domain/model";
import { shardFor } from "./shards";

/** eventId → the zone fixed for the player (null while none is), for the local-time events among `events`. */
export async function fixedZones(env: Env, events: readonly Pick<EventInstance, "eventId" | "localTime">[], playerId: string): Promise<Map<string, string | null>> {
  const local = events.filter((e) => e.localTime);
  const zones = await Promise.all(local.map(async (e) => (await shardFor(env, e.eventId, playerId)).localZone(playerId)));
  return new Map(local.map((e, i) => [e.eventId, zones[i]]));
}
