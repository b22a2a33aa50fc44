// Structured log lines: one JSON object per line, so Workers Logs ([observability] in wrangler.toml) can filter on
// any field. `kind` groups them as the seed does: lifecycle (an event changed state), player (a player's join, claim,
// progress), telemetry, analytics, error.
export type LogKind = "lifecycle" | "player" | "telemetry" | "analytics" | "error";
export type LogLevel = "info" | "warn" | "error";

export function logLine(level: LogLevel, kind: LogKind, msg: string, fields: Record<string, unknown> = {}, now = Date.now()) {
  const line = JSON.stringify({ level, kind, msg, ...fields, at: new Date(now).toISOString() });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
