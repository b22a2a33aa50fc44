// HS256 player tokens, minted in-process exactly as scripts/token.mjs does (and as a game's auth server would), so
// the bench needs no extra process per player and the Worker verifies real signatures on every request.
import { createHmac } from "node:crypto";

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const HEADER = b64({ alg: "HS256", typ: "JWT" });

export function mintPlayerToken(secret, playerId, ttlSeconds = 3600) {
  const body = `${HEADER}.${b64({ sub: playerId, exp: Math.floor(Date.now() / 1000) + ttlSeconds })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
