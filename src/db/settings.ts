// Run-time settings that ops change through the admin API. D1 keeps them so they survive a calendar rebuild.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { AlertThresholds, DEFAULT_THRESHOLDS } from "../domain/alerts";
import { DEFAULT_WEIGHTS, RecommendationWeights, type ProfileCursor } from "../domain/personalization";
import { settings } from "./schema";

const KEY = "schedule_rules";

export async function readSettings(d1: D1Database): Promise<Record<string, number> | null> {
  const row = await drizzle(d1).select().from(settings).where(eq(settings.key, KEY)).limit(1);
  return (row[0]?.value as Record<string, number>) ?? null;
}

export async function writeSettings(d1: D1Database, value: Record<string, number>, actor: string, now: number) {
  await drizzle(d1)
    .insert(settings)
    .values({ key: KEY, value, updatedAt: now, updatedBy: actor })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now, updatedBy: actor } });
}

const ALERTS_KEY = "alert_thresholds";

/** The alert thresholds ops changed (PUT /v1/admin/alerts/settings), or null: the seed's defaults apply. */
export async function readAlertThresholds(d1: D1Database): Promise<{ value: Record<string, number>; updatedAt: number; updatedBy: string } | null> {
  const row = await drizzle(d1).select().from(settings).where(eq(settings.key, ALERTS_KEY)).limit(1);
  return row[0] ? { value: row[0].value as Record<string, number>, updatedAt: row[0].updatedAt, updatedBy: row[0].updatedBy } : null;
}

export async function writeAlertThresholds(d1: D1Database, value: Record<string, number>, actor: string, now: number) {
  await drizzle(d1)
    .insert(settings)
    .values({ key: ALERTS_KEY, value, updatedAt: now, updatedBy: actor })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now, updatedBy: actor } });
}

/** The thresholds in force: the seed's defaults, overridden by what ops stored. */
export async function alertThresholds(d1: D1Database): Promise<AlertThresholds> {
  const stored = await readAlertThresholds(d1);
  return AlertThresholds.parse({ ...DEFAULT_THRESHOLDS, ...(stored?.value ?? {}) });
}

const WEIGHTS_KEY = "recommendation_weights";

/** The recommendation weights ops changed (PUT /v1/admin/personalization/settings), or null: the defaults apply. */
export async function readRecommendationWeights(d1: D1Database): Promise<{ value: Record<string, number>; updatedAt: number; updatedBy: string } | null> {
  const row = await drizzle(d1).select().from(settings).where(eq(settings.key, WEIGHTS_KEY)).limit(1);
  return row[0] ? { value: row[0].value as Record<string, number>, updatedAt: row[0].updatedAt, updatedBy: row[0].updatedBy } : null;
}

export async function writeRecommendationWeights(d1: D1Database, value: Record<string, number>, actor: string, now: number) {
  await drizzle(d1)
    .insert(settings)
    .values({ key: WEIGHTS_KEY, value, updatedAt: now, updatedBy: actor })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now, updatedBy: actor } });
}

/** The weights in force: the defaults, overridden by what ops stored. */
export const recommendationWeights = (stored: Record<string, number> | null | undefined): RecommendationWeights =>
  RecommendationWeights.parse({ ...DEFAULT_WEIGHTS, ...(stored ?? {}) });

/** The statement reading the stored weights, for a caller batching it with its own reads. */
export const weightsStatement = (d1: D1Database) => d1.prepare("SELECT value FROM settings WHERE key = ?").bind(WEIGHTS_KEY);

const WATERMARK_KEY = "profiles_watermark";

/** Where the hourly profile job stands in D1's changes ((time, player id) order); the start before its first run. */
export async function readProfileWatermark(d1: D1Database): Promise<ProfileCursor> {
  const row = await drizzle(d1).select().from(settings).where(eq(settings.key, WATERMARK_KEY)).limit(1);
  const value = row[0]?.value as { at?: number; player?: string | null } | undefined;
  // A watermark stored before the player part covered its whole millisecond.
  return { at: value?.at ?? 0, player: value?.player ?? null };
}

export async function writeProfileWatermark(d1: D1Database, at: ProfileCursor, now: number) {
  const value = { at: at.at, player: at.player };
  await drizzle(d1)
    .insert(settings)
    .values({ key: WATERMARK_KEY, value, updatedAt: now, updatedBy: "system" })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now, updatedBy: "system" } });
}
