// How a board's rows look from outside and how its index comes back after a wake: player ids for the slots a page
// returns, the page cursor (an opaque position in the order), and the rebuild from the entries table.
import { RankIndex, type RankEntry, type RankKey } from "../../domain/ranking";
import { iso } from "../../domain/time";
import type { BoardRow } from "../contracts";

/** The entries table in rank order, the same order the index keeps (score, then time, then slot). */
export const rankOrder = (desc: boolean) => `ORDER BY score ${desc ? "DESC" : "ASC"}, reached_at, slot`;

/**
 * The index from the entries table, straight from the cursor: no row object outlives its step, and the index is
 * sized for the largest slot at once, so a rebuild of 1,000,000 entries peaks near 41 B per entry.
 */
export function rebuildIndex(sql: SqlStorage, desc: boolean): RankIndex {
  const { n, top } = sql.exec<{ n: number; top: number | null }>("SELECT COUNT(*) AS n, MAX(slot) AS top FROM entries WHERE status = 'active'").one();
  const index = new RankIndex(desc, (top ?? 0) + 64);
  const cursor = sql.exec<{ slot: number; score: number; reached_at: number }>(`SELECT slot, score, reached_at FROM entries WHERE status = 'active' ${rankOrder(desc)}`);
  index.buildSorted(n, () => {
    const r = cursor.next();
    return r.done ? null : { slot: r.value.slot, score: r.value.score, reachedAt: r.value.reached_at };
  });
  return index;
}

/** The player ids of a few slots (a page, a neighbourhood), in one statement whatever their number. */
export function playerIds(sql: SqlStorage, slots: readonly number[]): Map<number, string> {
  if (!slots.length) return new Map();
  const rows = sql.exec<{ slot: number; player_id: string }>("SELECT slot, player_id FROM entries WHERE slot IN (SELECT value FROM json_each(?))", JSON.stringify(slots));
  return new Map(rows.toArray().map((r) => [r.slot, r.player_id]));
}

/** Index rows as the routes show them. */
export function rows(sql: SqlStorage, entries: Array<RankEntry & { rank: number }>): BoardRow[] {
  const ids = playerIds(sql, entries.map((e) => e.slot));
  return entries.map((e) => ({ rank: e.rank, playerId: ids.get(e.slot) ?? "", score: e.score, reachedAt: iso(e.reachedAt) }));
}

export function encodeCursor(k: RankKey): string {
  return btoa(JSON.stringify([k.sortKey, k.reachedAt, k.slot])).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** A cursor's position; `playerId` only in a cursor given out before entries had slots (resolved by the board). */
export type CursorKey = RankKey | { sortKey: number; reachedAt: number; playerId: string };

export function decodeCursor(s: string): CursorKey | null {
  try {
    const v = JSON.parse(atob(s.replaceAll("-", "+").replaceAll("_", "/")));
    if (!Array.isArray(v) || v.length !== 3 || !Number.isFinite(v[0]) || !Number.isFinite(v[1])) return null;
    if (Number.isSafeInteger(v[2]) && v[2] > 0) return { sortKey: v[0], reachedAt: v[1], slot: v[2] };
    if (typeof v[2] === "string" && v[2].length > 0 && v[2].length <= 64) return { sortKey: v[0], reachedAt: v[1], playerId: v[2] };
  } catch {
    // falls through: not a cursor of ours
  }
  return null;
}
