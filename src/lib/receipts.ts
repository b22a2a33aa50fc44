// Claim receipts as compact JWS (RFC 7515), signed with an asymmetric key through `jose`: anyone can verify a receipt
// with the public keys published at /.well-known/jwks.json and any stock JWT library, and no verifier can forge one
// (the HMAC receipts issued before this let every verifier sign too).
// RECEIPT_SIGNING_KEY holds private JWKs as JSON: one key, an array, or a JWK Set ({ "keys": [...] }). The first
// signs; all are published, so receipts signed with a retired key keep verifying while it stays listed.
import { SignJWT, calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from "jose";

/** What a receipt's JWS is made with; Ed25519 by default, P-256 where a verifier lacks Ed25519. */
export type ReceiptAlg = "EdDSA" | "ES256";
export type PublicReceiptJwk = { kty: string; crv: string; x: string; y?: string; kid: string; alg: ReceiptAlg; use: "sig" };
type ReceiptKey = { kid: string; alg: ReceiptAlg; publicJwk: PublicReceiptJwk; privateJwk: JWK };

export const RECEIPT_TYP = "receipt+jwt";

/** A misconfigured RECEIPT_SIGNING_KEY: a deployment error, reported whole in the log. */
export class ReceiptKeyError extends Error {}

const algFor = (jwk: JWK): ReceiptAlg | null => {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && (!jwk.alg || jwk.alg === "EdDSA" || jwk.alg === "Ed25519")) return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256" && (!jwk.alg || jwk.alg === "ES256")) return "ES256";
  return null;
};

async function readKey(jwk: JWK, i: number): Promise<ReceiptKey> {
  const alg = algFor(jwk);
  if (!alg) throw new ReceiptKeyError(`RECEIPT_SIGNING_KEY key ${i}: only Ed25519 (OKP, EdDSA) and P-256 (EC, ES256) keys sign receipts`);
  if (typeof jwk.d !== "string" || typeof jwk.x !== "string" || (alg === "ES256" && typeof jwk.y !== "string")) {
    throw new ReceiptKeyError(`RECEIPT_SIGNING_KEY key ${i}: not a private key (no "d"), or its public part is missing`);
  }
  const pub = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x, ...(alg === "ES256" ? { y: jwk.y } : {}) };
  // Without a kid of its own, the key is named by its RFC 7638 thumbprint: stable, and the same in any tool.
  const kid = typeof jwk.kid === "string" && jwk.kid ? jwk.kid : await calculateJwkThumbprint(pub as JWK);
  return { kid, alg, privateJwk: jwk, publicJwk: { ...pub, kid, alg, use: "sig" } };
}

async function readKeys(value: string): Promise<ReceiptKey[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ReceiptKeyError("RECEIPT_SIGNING_KEY is not JSON (expected a private JWK, an array of them, or a JWK Set)");
  }
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === "object" && Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
  if (!list.length) throw new ReceiptKeyError("RECEIPT_SIGNING_KEY holds no key");
  const keys = await Promise.all(list.map((k, i) => (k && typeof k === "object" ? readKey(k as JWK, i) : Promise.reject(new ReceiptKeyError(`RECEIPT_SIGNING_KEY key ${i} is not an object`)))));
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new ReceiptKeyError("RECEIPT_SIGNING_KEY: two keys share a kid");
  return keys;
}

// Parsed once per isolate and value: a claim should not pay for JSON parsing and key import every time.
const parsedKeys = new Map<string, Promise<ReceiptKey[]>>();
const signers = new Map<string, Promise<CryptoKey>>();

function keysOf(value: string | undefined): Promise<ReceiptKey[]> {
  if (!value?.trim()) return Promise.reject(new ReceiptKeyError("RECEIPT_SIGNING_KEY is not set; `npm run keys:receipt` prints one"));
  let keys = parsedKeys.get(value);
  if (!keys) {
    keys = readKeys(value);
    parsedKeys.set(value, keys);
    keys.catch(() => parsedKeys.delete(value));
  }
  return keys;
}

/** The public half of every configured key, for /.well-known/jwks.json. A missing or broken setting publishes none. */
export async function publicReceiptKeys(value: string | undefined): Promise<PublicReceiptJwk[]> {
  try {
    return (await keysOf(value)).map((k) => k.publicJwk);
  } catch (err) {
    console.error(JSON.stringify({ msg: "receipt keys unavailable", error: String(err) }));
    return [];
  }
}

/**
 * A compact JWS over `claims`, by the first configured key, with its kid in the protected header. `typ` names what it
 * is (RFC 8725 §3.11), so a receipt can never pass for an access token or the like where one JWKS verifies both.
 * Receipts signed before this say `typ: "JWT"` and have no `iss`; they are stored as issued and verify as before.
 */
export async function signReceipt(value: string | undefined, claims: Record<string, unknown>): Promise<string> {
  const [key] = await keysOf(value);
  const id = `${key.kid}\u0000${key.privateJwk.d}`;
  let signer = signers.get(id);
  if (!signer) {
    signer = importJWK(key.privateJwk, key.alg) as Promise<CryptoKey>;
    signers.set(id, signer);
  }
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: RECEIPT_TYP }).sign(await signer);
}
