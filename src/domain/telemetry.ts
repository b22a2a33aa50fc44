// Game telemetry as game servers send it (POST /v1/telemetry/sessions and /purchases): the analytics' denominators,
// active players and revenue. One zod schema per body; a bad record is refused with its index and field
// (sessions[3].durationSec), and nothing of the batch is written.
import { z } from "zod";

/** Records per request. D1 takes them in chunks of 200 (one JSON parameter each), all in one batch. */
export const MAX_TELEMETRY_BATCH = 500;

const RecordId = z.string().min(1).max(128).meta({ description: "The record's id, unique per kind: a resent record with the same id is ignored." });
const PlayerId = z.string().min(1).max(64).meta({ description: "The player's id: the `sub` of their tokens.", example: "player-42" });
const Instant = z.iso.datetime({ offset: true });

export const TelemetrySession = z
  .strictObject({
    id: RecordId,
    playerId: PlayerId,
    start: Instant.meta({ description: "When the session started (ISO 8601 with offset)." }),
    durationSec: z.number().int().min(0).max(86_400).meta({ description: "Length in whole seconds (at most a day; split longer sessions)." }),
    platform: z.string().min(1).max(32).meta({ example: "ios" }),
  })
  .meta({ id: "TelemetrySession" });

export const TelemetryPurchase = z
  .strictObject({
    id: RecordId,
    playerId: PlayerId,
    amount: z.number().min(0).max(1_000_000).meta({ description: "In the game's reporting currency units; RPPU sums these." }),
    currency: z.string().regex(/^[A-Za-z0-9_]{1,16}$/, "must be 1–16 letters, digits or _ (an ISO 4217 code such as USD)").meta({ example: "USD" }),
    sku: z.string().min(1).max(128),
    eventId: z.string().regex(/^evt_[a-z0-9]{8,40}$/, "must be an event id (evt_ + 8–40 of a-z0-9)").optional().meta({ description: "The event the purchase belongs to, when the game knows it." }),
    at: Instant.optional().meta({ description: "When it was bought; default: when it is received." }),
  })
  .meta({ id: "TelemetryPurchase" });

export const SessionBatch = z.strictObject({ sessions: z.array(TelemetrySession).min(1).max(MAX_TELEMETRY_BATCH) }).meta({ id: "SessionBatch" });
export const PurchaseBatch = z.strictObject({ purchases: z.array(TelemetryPurchase).min(1).max(MAX_TELEMETRY_BATCH) }).meta({ id: "PurchaseBatch" });

export const IngestResult = z
  .object({
    received: z.number().int().min(0),
    inserted: z.number().int().min(0).meta({ description: "New records stored." }),
    duplicates: z.number().int().min(0).meta({ description: "Records whose id was already stored (resends): ignored." }),
  })
  .meta({ id: "IngestResult" });

export type SessionRow = { id: string; playerId: string; start: number; durationSec: number; endsAt: number; platform: string; receivedAt: number };
export type PurchaseRow = { id: string; playerId: string; amount: number; currency: string; sku: string; eventId: string | null; at: number; receivedAt: number };

export const sessionRows = (sessions: z.infer<typeof TelemetrySession>[], now: number): SessionRow[] =>
  sessions.map((s) => {
    const start = Date.parse(s.start);
    return { id: s.id, playerId: s.playerId, start, durationSec: s.durationSec, endsAt: start + s.durationSec * 1000, platform: s.platform, receivedAt: now };
  });

export const purchaseRows = (purchases: z.infer<typeof TelemetryPurchase>[], now: number): PurchaseRow[] =>
  purchases.map((p) => ({ id: p.id, playerId: p.playerId, amount: p.amount, currency: p.currency, sku: p.sku, eventId: p.eventId ?? null, at: p.at ? Date.parse(p.at) : now, receivedAt: now }));

/** A batch with the same id twice is one record: the first wins, as it would across two requests. */
export function uniqueById<T extends { id: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}

/**
 * Workers Analytics Engine takes at most 250 writeDataPoint calls per invocation, so one ingest request mirrors at
 * most this many records; the rest of a 500-record batch is stored in D1 (where every figure comes from) but not
 * mirrored.
 */
export const MIRROR_MAX_PER_REQUEST = 250;

/** What one request mirrors: only the records it newly stored (a resend is not mirrored twice), at most the cap. */
export function rowsToMirror<T extends { id: string }>(rows: readonly T[], insertedIds: readonly string[]): T[] {
  const fresh = new Set(insertedIds);
  return rows.filter((r) => fresh.has(r.id)).slice(0, MIRROR_MAX_PER_REQUEST);
}
