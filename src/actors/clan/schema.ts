// A clan object's own SQLite, as ordered migrate steps (src/actors/kit/migrate.ts). The same class serves one clan of
// an event and the event's clan directory; each uses its own tables. Never edit a shipped step.
import type { MigrationStep } from "../kit/migrate";
import { OUTBOX_TABLE } from "../kit/outbox";
import { SCHEDULE_TABLE } from "../kit/schedule";

export const CLAN_SCHEMA: readonly MigrationStep[] = [
  `CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
   ${SCHEDULE_TABLE};
   -- the clan: each member's contribution (what they gave this clan, whatever clan their token names later)
   CREATE TABLE members (player_id TEXT PRIMARY KEY, contribution REAL NOT NULL, first_at INTEGER NOT NULL, source TEXT NOT NULL,
     flagged INTEGER NOT NULL DEFAULT 0, cleared_at INTEGER, cleared_by TEXT);
   CREATE TABLE member_amounts (player_id TEXT NOT NULL, objective_id TEXT NOT NULL, amount REAL NOT NULL, PRIMARY KEY (player_id, objective_id));
   CREATE TABLE totals (objective_id TEXT PRIMARY KEY, total REAL NOT NULL);
   -- exactly once: the last seq applied from each shard (also who to send clan_progress frames to)
   CREATE TABLE sources (source TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   -- shards holding a socket of a member who has not contributed through them: they get clan_progress frames too
   CREATE TABLE listeners (source TEXT PRIMARY KEY);
   -- clan milestones reached (never taken back); framed = already announced in a clan_progress frame
   CREATE TABLE reached (idx INTEGER PRIMARY KEY, at INTEGER NOT NULL, framed INTEGER NOT NULL DEFAULT 0);
   -- at the event's end: one row per (eligible member, reached milestone); held until ops clear a flag
   CREATE TABLE awards (player_id TEXT NOT NULL, idx INTEGER NOT NULL, held INTEGER NOT NULL, granted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (player_id, idx));
   CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     player_id TEXT, reason TEXT);
   -- the directory: every clan's latest standing
   CREATE TABLE clans (clan_id TEXT PRIMARY KEY, total REAL NOT NULL, completion REAL NOT NULL, members INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX idx_clans_order ON clans (total DESC, clan_id);`,
  // 2. The clan ranking's tiebreak (when a clan reached its total), and the directory's finalization: each clan's
  // frozen standing as it lands, then the final standings (with their rank reward, handed to the clan once) and the
  // outbox that projects them to D1.
  `ALTER TABLE clans ADD reached_at INTEGER NOT NULL DEFAULT 0;
   DROP INDEX idx_clans_order;
   CREATE INDEX idx_clans_rank ON clans (total DESC, reached_at, clan_id);
   CREATE TABLE finals (clan_id TEXT PRIMARY KEY, total REAL NOT NULL, reached_at INTEGER NOT NULL, completion REAL NOT NULL, members INTEGER NOT NULL);
   CREATE TABLE standings (rank INTEGER PRIMARY KEY, clan_id TEXT NOT NULL UNIQUE, total REAL NOT NULL, reached_at INTEGER NOT NULL,
     completion REAL NOT NULL, members INTEGER NOT NULL, reward_tier INTEGER NOT NULL, granted INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX idx_standings_order ON standings (total DESC, reached_at, clan_id);
   ${OUTBOX_TABLE};`,
  // 3. A member confirmed as a cheat (statistical anti-cheat): their contribution taken out of the totals, and
  // whatever they push later ignored.
  "ALTER TABLE members ADD COLUMN excluded_at INTEGER",
  // 4. The member ranking's order as an index: GET /clan reads the top N and counts the caller's rank from it, and the
  // frame's top 5 reads it each second, instead of sorting every member.
  "CREATE INDEX idx_members_rank ON members (contribution DESC, first_at, player_id)",
];
