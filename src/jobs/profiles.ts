// Player profiles (issue 15), from the hourly cron: the players D1 saw change since the watermark (progress drained,
// sessions or purchases received) get their profile recomputed from bounded aggregates, then the watermark moves to
// where this run stopped. Nothing on a request's or an actor's path waits on it; a failed run leaves the watermark, so
// the next one covers the same changes.
import { readProfileWatermark, writeProfileWatermark } from "../db/settings";
import { SETTLE_MS, recomputeProfiles, touchedPlayers, type ProfileCursor } from "../db/profiles";
import { logLine } from "../lib/log";

export async function runProfiles(d1: D1Database, now: number): Promise<{ players: number; upTo: ProfileCursor }> {
  const since = await readProfileWatermark(d1);
  const until = now - SETTLE_MS;
  if (until <= since.at) return { players: 0, upTo: since };
  const { players, upTo } = await touchedPlayers(d1, since, until);
  const written = players.length ? await recomputeProfiles(d1, players, now) : 0;
  await writeProfileWatermark(d1, upTo, now);
  logLine("info", "analytics", "profiles recomputed", { players: written, since, upTo });
  return { players: written, upTo };
}
