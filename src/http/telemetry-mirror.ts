// The optional copy of telemetry in Workers Analytics Engine (binding TELEMETRY_AE, declared in wrangler.toml only
// where a dataset exists). Writes are fire-and-forget by the platform's design and dropped locally, so nothing here
// is ever read back: every figure the API reports is computed from D1.
import type { PurchaseRow, SessionRow } from "../domain/telemetry";

const dataset = (env: Env) => (env as { TELEMETRY_AE?: AnalyticsEngineDataset }).TELEMETRY_AE;

export function mirrorSessions(env: Env, rows: SessionRow[]) {
  const ae = dataset(env);
  if (!ae) return;
  for (const r of rows) ae.writeDataPoint({ indexes: [r.playerId], blobs: ["session", r.id, r.platform], doubles: [r.start, r.durationSec] });
}

export function mirrorPurchases(env: Env, rows: PurchaseRow[]) {
  const ae = dataset(env);
  if (!ae) return;
  for (const r of rows) ae.writeDataPoint({ indexes: [r.playerId], blobs: ["purchase", r.id, r.currency, r.sku, r.eventId], doubles: [r.at, r.amount] });
}
