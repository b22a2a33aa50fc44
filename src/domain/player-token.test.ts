import { describe, expect, it } from "vitest";
import { DEFAULT_LEEWAY_SECONDS, jwksCooldown, keySource, leeway, list, parseHsKeys, playerFromClaims, settingsFrom, usableUntilMs } from "./player-token";

describe("PLAYER_JWT_HS256_KEYS", () => {
  it("reads JSON and kid:secret lists", () => {
    expect([...parseHsKeys('{"a":"s1","b":"s2"}').keys]).toEqual([["a", "s1"], ["b", "s2"]]);
    expect([...parseHsKeys(" a:s1 , b:s:2 ").keys]).toEqual([["a", "s1"], ["b", "s:2"]]);
    expect(parseHsKeys(undefined)).toEqual({ keys: new Map(), problem: null });
    expect(parseHsKeys("  ")).toEqual({ keys: new Map(), problem: null });
  });

  it("reports a broken setting instead of keeping part of it", () => {
    for (const bad of ["{not json", "[1]", '{"a":""}', '{"a":1}', "a:s1,nocolon", ":s", "a:"]) {
      const r = parseHsKeys(bad);
      expect(r.problem).toMatch(/PLAYER_JWT_HS256_KEYS/);
      expect(r.keys.size).toBe(0);
    }
  });
});

const idp = { PLAYER_JWT_ISSUER: "https://idp", PLAYER_JWT_AUDIENCE: "game" };

describe("settings", () => {
  it("leeway defaults to 30 s, is bounded, and ignores junk", () => {
    expect(leeway(undefined)).toBe(DEFAULT_LEEWAY_SECONDS);
    expect(leeway("0")).toBe(0);
    expect(leeway("12.9")).toBe(12);
    expect(leeway("-5")).toBe(30);
    expect(leeway("soon")).toBe(30);
    expect(leeway("99999")).toBe(300);
  });

  it("the JWKS cooldown defaults to 30 s and is never below 1 s", () => {
    expect(jwksCooldown(undefined)).toBe(30);
    expect(jwksCooldown("0")).toBe(1);
    expect(jwksCooldown("5")).toBe(5);
  });

  it("issuer and audience are comma lists, off when unset", () => {
    expect(list("a, b,,c")).toEqual(["a", "b", "c"]);
    expect(list("")).toBeNull();
    expect(list(undefined)).toBeNull();
  });

  it("a JWKS URL must be http(s)", () => {
    expect(settingsFrom({ PLAYER_JWKS_URL: "ftp://x" }).problem).toMatch(/PLAYER_JWKS_URL/);
    expect(settingsFrom({ PLAYER_JWKS_URL: "https://x/jwks.json", ...idp }).settings.jwksUrl).toBe("https://x/jwks.json");
  });

  it("a JWKS is used only with both an audience and an issuer to check (a provider's JWKS may serve every tenant)", () => {
    const none = settingsFrom({ PLAYER_JWKS_URL: "https://x/jwks.json", PLAYER_TOKEN_SECRET: "s" });
    expect(none.settings.jwksUrl).toBeNull();
    expect(none.problem).toBeNull(); // HS256 tokens keep working
    expect(none.jwksRefused).toMatch(/PLAYER_JWT_AUDIENCE and PLAYER_JWT_ISSUER are not/);
    expect(keySource({ alg: "RS256", kid: "k" }, none.settings)).toBeNull();
    expect(keySource({ alg: "HS256" }, none.settings)).toEqual({ kind: "secret", secret: "s" });
    const noAud = settingsFrom({ PLAYER_JWKS_URL: "https://x/jwks.json", PLAYER_JWT_ISSUER: "https://idp" });
    expect(noAud.jwksRefused).toMatch(/but PLAYER_JWT_AUDIENCE is not/);
    expect(noAud.settings.jwksUrl).toBeNull();
    const noIss = settingsFrom({ PLAYER_JWKS_URL: "https://x/jwks.json", PLAYER_JWT_AUDIENCE: "game" });
    expect(noIss.jwksRefused).toMatch(/but PLAYER_JWT_ISSUER is not/);
    expect(settingsFrom({ PLAYER_JWKS_URL: "https://x/jwks.json", ...idp }).jwksRefused).toBeNull();
    // Without a JWKS, iss/aud stay optional: the HS256 secrets are this deployment's own.
    expect(settingsFrom({ PLAYER_TOKEN_SECRET: "s" }).jwksRefused).toBeNull();
  });
});

