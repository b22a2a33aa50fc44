// HMAC-SHA256 over WebCrypto, for the outbound webhooks' signatures (Standard Webhooks and the legacy hex header).
// Player tokens go through jose, and receipts are Ed25519/P-256 JWS now (src/lib/receipts.ts).
const enc = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** Imported keys are cached by their bytes (hex), so a string secret and the same bytes share one key. */
function key(secret: string | Uint8Array): Promise<CryptoKey> {
  const bytes = typeof secret === "string" ? enc.encode(secret) : secret;
  const id = toHex(bytes);
  let k = keys.get(id);
  if (!k) {
    k = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(id, k);
  }
  return k;
}

const toHex = (buf: ArrayBuffer | Uint8Array) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function hmacHex(secret: string, payload: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(payload)));
}

export async function verifyHmacBytes(secret: string, payload: string, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await key(secret), signature, enc.encode(payload));
}

export async function hmacBase64(secret: string | Uint8Array, payload: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(payload)));
  return btoa(String.fromCharCode(...mac));
}
