// Outbound webhooks (inventory hand-off, push provider): JSON, HMAC-signed over "<timestamp>.<body>", with an
// idempotency key the receiver dedupes on. Both callers need the same signing so one verifier serves both.
import { hmacHex } from "./hmac";

/** The response status, or null when the endpoint could not be reached (network error, 10 s timeout). */
export async function postSigned(url: string, payload: unknown, secret: string, idempotencyKey: string): Promise<number | null> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotencyKey,
        "X-Live-Events-Timestamp": timestamp,
        "X-Live-Events-Signature": await hmacHex(secret, `${timestamp}.${body}`),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch (err) {
    console.error(JSON.stringify({ msg: "webhook unreachable", url, idempotencyKey, error: String(err) }));
    return null;
  }
}
