// Many rows per statement: rows go in as one JSON array parameter and SQLite unpacks them with json_each. D1 allows
// 100 bound parameters per statement, so binding each column would cap a statement at a handful of rows; this way a
// statement carries CHUNK rows for one parameter.
const CHUNK = 200;

export function chunked(d1: D1Database, sql: string, rows: unknown[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(d1.prepare(sql).bind(JSON.stringify(rows.slice(i, i + CHUNK))));
  return out;
}

/** One field of the current json_each row. */
export const field = (name: string) => `j.value ->> '$.${name}'`;
