// Outbound webhooks (inventory hand-off, push provider), signed per the Standard Webhooks spec
// (https://www.standardwebhooks.com) so a stock verifier (the `standardwebhooks` libraries, Svix) checks them as sent:
//   webhook-id         the delivery's idempotency key: the same on every retry, so receivers dedupe on it;
//   webhook-timestamp  unix seconds of this attempt (a retry gets a fresh one, so a 5-minute tolerance holds);
//   webhook-signature  "v1,<base64 HMAC-SHA256 of `id.timestamp.body`>", once per configured secret, space-separated,
//                      so a receiver holding either the old or the new secret verifies during a rotation.
// Both callers need the same signing so one verifier serves both.
import { hmacBase64, hmacHex } from "./hmac";
import { logLine } from "./log";

const PREFIX = "whsec_";

/** One signing secret: `whsec_<base64>` (the spec's form) is its decoded bytes; anything else, its UTF-8 bytes. */
export type WebhookSecret = { key: Uint8Array; legacy: string | null };

/**
 * The secrets a webhook setting holds, space-separated, newest first; every one signs. A value not in `whsec_` form is
 * a secret from before Standard Webhooks: it is used as raw bytes and also keys the deprecated X-Live-Events-* headers.
 */
export function parseWebhookSecrets(value: string | undefined | null): WebhookSecret[] {
  const out: WebhookSecret[] = [];
  for (const part of (value ?? "").split(/\s+/).filter(Boolean)) {
    if (!part.startsWith(PREFIX)) {
      out.push({ key: new TextEncoder().encode(part), legacy: part });
      continue;
    }
    try {
      const key = Uint8Array.from(atob(part.slice(PREFIX.length)), (c) => c.charCodeAt(0));
      if (key.length) out.push({ key, legacy: null });
    } catch {
      // Not base64: a typo in one secret must not stop deliveries signed with the others.
      console.error(JSON.stringify({ msg: "ignoring a webhook secret that is not valid whsec_<base64>" }));
    }
  }
  return out;
}

/** The Standard Webhooks headers for one attempt (plus Idempotency-Key, and the legacy pair for raw secrets). */
export async function signedHeaders(secrets: WebhookSecret[], id: string, body: string, nowMs = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const content = `${id}.${timestamp}.${body}`;
  const signatures = await Promise.all(secrets.map(async (s) => `v1,${await hmacBase64(s.key, content)}`));
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signatures.join(" "),
    "Idempotency-Key": id,
  };
  // Deprecated: receivers written against the old scheme keep working while the secret stays in its old raw form.
  // Moving to a whsec_ secret means updating the receiver anyway, so the old headers go with it.
  const legacy = secrets[0]?.legacy;
  if (legacy) {
    headers["X-Live-Events-Timestamp"] = timestamp;
    headers["X-Live-Events-Signature"] = await hmacHex(legacy, `${timestamp}.${body}`);
  }
  return headers;
}

/** The response status, or null when the endpoint could not be reached (network error, 10 s timeout). */
export async function postSigned(url: string, payload: unknown, secrets: string, idempotencyKey: string): Promise<number | null> {
  const body = JSON.stringify(payload);
  const keys = parseWebhookSecrets(secrets);
  if (keys.length === 0) {
    // An unsigned delivery is one the receiver cannot trust (or, worse, one it accepts anyway): hold it as if the
    // endpoint were down, so it is retried, and later inboxed or dead-lettered, until a secret is configured.
    logLine("error", "error", "webhook not sent: no usable signing secret is configured", { url, idempotencyKey });
    return null;
  }
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: await signedHeaders(keys, idempotencyKey, body),
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch (err) {
    logLine("error", "error", "webhook unreachable", { url, idempotencyKey, error: String(err) });
    return null;
  }
}
