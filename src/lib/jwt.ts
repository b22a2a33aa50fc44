// HS256 JWT verification for player tokens, on the hot path of every player request. The HMAC key is imported once
// per secret and a verified token's claims are remembered until it expires, so a client polling or streaming
// progress does not pay for a signature check on every request.
import { verifyHmacBytes } from "./hmac";

export type JwtClaims = Record<string, unknown> & { exp?: unknown; nbf?: unknown; sub?: unknown };

/** Per secret, so a token checked under one key is never trusted under another (e.g. during a rotation). */
const verifiedBySecret = new Map<string, Map<string, JwtClaims>>();
const MAX_REMEMBERED = 20_000;

function b64urlBytes(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function b64urlJson(s: string): Record<string, unknown> | null {
  try {
    const bytes = b64urlBytes(s);
    const v = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
    return v && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Claims of a valid, unexpired HS256 token, or null. `exp` is required. */
export async function verifyHs256(token: string, secret: string, nowSec: number): Promise<JwtClaims | null> {
  let verified = verifiedBySecret.get(secret);
  if (!verified) verifiedBySecret.set(secret, (verified = new Map()));
  let claims = verified.get(token) ?? null;
  if (!claims) {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    const header = b64urlJson(parts[0]);
    if (!header || header.alg !== "HS256") return null;
    const sig = b64urlBytes(parts[2]);
    if (!sig || sig.length !== 32) return null;
    if (!(await verifyHmacBytes(secret, `${parts[0]}.${parts[1]}`, sig))) return null;
    claims = b64urlJson(parts[1]);
    if (!claims) return null;
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(token, claims);
  }
  if (typeof claims.exp !== "number" || claims.exp <= nowSec) return null;
  if (typeof claims.nbf === "number" && claims.nbf > nowSec) return null;
  return claims;
}
