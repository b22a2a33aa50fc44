// HS256 player tokens, minted in-process exactly as scripts/token.mjs does (and as a game's auth server would), so
// the bench needs no extra process per player and the Worker verifies real signatures on every request.
import { createHmac } from "node:crypto";

/**
 * Every bench token names this issuer and audience (Firebase-style). The auth phase has the Worker check them
 * (PLAYER_JWT_ISSUER / PLAYER_JWT_AUDIENCE), and that check applies to every player token, so the other phases'
 * tokens carry them too; where nothing checks them they change nothing.
 */
export const BENCH_ISSUER = "https://securetoken.google.com/live-events-bench";
export const BENCH_AUDIENCE = "live-events-bench";

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const HEADER = b64({ alg: "HS256", typ: "JWT" });

export function mintPlayerToken(secret, playerId, ttlSeconds = 3600, claims = {}) {
  const body = `${HEADER}.${b64({ ...claims, sub: playerId, iss: BENCH_ISSUER, aud: BENCH_AUDIENCE, exp: Math.floor(Date.now() / 1000) + ttlSeconds })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
