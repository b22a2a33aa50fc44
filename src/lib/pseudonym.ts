// A player's pseudonym: a salted hash of their id (HMAC-SHA256 with the PRIVACY_SALT secret), stable for a deployment,
// so analytics and third parties can count and join by player without learning who it is, and erased rows kept for
// accounting stay linkable to each other but not to the person. Without the salt nobody can test a guessed id.
import { hmacHex } from "./hmac";

/** Dev and test only: deployments set PRIVACY_SALT (`npm run setup:cloudflare` asks for it). */
export const DEV_PRIVACY_SALT = "dev-only-privacy-salt";

export function privacySalt(env: { PRIVACY_SALT?: string }): string {
  return env.PRIVACY_SALT || DEV_PRIVACY_SALT;
}

/** `anon_` and 32 hex characters (128 bits of the HMAC): fits wherever a player id (≤ 64 characters) fits. */
export async function pseudonym(salt: string, playerId: string): Promise<string> {
  return `anon_${(await hmacHex(salt, `player:${playerId}`)).slice(0, 32)}`;
}

export const isPseudonym = (id: string) => /^anon_[0-9a-f]{32}$/.test(id);
