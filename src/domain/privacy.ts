// Privacy requests about one player, as every object that holds player rows understands them (the kit's
// player-data.ts applies them to an object's tables; the PrivacyActor sends them).

/**
 * What a privacy request asks of an object about one player: a copy of every row naming them, or their erasure, with
 * `pseudonym` (a salted hash of the id, lib/pseudonym.ts) standing in where a row must stay for accounting or totals.
 */
export type PlayerDataOp = { kind: "export" } | { kind: "erase"; pseudonym: string };
/** An object's answer: rows per table (export) or rows touched per table (erase); `links` name further objects holding the player. */
export type PlayerDataPart = { rows: Record<string, unknown[]>; touched: Record<string, number>; links?: { cohortId?: string | null; clanIds?: string[] } };
