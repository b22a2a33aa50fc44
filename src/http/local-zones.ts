// A local-time event fixes each player's zone at their first accepted request, and only their shard knows it. Views
// read it there so the caller's `localWindow` is the window their progress is judged by: one shard RPC per local-time
// event in the view that has been active (a scheduled one has fixed nobody's zone), none for any other event.
import { progressShardActor } from "../actors/stubs";
import type { EventInstance } from "../domain/model";
import { shardOf } from "../domain/sharding";
import { logLine } from "../lib/log";

type Local = Pick<EventInstance, "eventId" | "localTime" | "state" | "shardCount">;

/**
 * eventId → the zone fixed for the player (null while none is), for the local-time events among `events`. The shard is
 * found from the instance's own shardCount (no event-object call), and a shard that cannot answer costs only its own
 * event's fixed zone: that view falls back to the token's zone instead of failing the whole list.
 */
export async function fixedZones(env: Env, events: readonly Local[], playerId: string): Promise<Map<string, string | null>> {
  const local = events.filter((e) => e.localTime && e.state !== "scheduled");
  const zones = await Promise.allSettled(local.map((e) => progressShardActor(env, e.eventId, shardOf(playerId, e.shardCount)).localZone(playerId)));
  return new Map(
    local.map((e, i) => {
      const r = zones[i];
      if (r.status === "fulfilled") return [e.eventId, r.value];
      logLine("warn", "error", "fixed zone unavailable; the view falls back to the token's zone", { eventId: e.eventId, error: String(r.reason) });
      return [e.eventId, null];
    }),
  );
}
