// One player's rows in an object's SQLite, exported or erased from a table list the object's room declares (its
// privacy.ts), so each room states in one place what it holds about a player and whether erasure deletes the row or
// keeps it under the player's pseudonym (a salted hash, lib/pseudonym.ts) for accounting or totals.
import type { PlayerDataOp, PlayerDataPart } from "../../domain/privacy";

/**
 * A table holding player rows. `match` is an SQL condition naming the player as `?2`; `erase` is "delete", or the SET
 * clause that anonymizes the row, writing the pseudonym as `?1` (it must also stop the row matching `?2`). `export:
 * false` leaves a table out of exports: a batch in flight to another object carries other players' rows too, and the
 * player's own copy of it is in the export of the object it is going to. `merge` statements run before the SET when the
 * pseudonym may already have rows of its own there (a push that landed under it after another object was erased
 * first): they fold the player's rows into the pseudonym's and delete them, so the rename cannot hit a primary key.
 */
export type PlayerTable = { name: string; table: string; match: string; erase: "delete" | { set: string; merge?: readonly string[] }; export?: false };

/** JSON held as text reads back as JSON in an export; everything else as stored. */
function readable(row: Record<string, SqlStorageValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === "string" && (v.startsWith("{") || v.startsWith("["))) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // not JSON after all: kept as text
      }
    }
    out[k] = v instanceof ArrayBuffer ? `<${v.byteLength} bytes>` : v;
  }
  return out;
}

/** Exports the player's rows, or erases them inside one transaction; returns rows (export) or rows touched (erase). */
export function playerRows(storage: DurableObjectStorage, tables: readonly PlayerTable[], playerId: string, op: PlayerDataOp): PlayerDataPart {
  const sql = storage.sql;
  const rows: Record<string, unknown[]> = {};
  const touched: Record<string, number> = {};
  if (op.kind === "export") {
    for (const t of tables) if (t.export !== false) rows[t.name] = sql.exec(`SELECT * FROM ${t.table} WHERE ${t.match}`, "", playerId).toArray().map(readable);
    return { rows, touched };
  }
  storage.transactionSync(() => {
    for (const t of tables) {
      const statement = t.erase === "delete" ? `DELETE FROM ${t.table} WHERE ${t.match}` : `UPDATE ${t.table} SET ${t.erase.set} WHERE ${t.match}`;
      // Counted first: rowsWritten would count index writes too.
      const n = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.table} WHERE ${t.match}`, "", playerId).one().n;
      if (n > 0 && t.erase !== "delete") for (const m of t.erase.merge ?? []) sql.exec(m, op.pseudonym, playerId);
      if (n > 0) sql.exec(statement, op.pseudonym, playerId);
      touched[t.name] = n;
    }
  });
  return { rows, touched };
}
