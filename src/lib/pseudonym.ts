// A player's pseudonym: a salted hash of their id (HMAC-SHA256 with the PRIVACY_SALT secret), stable for a deployment,
// so analytics and third parties can count and join by player without learning who it is, and erased rows kept for
// accounting stay linkable to each other but not to the person. Without the salt nobody can test a guessed id.
import { hmacHex } from "./hmac";

/** A Worker without PRIVACY_SALT: a deployment error. There is no fallback salt, because any salt written in this
 * repository is public, and pseudonyms made with a public salt can be reversed by hashing guessed player ids. Local
 * runs get theirs from .dev.vars (`npm start` copies .dev.vars.example), deployments from `npm run setup:cloudflare`. */
export class PrivacySaltMissing extends Error {
  constructor() {
    super("PRIVACY_SALT is not set on this Worker, so no pseudonym can be made; `npm run setup:cloudflare` sets one");
  }
}

export function privacySalt(env: { PRIVACY_SALT?: string }): string {
  if (!env.PRIVACY_SALT) throw new PrivacySaltMissing();
  return env.PRIVACY_SALT;
}

/** `anon_` and 32 hex characters (128 bits of the HMAC): fits wherever a player id (≤ 64 characters) fits. */
export async function pseudonym(salt: string, playerId: string): Promise<string> {
  return `anon_${(await hmacHex(salt, `player:${playerId}`)).slice(0, 32)}`;
}

export const isPseudonym = (id: string) => /^anon_[0-9a-f]{32}$/.test(id);
