// A privacy object's own SQLite (one object per player, named by their pseudonym), as ordered migrate steps
// (src/actors/kit/migrate.ts). Never edit a shipped step.
import type { MigrationStep } from "../kit/migrate";
import { SCHEDULE_TABLE } from "../kit/schedule";

export const PRIVACY_SCHEMA: readonly MigrationStep[] = [
  `${SCHEDULE_TABLE};
   -- the erase job: the raw player id is held only while a run is in progress
   CREATE TABLE job (id INTEGER PRIMARY KEY CHECK (id = 1), player_id TEXT, state TEXT NOT NULL, run INTEGER NOT NULL,
     requested_by TEXT NOT NULL, reason TEXT NOT NULL, requested_at INTEGER NOT NULL, finished_at INTEGER, plan TEXT);
   -- one row per step of the current run, in order; touched: rows per table
   CREATE TABLE steps (ord INTEGER PRIMARY KEY, step TEXT NOT NULL, state TEXT NOT NULL, touched TEXT NOT NULL DEFAULT '{}', error TEXT);
   -- every export and erase request: who, when, why
   CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, reason TEXT);`,
];
