// Player-token rules that do not depend on the crypto: the settings as read from the environment, which key source a
// token's header selects, the claims a verified token must carry, and how long a verified token may be remembered.
// src/http/player-tokens.ts does the signature checks with jose.
import type { Player } from "./model";
import { isKnownZone } from "./local-time";

export type PlayerTokenSettings = {
  /** The HS256 key for tokens without a `kid` (PLAYER_TOKEN_SECRET); null when not set. */
  defaultSecret: string | null;
  /** HS256 keys by `kid`, several active at once so a rotation needs no downtime. */
  hsKeys: ReadonlyMap<string, string>;
  /** RS256/ES256 keys come from here, fetched and cached. */
  jwksUrl: string | null;
  issuer: string[] | null;
  audience: string[] | null;
  leewaySeconds: number;
  /** At most one JWKS refetch per this many seconds, however many unknown `kid`s arrive. */
  jwksCooldownSeconds: number;
};

/** The asymmetric algorithms a JWKS may serve. HS256 only ever uses the configured secrets (no alg confusion). */
export const JWKS_ALGORITHMS = ["RS256", "ES256"] as const;
export const DEFAULT_LEEWAY_SECONDS = 30;
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
/** A leeway this large would make `exp` meaningless; a typo must not do that. */
const MAX_LEEWAY_SECONDS = 300;

/** A set, non-blank string setting, trimmed; null otherwise. */
const setting = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);

/**
 * PLAYER_JWT_HS256_KEYS as JSON (`{"2025-01":"secret",…}`) or as `kid:secret,kid:secret`. Problems are reported,
 * not thrown: the caller decides whether a broken setting means "refuse every token" (it does, see settingsFrom).
 */
export function parseHsKeys(raw: unknown): { keys: Map<string, string>; problem: string | null } {
  const keys = new Map<string, string>();
  const text = setting(raw);
  if (text === null) return { keys, problem: null };
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { keys, problem: "PLAYER_JWT_HS256_KEYS is not valid JSON" };
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { keys, problem: "PLAYER_JWT_HS256_KEYS must be a JSON object of kid → secret" };
    for (const [kid, secret] of Object.entries(parsed)) {
      if (typeof secret !== "string" || secret === "" || kid === "") return { keys: new Map(), problem: `PLAYER_JWT_HS256_KEYS: kid "${kid}" needs a non-empty string secret` };
      keys.set(kid, secret);
    }
    return { keys, problem: null };
  }
  for (const part of text.split(",")) {
    const at = part.indexOf(":");
    const kid = part.slice(0, at).trim();
    const secret = part.slice(at + 1).trim();
    if (at <= 0 || kid === "" || secret === "") return { keys: new Map(), problem: `PLAYER_JWT_HS256_KEYS: "${part.trim().slice(0, 20)}…" is not kid:secret` };
    keys.set(kid, secret);
  }
  return { keys, problem: null };
}

/** A comma-separated list setting; null when unset (the check is then off). */
export function list(raw: unknown): string[] | null {
  const text = setting(raw);
  if (text === null) return null;
  const items = text.split(",").map((s) => s.trim()).filter(Boolean);
  return items.length ? items : null;
}

/** Whole seconds from a setting, within [min, max]; the fallback when unset or not a number. */
function seconds(raw: unknown, fallback: number, min: number, max: number): number {
  const text = setting(raw);
  const n = text === null ? NaN : Number(text);
  return Number.isFinite(n) && n >= 0 ? Math.min(Math.max(Math.floor(n), min), max) : fallback;
}

export const leeway = (raw: unknown) => seconds(raw, DEFAULT_LEEWAY_SECONDS, 0, MAX_LEEWAY_SECONDS);
/** At least 1 s: without a cooldown every forged `kid` would be a request to the identity provider. */
export const jwksCooldown = (raw: unknown) => seconds(raw, DEFAULT_JWKS_COOLDOWN_SECONDS, 1, 3600);

/**
 * Why a configured JWKS may not be used, or null. A provider's JWKS is often shared by all its tenants (Firebase's
 * securetoken keys sign the ID tokens of every Firebase project), so a valid signature proves only "some project of
 * that provider issued this": without an audience and an issuer to check, anyone with their own free project could
 * mint a token naming any player. Both are required, as every mainstream provider sets both claims.
 */
export function jwksRefusal(url: string | null, issuer: string[] | null, audience: string[] | null): string | null {
  if (url === null) return null;
  const missing = [audience ? null : "PLAYER_JWT_AUDIENCE", issuer ? null : "PLAYER_JWT_ISSUER"].filter((m) => m !== null);
  return missing.length
    ? `PLAYER_JWKS_URL is set but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not: a JWKS may be shared by every tenant of the provider, so RS256/ES256 tokens are refused until both are set`
    : null;
}

