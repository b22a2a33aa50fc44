// How a board's rows look from outside and how its index comes back after a wake: the page rows, the page cursor (an
// opaque position in the order), the standings digest, and the rebuild from the entries table.
import { RankIndex, type RankEntry, type RankKey } from "../../domain/ranking";
import { iso } from "../../domain/time";
import { sha256Hex } from "../../lib/sha256";
import type { BoardRow } from "../contracts";

/**
 * The index from the entries table, straight from the cursor into columns: at 1,000,000 entries an array of row
 * objects (and a second of entries) would double the peak memory of a rebuild.
 */
export function rebuildIndex(sql: SqlStorage, desc: boolean): RankIndex {
  const total = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries WHERE status = 'active'").one().n;
  const ids = new Array<string>(total);
  const scores = new Float64Array(total);
  const reached = new Float64Array(total);
  let n = 0;
  const cursor = sql.exec<{ player_id: string; score: number; reached_at: number }>(
    `SELECT player_id, score, reached_at FROM entries WHERE status = 'active' ORDER BY score ${desc ? "DESC" : "ASC"}, reached_at, player_id`,
  );
  for (const r of cursor) {
    if (n === total) break;
    ids[n] = r.player_id;
    scores[n] = r.score;
    reached[n++] = r.reached_at;
  }
  const index = new RankIndex(desc, n + 16);
  index.buildColumns(n, ids, scores, reached);
  return index;
}

export const row = (e: RankEntry & { rank: number }): BoardRow => ({ rank: e.rank, playerId: e.playerId, score: e.score, reachedAt: iso(e.reachedAt) });

export function encodeCursor(k: RankKey): string {
  return btoa(JSON.stringify([k.sortKey, k.reachedAt, k.playerId])).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor(s: string): RankKey | null {
  try {
    const v = JSON.parse(atob(s.replaceAll("-", "+").replaceAll("_", "/")));
    if (Array.isArray(v) && v.length === 3 && Number.isFinite(v[0]) && Number.isFinite(v[1]) && typeof v[2] === "string") return { sortKey: v[0], reachedAt: v[1], playerId: v[2] };
  } catch {
    // falls through: not a cursor of ours
  }
  return null;
}

/** Synchronous on purpose: finalize must not await between its snapshot and recording it. */
export const sha256 = sha256Hex;

