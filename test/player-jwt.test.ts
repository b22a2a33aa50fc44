// Player JWTs as a studio's identity provider issues them, through the real Worker. This project is configured like a
// Firebase project (issuer https://securetoken.google.com/demo-game, audience demo-game, RS256/ES256 keys from a JWKS
// URL) plus two kid-keyed HS256 keys; test/jwks-server.ts serves the JWKS and mints tokens with jose (Node) and PyJWT.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { HOUR, call, createEvent, createTemplate, inMs } from "./helpers";
import { connect } from "./live-helpers";

const IDP = env.PLAYER_JWKS_URL.replace(/\/jwks\.json$/, "");
const ISS = "https://securetoken.google.com/demo-game";
const AUD = "demo-game";
const nowSec = () => Math.floor(Date.now() / 1000);

type Mint = { lib?: "jose" | "pyjwt"; alg?: string; kid?: string | null; key?: string; claims?: Record<string, unknown> };

/** A token from the test identity provider: Firebase-style claims, 5 s of clock skew (iat and nbf ahead) by default. */
async function mint(m: Mint = {}): Promise<string> {
  const alg = m.alg ?? "RS256";
  const kid = m.kid === null ? undefined : (m.kid ?? "rsa-1");
  const claims = { iss: ISS, aud: AUD, sub: "firebase-uid-1", iat: nowSec() + 5, nbf: nowSec() + 5, exp: nowSec() + 3600, ...m.claims };
  const res = await fetch(`${IDP}/mint`, { method: "POST", body: JSON.stringify({ lib: m.lib ?? "jose", alg, kid, key: m.key ?? kid, claims }) });
  const body = (await res.json()) as { token?: string; error?: string };
  if (!body.token) throw new Error(`mint failed: ${body.error}`);
  return body.token;
}

const read = (token: string) => call("GET", "/v1/events/active", { token });
const fetches = async () => ((await (await fetch(`${IDP}/__fetches`)).json()) as { count: number }).count;

async function expectAccepted(token: string) {
  const res = await read(token);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}
async function expectRefused(token: string) {
  const res = await read(token);
  expect(res.status).toBe(401);
  expect(res.json.error.code).toBe("unauthorized");
}

describe("accepted: iss, aud and kid as configured, 5 s of skew", () => {
  it.each([
    ["jose", "RS256", "rsa-1"],
    ["pyjwt", "RS256", "rsa-1"],
    ["jose", "ES256", "ec-1"],
    ["pyjwt", "ES256", "ec-1"],
  ] as const)("%s %s from the JWKS", async (lib, alg, kid) => {
    await expectAccepted(await mint({ lib, alg, kid }));
  });

  it.each([
    ["jose", "2025-a", "hs-key-a"],
    ["pyjwt", "2025-a", "hs-key-a"],
    ["jose", "2025-b", "hs-key-b"],
    ["pyjwt", "2025-b", "hs-key-b"],
  ] as const)("%s HS256 with kid %s (both rotation keys are live)", async (lib, kid, key) => {
    await expectAccepted(await mint({ lib, alg: "HS256", kid, key }));
  });

  it("HS256 without a kid uses PLAYER_TOKEN_SECRET", async () => {
    await expectAccepted(await mint({ lib: "pyjwt", alg: "HS256", kid: null, key: env.PLAYER_TOKEN_SECRET }));
  });

  it("the claims still name the player: lvl and clan as before", async () => {
    const t = await createTemplate({ minimumPlayerLevel: 7 });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    const low = await mint({ lib: "pyjwt", claims: { sub: "lvl-low", lvl: 3 } });
    const high = await mint({ lib: "pyjwt", claims: { sub: "lvl-high", lvl: 9, clan: "red" } });
    expect((await call("POST", `/v1/events/${e.eventId}/join`, { token: low })).json.error.code).toBe("not_eligible");
    expect((await call("POST", `/v1/events/${e.eventId}/join`, { token: high })).status).toBe(201);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
  });

  it("the live socket takes the same tokens", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    const { res, client } = await connect(e.eventId, await mint({ lib: "pyjwt", claims: { sub: "socket-rs" } }));
    expect(res.status).toBe(101);
    expect(await client!.next((f) => f.change === "snapshot")).toMatchObject({ type: "event_state", eventId: e.eventId });
    client!.ws.close(1000, "done");
    expect((await connect(e.eventId, await mint({ claims: { aud: "other-game" } }))).res.status).toBe(401);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
  });
});