/**
 * `problem`: the settings are broken and every token is refused. `jwksRefused`: only the JWKS is off (HS256 tokens
 * still work), with the reason to log.
 */
export function settingsFrom(env: Record<string, unknown>): { settings: PlayerTokenSettings; problem: string | null; jwksRefused: string | null } {
  const hs = parseHsKeys(env.PLAYER_JWT_HS256_KEYS);
  const url = setting(env.PLAYER_JWKS_URL);
  const badUrl = url !== null && !/^https?:\/\//.test(url) ? "PLAYER_JWKS_URL must be an http(s) URL" : null;
  const issuer = list(env.PLAYER_JWT_ISSUER);
  const audience = list(env.PLAYER_JWT_AUDIENCE);
  const jwksRefused = badUrl ? null : jwksRefusal(url, issuer, audience);
  return {
    settings: {
      // Not trimmed: a secret is used byte for byte, as the token minter uses it.
      defaultSecret: setting(env.PLAYER_TOKEN_SECRET) === null ? null : (env.PLAYER_TOKEN_SECRET as string),
      hsKeys: hs.keys,
      jwksUrl: badUrl || jwksRefused ? null : url,
      issuer,
      audience,
      leewaySeconds: leeway(env.PLAYER_JWT_LEEWAY_SECONDS),
      jwksCooldownSeconds: jwksCooldown(env.PLAYER_JWKS_COOLDOWN_SECONDS),
    },
    problem: hs.problem ?? badUrl,
    jwksRefused,
  };
}

export type KeySource = { kind: "secret"; secret: string } | { kind: "jwks"; url: string; cooldownSeconds: number; alg: (typeof JWKS_ALGORITHMS)[number] };

/**
 * The one key source a token's header may use, or null. The header's `alg` picks the family and nothing else does:
 * an HS256 token is checked only against the configured secrets (a JWKS public key is never an HMAC secret), an
 * RS256/ES256 token only against the JWKS, and `none` or anything else against nothing.
 */
export function keySource(header: { alg?: unknown; kid?: unknown }, s: PlayerTokenSettings): KeySource | null {
  const kid = typeof header.kid === "string" ? header.kid : undefined;
  if (header.alg === "HS256") {
    const secret = kid === undefined ? s.defaultSecret : s.hsKeys.get(kid);
    return secret ? { kind: "secret", secret } : null;
  }
  const alg = JWKS_ALGORITHMS.find((a) => a === header.alg);
  return alg && s.jwksUrl ? { kind: "jwks", url: s.jwksUrl, cooldownSeconds: s.jwksCooldownSeconds, alg } : null;
}

/**
 * What is wrong with a verified token's claims, in words for the 401 (the signature held, so saying which claim is
 * safe and saves the game's developers a guess), or null: `sub` 1–64 chars, `lvl` a whole number ≥ 0 (1 if absent),
 * `tz` an IANA zone the runtime knows.
 */
export function claimsProblem(claims: Record<string, unknown>): string | null {
  if (typeof claims.sub !== "string" || claims.sub.length === 0 || claims.sub.length > 64) return "its sub claim must be a player id of 1 to 64 characters";
  // A malformed level must not quietly become 0 or 1 and pass eligibility checks it should not.
  if (claims.lvl !== undefined && (typeof claims.lvl !== "number" || !Number.isInteger(claims.lvl) || claims.lvl < 0)) return "its lvl claim must be a whole number ≥ 0";
  // Like a malformed level, a zone the runtime does not know must not quietly become the fallback: the player's
  // windows would open hours off. The token is refused instead (401), which the game notices at once.
  if (claims.tz !== undefined && (typeof claims.tz !== "string" || !isKnownZone(claims.tz)))
    return `its tz claim ${JSON.stringify(String(claims.tz)).slice(0, 80)} is not a time zone this server knows (an IANA name such as Europe/London)`;
  return null;
}

/** The player a verified token names, or null when claimsProblem finds one; `fallbackZone` when `tz` is absent. */
export function playerFromClaims(claims: Record<string, unknown>, fallbackZone = "UTC"): Player | null {
  if (claimsProblem(claims) !== null) return null;
  const clan = typeof claims.clan === "string" && claims.clan.length > 0 ? claims.clan : null;
  // Kept as spelled: the runtime's ICU may "canonicalize" Asia/Kolkata to the legacy Asia/Calcutta, which players and
  // ops would not recognise in a window's details; both name the same rules.
  const claimed = typeof claims.tz === "string";
  const player: Player = { playerId: claims.sub as string, level: (claims.lvl as number | undefined) ?? 1, clan, tz: claimed ? (claims.tz as string) : fallbackZone };
  if (claimed) player.tzClaimed = true;
  return player;
}

/** A verified token is good until `exp` plus the leeway the first check allowed it, and no longer, cached or not. */
export const usableUntilMs = (exp: number, leewaySeconds: number) => (exp + leewaySeconds) * 1000;
