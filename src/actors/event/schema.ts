// The EventActor's own SQLite, as ordered migration steps (see kit/migrate.ts). Never edit a shipped step.
import type { MigrationStep } from "../kit/migrate";
import { LEGACY_SCHEDULE_TABLE, adoptLegacySchedule } from "../kit/schedule";
import { SINKS_TABLE } from "../kit/outbox";

export const EVENT_ACTOR_SCHEMA: readonly MigrationStep[] = [
  // 1: the tables as they were before storage was versioned (IF NOT EXISTS adopts an existing object's storage).
  `CREATE TABLE IF NOT EXISTS doc (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, revision INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS transitions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, from_state TEXT, to_state TEXT NOT NULL, at INTEGER NOT NULL,
     cause TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, details TEXT);
   ${LEGACY_SCHEDULE_TABLE};
   CREATE TABLE IF NOT EXISTS shards (shard_no INTEGER PRIMARY KEY);
   CREATE TABLE IF NOT EXISTS sinks (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, last_seq INTEGER NOT NULL, failures INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS notified (type TEXT PRIMARY KEY, fired_at INTEGER NOT NULL);`,
  // 2: the kit's (kind, key) schedule. "notify:<type>" rows become ("notify", type); sink retries become
  // ("sink", name) and keep their attempt count, which replaces sinks.failures; the "calendar" sink is now "scheduler".
  (sql) => {
    adoptLegacySchedule(sql, (kind) => {
      if (kind.startsWith("notify:")) return { kind: "notify", key: kind.slice("notify:".length) };
      if (kind === "calendar") return { kind: "sink", key: "scheduler" };
      if (kind === "project" || kind === "shards") return { kind: "sink", key: kind };
      return { kind, key: "" };
    });
    sql.exec("ALTER TABLE sinks RENAME TO sinks_v1");
    sql.exec(SINKS_TABLE);
    sql.exec("INSERT INTO sinks (name, revision, last_seq) SELECT CASE name WHEN 'calendar' THEN 'scheduler' ELSE name END, revision, last_seq FROM sinks_v1");
    sql.exec("DROP TABLE sinks_v1");
  },
  // 3: a notification may fire again when its window moves (domain/notifications.ts, rearmed): each firing is a
  // round with the anchor it spoke about. Firings from before re-arming existed are round 0, anchored to the window
  // as it is now, so they are not sent again for it.
  (sql) => {
    const doc = sql.exec<{ json: string }>("SELECT json FROM doc WHERE id = 1").toArray()[0];
    const e = doc ? (JSON.parse(doc.json) as { startTime: number; endTime: number }) : null;
    sql.exec("ALTER TABLE notified RENAME TO notified_v1");
    sql.exec(`CREATE TABLE notified (type TEXT NOT NULL, round INTEGER NOT NULL, anchor INTEGER NOT NULL, fired_at INTEGER NOT NULL,
      PRIMARY KEY (type, round))`);
    for (const r of sql.exec<{ type: string; fired_at: number }>("SELECT type, fired_at FROM notified_v1").toArray()) {
      // The instant each type speaks about (frozen here: a later change to the domain must not alter this step).
      const anchor = !e ? r.fired_at : r.type === "preview" || r.type === "start" ? e.startTime : r.type === "auto_claim_warning" ? e.endTime + 86_400_000 : e.endTime;
      sql.exec("INSERT INTO notified (type, round, anchor, fired_at) VALUES (?, 0, ?, ?)", r.type, anchor, r.fired_at);
    }
    sql.exec("DROP TABLE notified_v1");
  },
  // 4: local-time events (actors/event/waves.ts): the waves that fired, each once, and when (a deferred push is judged
  // against the quiet hours as they were then).
  `CREATE TABLE waves_fired (key TEXT PRIMARY KEY, fired_at INTEGER NOT NULL);`,
];
