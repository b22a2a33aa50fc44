// Player JWT verification through jose, on the hot path of every player request and socket upgrade.
// HS256 with one key per `kid` (and PLAYER_TOKEN_SECRET for tokens without one), and/or RS256/ES256 from a JWKS URL;
// `iss`/`aud` when configured; `exp` required; a clock leeway both ways. A verified token is remembered per isolate
// until exp + leeway, so a client polling or streaming progress does not pay for a signature check every request.
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions, type JWTVerifyResult } from "jose";
import { claimsProblem, keySource, playerFromClaims, settingsFrom, usableUntilMs, type PlayerTokenSettings } from "../domain/player-token";
import type { Player } from "../domain/model";
import { readConfig } from "../config";

export type VerifiedPlayer = { player: Player; /** When the token stops being accepted (exp + leeway), epoch ms. */ usableUntil: number };

/** Per configuration (a rotation or a new audience starts a new cache), token → what it proved. Bounded. */
const verified = new Map<string, Map<string, VerifiedPlayer>>();
const MAX_REMEMBERED = 20_000;

/**
 * One remote key set per URL per isolate. jose caches the keys (10 min), refetches on a `kid` it does not know, and
 * refetches at most once per cooldown (PLAYER_JWKS_COOLDOWN_SECONDS, 30 s) however many unknown kids arrive, so
 * forged headers cannot hammer the JWKS host.
 */
const keySets = new Map<string, JWTVerifyGetKey>();
const jwks = (url: string, cooldownSeconds: number) => {
  const id = `${cooldownSeconds} ${url}`;
  let set = keySets.get(id);
  if (!set) keySets.set(id, (set = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownSeconds * 1000, cacheMaxAge: 600_000, timeoutDuration: 5_000 })));
  return set;
};

/**
 * A token from the JWKS. Without a `kid` (several providers omit it) and with more than one key of the token's type
 * published, as during every provider's key rotation, jose cannot pick a key and throws JWKSMultipleMatchingKeys; that
 * error iterates the candidates, and the token is good if one of them verifies it.
 */
async function verifyFromJwks(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  try {
    return await jwtVerify(token, keys, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        // Only "not this key" moves on; a claim failure (exp, aud, …) is the same with every key.
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

const encoder = new TextEncoder();
let settingsMemo: { fingerprint: string; settings: PlayerTokenSettings | null } | null = null;

/** The settings for this env, parsed once per distinct configuration; null when they are broken (every token is refused). */
function settingsOf(env: Env): { fingerprint: string; settings: PlayerTokenSettings | null } {
  const e = env as unknown as Record<string, unknown>;
  const fingerprint = JSON.stringify(
    ["PLAYER_TOKEN_SECRET", "PLAYER_JWT_HS256_KEYS", "PLAYER_JWKS_URL", "PLAYER_JWT_ISSUER", "PLAYER_JWT_AUDIENCE", "PLAYER_JWT_LEEWAY_SECONDS", "PLAYER_JWKS_COOLDOWN_SECONDS"].map((k) => e[k] ?? null),
  );
  if (settingsMemo?.fingerprint === fingerprint) return settingsMemo;
  const { settings, problem, jwksRefused } = settingsFrom(e);
  // A broken key list must not silently fall back to fewer keys: refuse everything and say why in the log.
  if (problem) console.error(JSON.stringify({ msg: "player token settings are invalid; refusing every player token", problem }));
  // Once per isolate and configuration, like the line above: the operator must learn why every JWKS token gets 401.
  else if (jwksRefused) console.error(JSON.stringify({ msg: "refusing every RS256/ES256 player token", problem: jwksRefused }));
  return (settingsMemo = { fingerprint, settings: problem ? null : settings });
}

/** The player a token proves, with how long it stays good; null for anything not a valid, current token. */
export async function verifyPlayer(token: string, env: Env, now = Date.now(), why?: { refused?: string }): Promise<VerifiedPlayer | null> {
  const { fingerprint, settings } = settingsOf(env);
  if (!settings) return null;
  let cache = verified.get(fingerprint);
  if (!cache) verified.set(fingerprint, (cache = new Map()));
  const hit = cache.get(token);
  if (hit) return hit.usableUntil > now ? hit : null;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return null;
  }
  const source = keySource(header, settings);
  if (!source) return null;
  try {
    const options: JWTVerifyOptions = {
      algorithms: [source.kind === "secret" ? "HS256" : source.alg],
      issuer: settings.issuer ?? undefined,
      audience: settings.audience ?? undefined,
      clockTolerance: settings.leewaySeconds,
      currentDate: new Date(now),
      // exp is mandatory, so a leaked token cannot live forever.
      requiredClaims: ["exp"],
    };
    const { payload } =
      source.kind === "secret" ? await jwtVerify(token, encoder.encode(source.secret), options) : await verifyFromJwks(token, jwks(source.url, source.cooldownSeconds), options);
    const player = playerFromClaims(payload, readConfig(env).defaultPlayerTimeZone);
    if (!player && why) why.refused = claimsProblem(payload) ?? undefined;
    if (!player || typeof payload.exp !== "number") return null;
    const result = { player, usableUntil: usableUntilMs(payload.exp, settings.leewaySeconds) };
    if (cache.size >= MAX_REMEMBERED) cache.clear();
    cache.set(token, result);
    return result;
  } catch {
    // A bad signature, a failed claim check, an unknown kid or an unreachable JWKS host: all of them are "not a token".
    return null;
  }
}
