// Privacy requests about one player, as every object that holds player rows understands them (the kit's
// player-data.ts applies them to an object's tables; the PrivacyActor sends them).

/**
 * What a privacy request asks of an object about one player: a copy of every row naming them, or their erasure, with
 * `pseudonym` (a salted hash of the id, lib/pseudonym.ts) standing in where a row must stay for accounting or totals.
 */
export type PlayerDataOp = { kind: "export" } | { kind: "erase"; pseudonym: string };
/** An object's answer: rows per table (export) or rows touched per table (erase); `links` name further objects holding the player. */
export type PlayerDataPart = { rows: Record<string, unknown[]>; touched: Record<string, number>; links?: { cohortId?: string | null; clanIds?: string[] } };

/**
 * A player's own export gathers rows from D1 and every object that holds them: the costliest read a player can ask
 * for. One per minute per player is plenty for the right of access and keeps a looping client from turning it into
 * load on other players' objects. Ops' exports are not limited (they are audited, and an admin's to make).
 */
export const OWN_EXPORT_INTERVAL_MS = 60_000;

/** Seconds the player must wait before their next own export (0: now is fine), from the time of their last one. */
export function ownExportWait(lastAt: number | null, now: number): number {
  if (lastAt === null) return 0;
  const left = lastAt + OWN_EXPORT_INTERVAL_MS - now;
  return left > 0 ? Math.ceil(left / 1000) : 0;
}