describe("key source by header", () => {
  const s = settingsFrom({ PLAYER_TOKEN_SECRET: "dflt", PLAYER_JWT_HS256_KEYS: "k1:one", PLAYER_JWKS_URL: "https://idp/jwks", ...idp }).settings;

  it("HS256 uses the kid's secret, or the default secret without a kid", () => {
    expect(keySource({ alg: "HS256", kid: "k1" }, s)).toEqual({ kind: "secret", secret: "one" });
    expect(keySource({ alg: "HS256" }, s)).toEqual({ kind: "secret", secret: "dflt" });
    expect(keySource({ alg: "HS256", kid: "unknown" }, s)).toBeNull();
  });

  it("RS256 and ES256 go to the JWKS only; none and other algs go nowhere", () => {
    expect(keySource({ alg: "RS256", kid: "k1" }, s)).toEqual({ kind: "jwks", url: "https://idp/jwks", cooldownSeconds: 30, alg: "RS256" });
    expect(keySource({ alg: "ES256" }, s)).toMatchObject({ kind: "jwks", alg: "ES256" });
    expect(keySource({ alg: "none" }, s)).toBeNull();
    expect(keySource({ alg: "HS512" }, s)).toBeNull();
    expect(keySource({ alg: "RS256" }, settingsFrom({ PLAYER_TOKEN_SECRET: "x" }).settings)).toBeNull();
  });
});

describe("claims", () => {
  it("sub 1–64, lvl a whole number ≥ 0 (1 if absent), clan optional", () => {
    expect(playerFromClaims({ sub: "p1" })).toEqual({ playerId: "p1", level: 1, clan: null, tz: "UTC" });
    expect(playerFromClaims({ sub: "p1", lvl: 0, clan: "red" })).toEqual({ playerId: "p1", level: 0, clan: "red", tz: "UTC" });
    // The zone: the claim's, as spelled; else the configured fallback; a zone the runtime does not know refuses the token.
    expect(playerFromClaims({ sub: "p1", tz: "Asia/Kolkata" }, "Europe/London")).toMatchObject({ tz: "Asia/Kolkata", tzClaimed: true });
    // The fallback is no claim: a local-time event may still find the player's zone in their profile.
    expect(playerFromClaims({ sub: "p1" }, "Europe/London")?.tz).toBe("Europe/London");
    expect(playerFromClaims({ sub: "p1" }, "Europe/London")).not.toHaveProperty("tzClaimed");
    for (const tz of ["Mars/Olympus", "+05:30", "", 42, "America/New_York; DROP"]) expect(playerFromClaims({ sub: "p1", tz })).toBeNull();
    // Valid to Intl but outside the zone list the envelope and waves are computed over: refused too.
    for (const tz of ["Etc/GMT+12", "Etc/GMT-14"]) expect(playerFromClaims({ sub: "p1", tz })).toBeNull();
    // Names the runtime maps onto a listed zone are kept as spelled.
    for (const tz of ["US/Eastern", "Asia/Kolkata", "Etc/UTC", "UTC"]) expect(playerFromClaims({ sub: "p1", tz })?.tz).toBe(tz);
    expect(playerFromClaims({ sub: "" })).toBeNull();
    expect(playerFromClaims({ sub: "x".repeat(65) })).toBeNull();
    expect(playerFromClaims({ sub: "p1", lvl: 2.5 })).toBeNull();
    expect(playerFromClaims({ sub: "p1", lvl: "3" })).toBeNull();
  });

  it("a verified token stays usable until exp plus the leeway", () => {
    expect(usableUntilMs(1000, 30)).toBe(1_030_000);
  });
});
