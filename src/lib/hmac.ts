// HMAC-SHA256 over WebCrypto, shared by claim receipts and outbound webhooks.
const enc = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function key(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    k = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, k);
  }
  return k;
}

const toHex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function hmacHex(secret: string, payload: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(payload)));
}

export async function verifyHmacBytes(secret: string, payload: string, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await key(secret), signature, enc.encode(payload));
}

/** Constant-time check (WebCrypto's verify), so a forger learns nothing from timing. */
export async function verifyHmacHex(secret: string, payload: string, signatureHex: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(signatureHex)) return false;
  const bytes = new Uint8Array(signatureHex.match(/../g)!.map((h) => parseInt(h, 16)));
  return crypto.subtle.verify("HMAC", await key(secret), bytes, enc.encode(payload));
}
