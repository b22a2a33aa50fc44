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