describe("refused", () => {
  it("a token for another audience or from another issuer", async () => {
    await expectRefused(await mint({ claims: { aud: "other-game" } }));
    await expectRefused(await mint({ lib: "pyjwt", claims: { aud: ["other-game", "third-game"] } }));
    await expectRefused(await mint({ claims: { iss: "https://securetoken.google.com/other-game" } }));
    await expectRefused(await mint({ alg: "HS256", kid: "2025-a", key: "hs-key-a", claims: { aud: "other-game" } }));
    // Without aud or iss at all, when they are configured.
    await expectRefused(await mint({ claims: { aud: undefined } }));
    await expectRefused(await mint({ lib: "pyjwt", alg: "HS256", kid: null, key: env.PLAYER_TOKEN_SECRET, claims: { iss: undefined } }));
  });

  it("a kid nobody published, or signed by a key other than its kid's", async () => {
    await expectRefused(await mint({ kid: "rsa-9", key: "rsa-1" }));
    await expectRefused(await mint({ kid: "rsa-1", key: "ec-1", alg: "ES256" }));
    await expectRefused(await mint({ alg: "HS256", kid: "2025-a", key: "hs-key-b" }));
    await expectRefused(await mint({ alg: "HS256", kid: "2025-z", key: "hs-key-a" }));
  });

  it("expired beyond the leeway, or not yet valid beyond it; within the 30 s leeway is fine", async () => {
    await expectRefused(await mint({ claims: { exp: nowSec() - 60 } }));
    await expectRefused(await mint({ lib: "pyjwt", claims: { nbf: nowSec() + 120, iat: nowSec() } }));
    await expectAccepted(await mint({ claims: { exp: nowSec() - 10, iat: nowSec() - 600, nbf: nowSec() - 600 } }));
    await expectRefused(await mint({ claims: { exp: undefined } }));
  });

  it("alg none, and HS256 signed with the RSA public key (alg confusion)", async () => {
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const claims = { iss: ISS, aud: AUD, sub: "none-alg", exp: nowSec() + 3600 };
    await expectRefused(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`);
    await expectRefused(`${b64({ alg: "none", typ: "JWT", kid: "rsa-1" })}.${b64(claims)}.`);
    await expectRefused(await mint({ alg: "HS256", kid: "rsa-1", key: "public:rsa-1" }));
    await expectRefused(await mint({ alg: "HS256", kid: null, key: "public:rsa-1" }));
    await expectRefused(await mint({ lib: "pyjwt", alg: "RS512", kid: "rsa-1" }));
  });

  it("a cached token stops working at exp + leeway", async () => {
    // exp 28 s ago: accepted (and cached) for at most 2 more seconds of the 30 s leeway.
    const token = await mint({ claims: { exp: nowSec() - 28, iat: nowSec() - 600, nbf: nowSec() - 600 } });
    await expectAccepted(token);
    await new Promise((r) => setTimeout(r, 2_500));
    await expectRefused(token);
  });
});

describe("JWKS cache", () => {
  it("is refreshed for a kid it does not know, at most once per cooldown however many unknown kids arrive", async () => {
    await expectAccepted(await mint());
    const before = await fetches();
    const rotated = await mint({ kid: "rsa-2" });
    await fetch(`${IDP}/__rotate`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 1_100)); // the suite's cooldown is 1 s
    await expectAccepted(rotated);
    expect(await fetches()).toBe(before + 1);
    // A burst of forged kids right after: one refetch at most, then they are refused from the cache.
    const forged = await Promise.all(Array.from({ length: 10 }, (_, i) => mint({ kid: `forged-${i}`, key: "rsa-1" })));
    for (const token of forged) await expectRefused(token);
    expect(await fetches()).toBeLessThanOrEqual(before + 2);
    // Known keys keep verifying from the cache.
    await expectAccepted(await mint({ lib: "pyjwt", kid: "rsa-1" }));
    expect(await fetches()).toBeLessThanOrEqual(before + 2);
  });
});

describe("a JWKS needs an audience and an issuer to check", () => {
  /** The same Worker and bindings with some settings removed: a deployment that forgot them. */
  async function readWithout(token: string, unset: string[]) {
    const e = { ...env } as Record<string, unknown>;
    for (const k of unset) delete e[k];
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("http://live-events.test/v1/events/active", { headers: { Authorization: `Bearer ${token}` } }), e as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    return { status: res.status, json: (await res.json()) as { error?: { code: string } } };
  }

  it("refuses a validly signed RS256 token when PLAYER_JWT_AUDIENCE or PLAYER_JWT_ISSUER is unset, and says so in the log", async () => {
    const errors = vi.spyOn(console, "error");
    try {
      for (const unset of [["PLAYER_JWT_AUDIENCE", "PLAYER_JWT_ISSUER"], ["PLAYER_JWT_AUDIENCE"], ["PLAYER_JWT_ISSUER"]]) {
        // Firebase signs every project's tokens with the same keys: this one is for someone else's project, wherever
        // the setting that would tell it apart is missing (and passes the check that is still configured).
        const aud = unset.includes("PLAYER_JWT_AUDIENCE") ? "attacker-project" : AUD;
        const iss = unset.includes("PLAYER_JWT_ISSUER") ? "https://securetoken.google.com/attacker-project" : ISS;
        const res = await readWithout(await mint({ claims: { aud, iss, sub: "victim-uid" } }), unset);
        expect(res.status, unset.join()).toBe(401);
        expect(res.json.error?.code).toBe("unauthorized");
        expect(errors.mock.calls.flat().join("\n")).toContain(`${unset.join(" and ")} ${unset.length > 1 ? "are" : "is"} not`);
      }
      // Even our own project's token: the check cannot tell it from a foreign one without the settings.
      expect((await readWithout(await mint({ alg: "ES256", kid: "ec-1" }), ["PLAYER_JWT_AUDIENCE"])).status).toBe(401);
    } finally {
      errors.mockRestore();
    }
    // HS256 tokens are this deployment's own secrets and keep working.
    expect((await readWithout(await mint({ alg: "HS256", kid: "2025-a", key: "hs-key-a", claims: { aud: undefined, iss: undefined } }), ["PLAYER_JWT_AUDIENCE", "PLAYER_JWT_ISSUER"])).status).toBe(200);
    // And with both configured, the same Worker accepts its own tokens again.
    await expectAccepted(await mint());
  });
});

describe("tokens without a kid", () => {
  // After the "JWKS cache" test above, which rotates rsa-2 in: two RSA keys are published, as during any rotation.
  it("verify against whichever published key of their type signed them", async () => {
    await fetch(`${IDP}/__rotate`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 1_100)); // the suite's cooldown is 1 s
    await expectAccepted(await mint({ kid: "rsa-2" })); // the isolate's key set now holds rsa-1 and rsa-2
    await expectAccepted(await mint({ kid: null, key: "rsa-1", claims: { sub: "no-kid-1" } }));
    await expectAccepted(await mint({ lib: "pyjwt", kid: null, key: "rsa-2", claims: { sub: "no-kid-2" } }));
    await expectAccepted(await mint({ alg: "ES256", kid: null, key: "ec-1", claims: { sub: "no-kid-ec" } }));
    // Trying every key is no way around the other checks: a wrong audience, or a signature none of them made.
    await expectRefused(await mint({ kid: null, key: "rsa-2", claims: { aud: "other-game" } }));
    const [head, , sig] = (await mint({ kid: null, key: "rsa-1" })).split(".");
    const forged = btoa(JSON.stringify({ iss: ISS, aud: AUD, sub: "someone-else", exp: nowSec() + 3600 })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectRefused(`${head}.${forged}.${sig}`);
  });
});
