// The PlayerInventoryActor's own SQLite, every table in one ordered list (see kit/migrate.ts). Steps are never
// edited once shipped: a change is a new step at the end.
import type { MigrationStep } from "../kit/migrate";
import { OUTBOX_TABLE } from "../kit/outbox";
import { SCHEDULE_TABLE } from "../kit/schedule";

export const INVENTORY_SCHEMA: readonly MigrationStep[] = [
  // 1. The tables as the unversioned code created them, so an object that predates versioning is adopted as it is.
  //    ledger: the built-in inventory, in delivery order (seq is the game servers' cursor). inbox: the overflow
  //    inbox. deliveries: the outcome per claim id, which makes every grant happen once. idem: inbox-claim replies
  //    per Idempotency-Key. meta: the game's acknowledgement cursor.
  `CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, ledger_id TEXT UNIQUE NOT NULL, row TEXT NOT NULL,
     slots INTEGER NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE IF NOT EXISTS inbox (item_id TEXT PRIMARY KEY, row TEXT NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE IF NOT EXISTS deliveries (claim_id TEXT PRIMARY KEY, outcome TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, response TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`,
  // 2. The kit's schedule (the flush retry behind the alarm) and outbox (the rows D1 still owes).
  `${SCHEDULE_TABLE};
   ${OUTBOX_TABLE};`,
  // 3. What D1 still owed under the old `projected` flags moves to the outbox, in write order, and the flags go: the
  //    outbox is now the one record of what is unwritten. The object books a flush for these when it starts.
  (sql) => {
    sql.exec("INSERT OR IGNORE INTO outbox (topic, id, row) SELECT 'ledger', ledger_id, row FROM ledger WHERE projected = 0 ORDER BY seq");
    sql.exec("INSERT OR IGNORE INTO outbox (topic, id, row) SELECT 'inbox', item_id, row FROM inbox WHERE projected = 0 ORDER BY item_id");
    sql.exec("ALTER TABLE ledger DROP COLUMN projected");
    sql.exec("ALTER TABLE inbox DROP COLUMN projected");
  },
];
