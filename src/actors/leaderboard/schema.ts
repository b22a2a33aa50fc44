// A leaderboard object's own SQLite, as ordered migrate steps (src/actors/kit/migrate.ts). The same class serves a
// cohort's board and the event's cohort directory; each uses its own tables. Never edit a shipped step.
import type { MigrationStep } from "../kit/migrate";
import { OUTBOX_TABLE } from "../kit/outbox";
import { SCHEDULE_TABLE } from "../kit/schedule";

export const LEADERBOARD_SCHEMA: readonly MigrationStep[] = [
  `CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
   ${SCHEDULE_TABLE};
   ${OUTBOX_TABLE};
   -- the board: one row per ranked player; status 'banned' rows stay to refuse later pushes
   CREATE TABLE entries (player_id TEXT PRIMARY KEY, score REAL NOT NULL, reached_at INTEGER NOT NULL, source TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'active');
   CREATE INDEX idx_entries_order ON entries (score DESC, reached_at, player_id) WHERE status = 'active';
   -- exactly once: the last seq applied from each shard
   CREATE TABLE sources (source TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE flagged (player_id TEXT PRIMARY KEY, at INTEGER NOT NULL, cleared_at INTEGER, cleared_by TEXT);
   CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     player_id TEXT, reason TEXT);
   CREATE TABLE standings (rank INTEGER PRIMARY KEY, player_id TEXT NOT NULL UNIQUE, score REAL NOT NULL, reached_at INTEGER NOT NULL,
     reward_tier INTEGER NOT NULL, held INTEGER NOT NULL, source TEXT NOT NULL, granted INTEGER NOT NULL DEFAULT 0);
   -- the directory: each player's cohort, and each matching group's open cohort
   CREATE TABLE assignments (player_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL);
   CREATE TABLE cohort_fill (grp TEXT PRIMARY KEY, cohort INTEGER NOT NULL, members INTEGER NOT NULL);`,
  // 2. the directory: each cohort board's final summary, recorded as finalization goes through them in chunks
  `CREATE TABLE finals (cohort_id TEXT PRIMARY KEY, summary TEXT NOT NULL);`,
  // 3. an integer slot per entry, the key of the in-memory index (domain/ranking.ts holds numbers only, so a board of
  // 1,000,000 fits an isolate); it also breaks exact ties: of two entries equal in score and time, the one that came
  // to the board first. Existing rows keep their arrival order as far as it is known.
  `CREATE TABLE entries_slotted (slot INTEGER PRIMARY KEY, player_id TEXT NOT NULL UNIQUE, score REAL NOT NULL,
     reached_at INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active');
   INSERT INTO entries_slotted (player_id, score, reached_at, source, status)
     SELECT player_id, score, reached_at, source, status FROM entries ORDER BY rowid;
   DROP TABLE entries;
   ALTER TABLE entries_slotted RENAME TO entries;
   CREATE INDEX idx_entries_order ON entries (score DESC, reached_at, slot) WHERE status = 'active';`,
  // 4. rank rewards still to hand out, found per shard in rank order without reading every standing
  `CREATE INDEX idx_standings_pending ON standings (source, rank) WHERE reward_tier >= 0 AND held = 0 AND granted = 0;`,
  // 5. each ranked player's series tier as read from D1 before finalization (NULL: none yet), so a board of any size
  // finalizes without holding every id in memory
  `CREATE TABLE tier_seen (player_id TEXT PRIMARY KEY, tier TEXT);`,
];
