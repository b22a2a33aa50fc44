// The optional copy of telemetry in Workers Analytics Engine (binding TELEMETRY_AE, declared in wrangler.toml only
// where a dataset exists). Writes are fire-and-forget by the platform's design and dropped locally, so nothing here
// is ever read back: every figure the API reports is computed from D1. Analytics data names players only by their
// salted pseudonym (src/lib/pseudonym.ts), so a data set queried outside the product names nobody.
import type { PurchaseRow, SessionRow } from "../domain/telemetry";
import { logLine } from "../lib/log";
import { pseudonym } from "../lib/pseudonym";

/** The dataset, or null when there is none or no PRIVACY_SALT to name players by (the mirror is optional: ingest goes on). */
function dataset(env: Env): AnalyticsEngineDataset | null {
  const ae = (env as { TELEMETRY_AE?: AnalyticsEngineDataset }).TELEMETRY_AE;
  if (!ae) return null;
  if (!env.PRIVACY_SALT) {
    logLine("error", "error", "TELEMETRY_AE is bound but PRIVACY_SALT is not set: telemetry is not mirrored", {});
    return null;
  }
  return ae;
}

export async function mirrorSessions(env: Env, rows: SessionRow[]) {
  const ae = dataset(env);
  if (!ae) return;
  for (const r of rows) ae.writeDataPoint({ indexes: [await pseudonym(env.PRIVACY_SALT, r.playerId)], blobs: ["session", r.id, r.platform], doubles: [r.start, r.durationSec] });
}

export async function mirrorPurchases(env: Env, rows: PurchaseRow[]) {
  const ae = dataset(env);
  if (!ae) return;
  for (const r of rows) ae.writeDataPoint({ indexes: [await pseudonym(env.PRIVACY_SALT, r.playerId)], blobs: ["purchase", r.id, r.currency, r.sku, r.eventId], doubles: [r.at, r.amount] });
}
