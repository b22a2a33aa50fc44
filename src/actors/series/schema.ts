// A series object's own SQLite (one object per series, named by its id), as ordered migrate steps
// (src/actors/kit/migrate.ts). Never edit a shipped step; append.
import type { MigrationStep } from "../kit/migrate";
import { OUTBOX_TABLE } from "../kit/outbox";
import { SCHEDULE_TABLE } from "../kit/schedule";

export const SERIES_SCHEMA: readonly MigrationStep[] = [
  `${SCHEDULE_TABLE};
   ${OUTBOX_TABLE};
   -- the series: its plan (rules and single-occurrence edits, domain/series.ts) and where it stands
   CREATE TABLE series (id INTEGER PRIMARY KEY CHECK (id = 1), series_id TEXT NOT NULL, template_id TEXT NOT NULL, plan TEXT NOT NULL,
     on_conflict TEXT NOT NULL, status TEXT NOT NULL, horizon_days INTEGER NOT NULL, sequence INTEGER NOT NULL, revision INTEGER NOT NULL,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, created_by TEXT NOT NULL);
   -- one row per occurrence decided: the event it became (id written BEFORE the create is asked, so a crash between
   -- the create and this row's update replays the same id), or why it was skipped, shifted or cancelled.
   -- want_start/want_end: the window the plan asked for when it was decided; gen: bumped when a key needs a new event.
   CREATE TABLE occurrences (key TEXT PRIMARY KEY, gen INTEGER NOT NULL, event_id TEXT, status TEXT NOT NULL,
     want_start INTEGER NOT NULL, want_end INTEGER NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER NOT NULL,
     shifted_from INTEGER, reason TEXT, updated_at INTEGER NOT NULL, revision INTEGER NOT NULL);
   -- who changed the series, when and how
   CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, reason TEXT, details TEXT);`,
  // where the rule put each occurrence (its RECURRENCE-ID), kept so a later rule in another zone does not move it
  `ALTER TABLE occurrences ADD COLUMN original_start INTEGER;`,
  // added to the occurrence's ICS SEQUENCE: grows by each replaced event's last revision (materialize.ts, cancel)
  `ALTER TABLE occurrences ADD COLUMN seq_base INTEGER NOT NULL DEFAULT 0;`,
  // GET pages by where the rule put each occurrence (edits never change it): rows from before that column take the
  // start the plan asked for, as occurrences() already reads them
  `UPDATE occurrences SET original_start = want_start WHERE original_start IS NULL;
   CREATE INDEX occurrences_original ON occurrences (original_start, key);`,
  // GET pages by page_start: where the rule put the occurrence when it was first decided, written on INSERT only. An
  // "all" edit to another timeZone rewrites original_start (the same local reading is another instant), and a page
  // ordered by it repeated or skipped rows across that edit; nothing rewrites page_start.
  `ALTER TABLE occurrences ADD COLUMN page_start INTEGER;
   UPDATE occurrences SET page_start = COALESCE(original_start, want_start);
   CREATE INDEX occurrences_page ON occurrences (page_start, key);
   DROP INDEX occurrences_original;`,
  // the rules the plan dropped (pruned, or replaced by an "all" edit with a new dtstart) and when such an edit started
  // the plan's first rule: D1's series.segments keeps naming the rule that made each old occurrence (rule-history.ts)
  `ALTER TABLE series ADD COLUMN rule_history TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE series ADD COLUMN rules_since INTEGER;`,
];
