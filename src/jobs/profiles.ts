// Player profiles (issue 15), from the hourly cron: the players D1 saw change since the watermark (progress drained,
// sessions or purchases received) get their profile recomputed from bounded aggregates, then the watermark moves to
// where each page stopped; pages follow one another until caught up or the run's budget is spent. Nothing on a
// request's or an actor's path waits on it; a failed page leaves the watermark, so the next run covers its changes.
import { readProfileWatermark, writeProfileWatermark } from "../db/settings";
import { SETTLE_MS, recomputeProfiles, touchedPlayers } from "../db/profiles";
import type { ProfileCursor } from "../domain/personalization";
import { logLine } from "../lib/log";

/**
 * Pages one run may take: a page holds up to 1,500 players (500 changes from each of 3 sources), about 2 D1 calls per
 * 100 players plus the reads and the histograms of events not seen yet this run: ~8 pages stay well under D1's 1,000
 * queries per invocation beside the keeps in the same cron.
 */
export const PROFILE_MAX_PAGES = 8;
/** Wall time one run may spend paging; what is left waits for the next hour, from the watermark. */
export const PROFILE_TIME_BUDGET_MS = 60_000;

/** Pages through the changes until caught up or out of budget; the watermark moves after every page. */
export async function runProfiles(d1: D1Database, now: number): Promise<{ players: number; upTo: ProfileCursor; pages: number; caughtUp: boolean }> {
  let since = await readProfileWatermark(d1);
  const until = now - SETTLE_MS;
  const started = Date.now();
  let written = 0;
  let pages = 0;
  let more = until > since.at;
  // Pace histograms of events not final yet are counted once per run, not once per page.
  const histograms = new Map<string, number[]>();
  while (more && pages < PROFILE_MAX_PAGES && Date.now() - started < PROFILE_TIME_BUDGET_MS) {
    const page = await touchedPlayers(d1, since, until);
    if (page.players.length) written += await recomputeProfiles(d1, page.players, now, histograms);
    await writeProfileWatermark(d1, page.upTo, now);
    since = page.upTo;
    more = page.more;
    pages++;
  }
  // Behind: how old the oldest change not yet taken may be (0 once caught up), for ops to see a job falling behind.
  const behindMs = more ? Math.max(0, now - since.at) : 0;
  logLine(more ? "warn" : "info", "analytics", "profiles recomputed", { players: written, pages, upTo: since, caughtUp: !more, behindMs });
  return { players: written, upTo: since, pages, caughtUp: !more };
}
