// API keys (ops and game servers). Only hashes are stored; the key itself exists once, in the create response.
import { and, desc, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { KeyKind, Role, Scope } from "../domain/access";
import { apiKeys } from "./schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKey = { keyId: string; kind: KeyKind; name: string; role: Role | null; scopes: Scope[]; keyHash: string };

export async function insertApiKey(d1: D1Database, key: NewApiKey, actor: string, now: number): Promise<ApiKeyRow> {
  const row = { ...key, createdAt: now, createdBy: actor, revokedAt: null, revokedBy: null };
  await drizzle(d1).insert(apiKeys).values(row);
  return row;
}

export async function getApiKey(d1: D1Database, keyId: string): Promise<ApiKeyRow | null> {
  const rows = await drizzle(d1).select().from(apiKeys).where(eq(apiKeys.keyId, keyId)).limit(1);
  return rows[0] ?? null;
}

/** Newest first; revoked keys stay listed (with when and by whom) until `includeRevoked` is false. */
export async function listApiKeys(d1: D1Database, opts: { kind?: KeyKind; includeRevoked: boolean; limit: number }): Promise<ApiKeyRow[]> {
  const where = and(opts.kind ? eq(apiKeys.kind, opts.kind) : undefined, opts.includeRevoked ? undefined : isNull(apiKeys.revokedAt));
  return drizzle(d1).select().from(apiKeys).where(where).orderBy(desc(apiKeys.createdAt), desc(apiKeys.keyId)).limit(opts.limit);
}

/** Revokes a live key; the row is kept for the audit trail. Returns the row as it now is, or null if there is none. */
export async function revokeApiKey(d1: D1Database, keyId: string, actor: string, now: number): Promise<ApiKeyRow | null> {
  await drizzle(d1)
    .update(apiKeys)
    .set({ revokedAt: now, revokedBy: actor })
    .where(and(eq(apiKeys.keyId, keyId), isNull(apiKeys.revokedAt)));
  return getApiKey(d1, keyId);
}
