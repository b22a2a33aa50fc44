// Authentication and authorisation through the real Worker: admin bearer token, player JWTs, the audit actor.
// Operator keys and roles: test/operator-keys.test.ts. Player JWT settings (kid, JWKS, iss/aud, leeway): test/player-jwt.test.ts.
import { env } from "cloudflare:test";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { ADMIN, apiKey, call, createEvent, createTemplate, playerToken } from "./helpers";

const nowSec = () => Math.floor(Date.now() / 1000);

function expectError(res: { status: number; json: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(res.json.error.message.length).toBeGreaterThan(0);
}

describe("missing or malformed Authorization", () => {
  it("admin routes answer 401 JSON without a token", async () => {
    const res = await call("GET", "/v1/admin/templates", { token: null });
    expectError(res, 401, "unauthorized");
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
  });

  it("admin write routes answer 401 without a token and write nothing", async () => {
    const res = await call("POST", "/v1/admin/templates", { token: null, body: { templateId: "x" } });
    expectError(res, 401, "unauthorized");
  });

  it("player routes answer 401 JSON without a token", async () => {
    for (const path of ["/v1/events/active", "/v1/events/upcoming", "/v1/events/evt_0123456789abcdef01234567"]) {
      const res = await call("GET", path, { token: null });
      expectError(res, 401, "unauthorized");
    }
  });

  it("a non-Bearer scheme is refused", async () => {
    const res = await call("GET", "/v1/admin/templates", { token: null, headers: { Authorization: `Basic ${ADMIN}` } });
    expectError(res, 401, "unauthorized");
  });
});

describe("admin token", () => {
  it("a wrong admin token is 401", async () => {
    expectError(await call("GET", "/v1/admin/templates", { token: "not-the-admin-token" }), 401, "unauthorized");
    expectError(await call("GET", "/v1/admin/templates", { token: `${ADMIN}x` }), 401, "unauthorized");
  });

  it("the admin token works on /v1/admin/templates", async () => {
    const res = await call("GET", "/v1/admin/templates");
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json.templates)).toBe(true);
  });

  it("a valid player JWT on an admin route is 403", async () => {
    const token = await playerToken("player-1");
    expectError(await call("GET", "/v1/admin/templates", { token }), 403, "forbidden");
    expectError(await call("GET", "/v1/admin/events", { token }), 403, "forbidden");
  });

  it("an invalid player JWT on an admin route is 401, not 403", async () => {
    const token = await playerToken("player-1", {}, "some-other-secret");
    expectError(await call("GET", "/v1/admin/templates", { token }), 401, "unauthorized");
  });
});

describe("player tokens", () => {
  it("a valid token reads /v1/events/active", async () => {
    const res = await call("GET", "/v1/events/active", { token: await playerToken("player-ok") });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json.events)).toBe(true);
  });

  it("the admin token is not a player token", async () => {
    expectError(await call("GET", "/v1/events/active"), 401, "unauthorized");
  });

  it("a token signed with another secret is 401", async () => {
    const token = await playerToken("player-forged", {}, "attacker-secret");
    expectError(await call("GET", "/v1/events/active", { token }), 401, "unauthorized");
  });

  it("a tampered payload is 401", async () => {
    const token = await playerToken("player-1", { lvl: 1 });
    const [h, , s] = token.split(".");
    const payload = btoa(JSON.stringify({ sub: "player-1", lvl: 99, exp: nowSec() + 3600 })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    expectError(await call("GET", "/v1/events/active", { token: `${h}.${payload}.${s}` }), 401, "unauthorized");
  });

  it("an expired token is 401", async () => {
    const token = await playerToken("player-expired", { exp: nowSec() - 60 });
    expectError(await call("GET", "/v1/events/active", { token }), 401, "unauthorized");
  });

  it("a token without exp is 401", async () => {
    const token = await sign({ sub: "player-noexp" }, env.PLAYER_TOKEN_SECRET, "HS256");
    expectError(await call("GET", "/v1/events/active", { token }), 401, "unauthorized");
  });

  it("a token without sub (or with an empty sub) is 401", async () => {
    const noSub = await sign({ exp: nowSec() + 3600 }, env.PLAYER_TOKEN_SECRET, "HS256");
    expectError(await call("GET", "/v1/events/active", { token: noSub }), 401, "unauthorized");
    const emptySub = await playerToken("");
    expectError(await call("GET", "/v1/events/active", { token: emptySub }), 401, "unauthorized");
  });

  it("a token with a nonsensical level is 401", async () => {
    const token = await playerToken("player-badlvl", { lvl: -3 });
    const res = await call("GET", "/v1/events/active", { token });
    expectError(res, 401, "unauthorized");
    expect(res.json.error.message).toBe("player token refused: its lvl claim must be a whole number ≥ 0");
    // A forged or expired token says nothing more than that.
    const forged = await call("GET", "/v1/events/active", { token: `${token.slice(0, -4)}AAAA` });
    expect(forged.json.error.message).toBe("invalid or expired player token");
  });

  it("garbage in the bearer slot is 401", async () => {
    expectError(await call("GET", "/v1/events/active", { token: "not.a.jwt" }), 401, "unauthorized");
  });
});

describe("audit actor", () => {
  it("is the authenticated operator key, whatever X-Operator says", async () => {
    const t = await createTemplate();
    const alice = await apiKey({ name: "alice", role: "operator" });
    const res = await call("POST", "/v1/admin/events", {
      token: alice.key,
      headers: { "X-Operator": "mallory" },
      body: { templateId: t.templateId, startTime: new Date(Date.now() + 3_600_000).toISOString(), endTime: new Date(Date.now() + 7_200_000).toISOString() },
    });
    expect(res.status).toBe(201);
    const got = await call("GET", `/v1/admin/events/${res.json.eventId}`);
    expect(got.status).toBe(200);
    expect(got.json.transitions[0].actor).toBe(alice.actor);
    expect(alice.actor).toMatch(/^key:[a-z0-9]{16}:alice$/);
    expect(got.json.transitions[0].toState).toBe("scheduled");
  });

  it("the bootstrap ADMIN_TOKEN acts as `bootstrap`, and commands record their operator too", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    const bob = await apiKey({ name: "bob", role: "operator" });
    const cancelled = await call("POST", `/v1/admin/events/${e.eventId}/cancel`, {
      token: bob.key,
      headers: { "X-Operator": "  someone-else  " },
      body: { reason: "typo in name" },
    });
    expect(cancelled.status).toBe(200);
    const got = await call("GET", `/v1/admin/events/${e.eventId}`);
    expect(got.json.transitions.map((t: any) => t.actor)).toEqual(["bootstrap", bob.actor]);
    expect(got.json.transitions[1]).toMatchObject({ fromState: "scheduled", toState: "cancelled", reason: "typo in name" });
  });
});
