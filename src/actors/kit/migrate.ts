// Versioned schema for an object's own SQLite. Each actor lists its steps once, in order; a `schema_version` row
// says how many have run, and each step runs in its own transaction with the bump, so an object that was evicted
// mid-upgrade resumes where it stopped. Steps are never edited once shipped: a change is a new step at the end.
export type MigrationStep = string | ((sql: SqlStorage) => void);

export function migrate(storage: DurableObjectStorage, steps: readonly MigrationStep[]): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const current = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  // Older code must not write into a schema it does not know (a rollback after a deploy): refuse loudly instead.
  if (current > steps.length) throw new Error(`object storage is at schema version ${current}; this code knows ${steps.length}`);
  for (let v = current; v < steps.length; v++) {
    const step = steps[v];
    storage.transactionSync(() => {
      if (typeof step === "string") sql.exec(step);
      else step(sql);
      sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", v + 1);
    });
  }
  return steps.length;
}

/** True if `table` has `column`: for the first step of an actor whose storage predates versioning. */
export function hasColumn(sql: SqlStorage, table: string, column: string): boolean {
  return sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().some((c) => c.name === column);
}
