// Ops and game-server API keys: minted with a recognisable prefix, stored as SHA-256 hashes, looked up by id and
// checked by hash, remembered briefly per isolate. src/http/auth.ts applies them (and the policy tables).
import { KEY_CACHE_MS, formatKey, fresh, parseKey, type CachedKey, type KeyKind, type Role, type Scope } from "../domain/access";
import { getApiKey } from "../db/api-keys";
import { ExpiringSet } from "../lib/expiring-set";

export type KeyHolder = { keyId: string; name: string; kind: KeyKind; role: Role | null; scopes: Scope[] };

const enc = new TextEncoder();
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
export const sha256Hex = async (s: string) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s)));

/** Constant-time comparison, so a secret cannot be guessed byte by byte from response timing. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** A new key: 16 characters of id (a–z, 0–9) and 32 random bytes of secret. Returns the key (shown once) and its hash. */
export async function mintKey(kind: KeyKind): Promise<{ keyId: string; key: string; keyHash: string }> {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const keyId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => alphabet[b % 36]).join("");
  const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  const key = formatKey(kind, keyId, secret);
  return { keyId, key, keyHash: await sha256Hex(key) };
}

/**
 * Verified keys, per isolate, by hash, for KEY_CACHE_MS: ops tooling and game servers call in bursts, and a D1 read
 * per request would be their whole latency. The price: a key revoked through another isolate keeps working here for
 * up to KEY_CACHE_MS. Revoking evicts it from the isolate that revoked it at once (forgetKey).
 */
const verifiedKeys = new Map<string, CachedKey<KeyHolder>>();
const MAX_CACHED_KEYS = 1_000;

export function forgetKey(keyId: string) {
  for (const [hash, entry] of verifiedKeys) if (entry.value.keyId === keyId) verifiedKeys.delete(hash);
}

/**
 * Key ids D1 has no live row for, per isolate, for 10 s: a well-formed made-up key costs no credential to send, so
 * without this a flood of them would be a flood of D1 reads. Bounded, so the flood cannot grow it either. Only "no
 * such row" and "revoked" (both permanent) are remembered: a wrong secret for a real id is not, or anyone who saw a key
 * id in a listing could lock its holder out. A key created here is forgotten at once (rememberNewKey).
 */
const unknownKeyIds = new ExpiringSet(10_000, 10_000);

/** Called when a key is created: this isolate must not remember its id as unknown. */
export const rememberNewKey = (keyId: string) => unknownKeyIds.delete(keyId);

/** The live key this bearer token is, or null (not a key, unknown, wrong secret, revoked). */
export async function verifyKey(env: Env, token: string, now = Date.now()): Promise<KeyHolder | null> {
  const parsed = parseKey(token);
  if (!parsed) return null;
  const hash = await sha256Hex(token);
  const cached = verifiedKeys.get(hash);
  if (fresh(cached, now)) return cached.value;
  if (unknownKeyIds.has(parsed.keyId, now)) return null;
  const row = await getApiKey(env.DB, parsed.keyId);
  if (!row || row.revokedAt !== null) {
    unknownKeyIds.add(parsed.keyId, now);
    return null;
  }
  if (row.kind !== parsed.kind) return null;
  // Compared as digests of the hashes, in constant time: the row was found by id, the secret must still match.
  if (!(await sameSecret(row.keyHash, hash))) return null;
  const holder: KeyHolder = { keyId: row.keyId, name: row.name, kind: row.kind as KeyKind, role: row.role as Role | null, scopes: row.scopes as Scope[] };
  if (verifiedKeys.size >= MAX_CACHED_KEYS) verifiedKeys.clear();
  verifiedKeys.set(hash, { value: holder, until: now + KEY_CACHE_MS });
  return holder;
}
