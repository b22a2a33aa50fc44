// Run-time settings that ops change through the admin API. D1 keeps them so they survive a calendar rebuild.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
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
