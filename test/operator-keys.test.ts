// Operator API keys through the real Worker: roles from the policy table, create/list/revoke, hashed storage, and
// the bootstrap ADMIN_TOKEN. Server keys and their routes: test/server-keys.test.ts.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apiKey, call, createEvent, createTemplate, inMs, HOUR, playerToken, templateBody } from "./helpers";

function expectForbidden(res: { status: number; json: any }, required: string) {
  expect(res.status).toBe(403);
  expect(res.json.error).toMatchObject({ code: "forbidden", details: { required } });
  expect(res.json.error.message).toContain(required);
}

const eventBody = (templateId: string) => ({ templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) });

describe("roles", () => {
  it("a viewer reads, and may not schedule, manage templates, settings or keys", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    const { key } = await apiKey({ name: "vera", role: "viewer" });
    for (const path of ["/v1/admin/templates", "/v1/admin/events", `/v1/admin/events/${e.eventId}`, "/v1/admin/settings", "/v1/admin/calendar?format=json"]) {
      expect((await call("GET", path, { token: key })).status, path).toBe(200);
    }
    expectForbidden(await call("POST", "/v1/admin/events", { token: key, body: eventBody(t.templateId) }), "operator");
    expectForbidden(await call("POST", `/v1/admin/events/${e.eventId}/pause`, { token: key }), "operator");
    expectForbidden(await call("POST", "/v1/admin/schedule/validate", { token: key, body: eventBody(t.templateId) }), "operator");
    expectForbidden(await call("POST", "/v1/admin/templates", { token: key, body: templateBody() }), "admin");
    expectForbidden(await call("PUT", "/v1/admin/settings", { token: key, body: { maxConcurrent: 5 } }), "admin");
    expectForbidden(await call("GET", "/v1/admin/keys", { token: key }), "admin");
    // Refused, and nothing changed.
    expect((await call("GET", `/v1/admin/events/${e.eventId}`)).json.state).toBe("scheduled");
  });

  it("an operator schedules, reschedules, pauses, cancels and validates, but cannot do an admin's job", async () => {
    const t = await createTemplate();
    const { key, actor } = await apiKey({ name: "otto", role: "operator" });
    const created = await call("POST", "/v1/admin/events", { token: key, body: eventBody(t.templateId) });
    expect(created.status).toBe(201);
    const id = created.json.eventId;
    expect((await call("POST", "/v1/admin/schedule/validate", { token: key, body: eventBody(t.templateId) })).status).toBe(200);
    expect((await call("PATCH", `/v1/admin/events/${id}`, { token: key, body: { endTime: inMs(3 * HOUR) } })).status).toBe(200);
    expect((await call("POST", `/v1/admin/events/${id}/cancel`, { token: key, body: { reason: "test" } })).status).toBe(200);
    const got = await call("GET", `/v1/admin/events/${id}`, { token: key });
    // created, rescheduled, cancelled: every step by this key.
    expect(got.json.transitions.map((x: any) => x.actor)).toEqual([actor, actor, actor]);
    expect(got.json.state).toBe("cancelled");

    const templateId = `op-denied-${Date.now()}`;
    expectForbidden(await call("POST", "/v1/admin/templates", { token: key, body: templateBody({ templateId }) }), "admin");
    expect((await call("GET", `/v1/admin/templates/${templateId}`)).status).toBe(404);
    expectForbidden(await call("PUT", `/v1/admin/templates/${t.templateId}`, { token: key, body: { name: "Renamed" } }), "admin");
    expectForbidden(await call("PUT", "/v1/admin/settings", { token: key, body: { maxConcurrent: 9 } }), "admin");
    expectForbidden(await call("POST", "/v1/admin/keys", { token: key, body: { kind: "operator", name: "me2", role: "admin" } }), "admin");
  });

  it("an operator schedules a template as it is; content overrides and force in the body need an admin", async () => {
    const t = await createTemplate();
    const op = await apiKey({ name: "olga", role: "operator" });
    const admin = await apiKey({ name: "adam", role: "admin" });
    const plain = eventBody(t.templateId);
    expect((await call("POST", "/v1/admin/events", { token: op.key, body: { ...plain, reason: "weekend" } })).status).toBe(201);
    const richer = { ...plain, rewardPool: [{ milestoneIndex: 0, rewards: [{ rewardId: "gems", type: "currency", itemId: "gems", quantity: 100000 }] }] };
    for (const [path, body, fields] of [
      ["/v1/admin/events", richer, ["rewardPool"]],
      ["/v1/admin/events", { ...plain, force: true, reason: "skip the rules" }, ["force"]],
      ["/v1/admin/events", { ...plain, tier: "mini", milestones: templateBody().milestones }, ["tier", "milestones"]],
      ["/v1/admin/schedule/validate", richer, ["rewardPool"]],
      ["/v1/admin/schedule/validate", { ...plain, force: true, reason: "skip the rules" }, ["force"]],
    ] as const) {
      const res = await call("POST", path, { token: op.key, body });
      expect(res.status, `${path} ${JSON.stringify(fields)}`).toBe(403);
      expect(res.json.error).toMatchObject({ code: "forbidden", details: { required: "admin", role: "operator", fields } });
    }
    // Nothing was created by the refusals: only the plain event exists.
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM instances WHERE template_id = ?").bind(t.templateId).first<{ n: number }>())!.n;
    expect(await count()).toBe(1);
    const byAdmin = await call("POST", "/v1/admin/events", { token: admin.key, body: richer });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.json.rewardPool).toEqual(expect.arrayContaining([expect.objectContaining({ rewardId: "gems", quantity: 100000 })]));
    expect(await count()).toBe(2);
    // Rescheduling with force is the same bypass.
    const moved = await call("PATCH", `/v1/admin/events/${byAdmin.json.eventId}`, { token: op.key, body: { endTime: inMs(5 * HOUR), force: true, reason: "r" } });
    expect(moved.status).toBe(403);
    expect(moved.json.error.details.fields).toEqual(["force"]);
  });

  it("an admin key manages templates, settings and keys, and is recorded as itself", async () => {
    const admin = await apiKey({ name: "ada", role: "admin" });
    const created = await call("POST", "/v1/admin/templates", { token: admin.key, body: templateBody() });
    expect(created.status).toBe(201);
    const settings = await call("GET", "/v1/admin/settings", { token: admin.key });
    const put = await call("PUT", "/v1/admin/settings", { token: admin.key, body: { maxConcurrent: settings.json.maxConcurrent } });
    expect(put.status).toBe(200);
    const minted = await call("POST", "/v1/admin/keys", { token: admin.key, body: { kind: "operator", name: "new-op", role: "operator" } });
    expect(minted.status).toBe(201);
    expect(minted.json.createdBy).toBe(admin.actor);
  });
});

describe("key lifecycle", () => {
  it("a key is shown once, listed by label only, stored hashed, and stops working when revoked", async () => {
    const res = await call("POST", "/v1/admin/keys", { body: { kind: "operator", name: "  rita  ", role: "operator" } });
    expect(res.status).toBe(201);
    const { key, keyId } = res.json;
    expect(key).toMatch(/^lek_op_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(res.json).toMatchObject({ kind: "operator", name: "rita", role: "operator", scopes: [], createdBy: "bootstrap", revokedAt: null, label: `lek_op_${keyId}` });

    const listed = await call("GET", "/v1/admin/keys?kind=operator");
    const mine = listed.json.keys.find((k: any) => k.keyId === keyId);
    expect(mine).toMatchObject({ label: `lek_op_${keyId}`, name: "rita" });
    expect(JSON.stringify(listed.json)).not.toContain(key.split("_").at(-1));
    expect(mine.key).toBeUndefined();

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE key_id = ?").bind(keyId).first<Record<string, unknown>>();
    expect(Object.values(row!).join(" ")).not.toContain(key);
    expect(row!.key_hash).toMatch(/^[0-9a-f]{64}$/);

    expect((await call("GET", "/v1/admin/events", { token: key })).status).toBe(200);
    const revoked = await call("DELETE", `/v1/admin/keys/${keyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ keyId, revokedBy: "bootstrap" });
    expect(Date.parse(revoked.json.revokedAt)).toBeGreaterThan(0);
    const after = await call("GET", "/v1/admin/events", { token: key });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("unauthorized");
    // Revoking again changes nothing; the live listing leaves it out, the full one keeps it for the audit trail.
    expect((await call("DELETE", `/v1/admin/keys/${keyId}`)).json.revokedAt).toBe(revoked.json.revokedAt);
    expect((await call("GET", "/v1/admin/keys?includeRevoked=false")).json.keys.some((k: any) => k.keyId === keyId)).toBe(false);
    expect((await call("GET", "/v1/admin/keys")).json.keys.some((k: any) => k.keyId === keyId)).toBe(true);
  });

  it("unknown keys, tampered secrets and unknown ids are refused", async () => {
    const { key, keyId } = await apiKey({ name: "tamper", role: "admin" });
    const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect((await call("GET", "/v1/admin/events", { token: flipped })).status).toBe(401);
    expect((await call("GET", "/v1/admin/events", { token: `lek_op_${"z".repeat(16)}_${"A".repeat(43)}` })).status).toBe(401);
    expect((await call("GET", "/v1/admin/events", { token: key.replace("lek_op_", "lek_srv_") })).status).toBe(401);
    const missing = await call("DELETE", "/v1/admin/keys/zzzzzzzzzzzzzzzz");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("key_not_found");
    expect((await call("DELETE", "/v1/admin/keys/not-an-id")).status).toBe(404);
    expect((await call("GET", "/v1/admin/events", { token: key })).status).toBe(200);
    expect(keyId).toMatch(/^[a-z0-9]{16}$/);
  });

  it("a made-up key id is looked up in D1 once per 10 s, not once per request; a wrong secret never locks a real key out", async () => {
    const fakeId = `fake${Date.now().toString(36)}`.padEnd(16, "0").slice(0, 16);
    const fake = `lek_op_${fakeId}_${"Q".repeat(43)}`;
    for (let i = 0; i < 5; i++) {
      const res = await call("GET", "/v1/admin/events", { token: fake });
      expect(res.status).toBe(401);
      expect(res.json.error.message).toBe("unknown or revoked API key");
    }
    expect((await call("GET", "/v1/server/players/p1/inventory", { token: fake.replace("lek_op_", "lek_srv_") })).status).toBe(401);
    // A row for that id appears in D1 without passing through this isolate (as if made by another one, or by an
    // attacker's earlier lookup racing a create): this isolate does not ask D1 again within the window, which is how
    // the flood is kept to one read per id.
    const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(fake)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    await env.DB.prepare("INSERT INTO api_keys (key_id, kind, name, role, scopes, key_hash, created_at, created_by) VALUES (?, 'operator', 'late', 'viewer', '[]', ?, ?, 'test')")
      .bind(fakeId, hash, Date.now())
      .run();
    expect((await call("GET", "/v1/admin/events", { token: fake })).status).toBe(401);
    // Keys made through the API work at once, and a wrong secret sent for a real id does not shut its holder out.
    const real = await apiKey({ name: "fresh", role: "viewer" });
    const wrong = `lek_op_${real.keyId}_${"W".repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/admin/events", { token: wrong })).status).toBe(401);
    expect((await call("GET", "/v1/admin/events", { token: real.key })).status).toBe(200);
  });

  it("bad create bodies are 422 with field paths, and nothing is created", async () => {
    const before = (await call("GET", "/v1/admin/keys?limit=500")).json.keys.length;
    for (const body of [
      { kind: "operator", name: "x" },
      { kind: "operator", name: "x", role: "superuser" },
      { kind: "server", name: "x", scopes: [] },
      { kind: "server", name: "x", scopes: ["inventory:delete"] },
      { kind: "server", name: "x", scopes: ["inventory:read", "inventory:read"] },
      { kind: "robot", name: "x" },
      { kind: "operator", name: "   ", role: "viewer" },
      { kind: "operator", name: "x", role: "viewer", extra: 1 },
    ]) {
      const res = await call("POST", "/v1/admin/keys", { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.json.error.code).toBe("validation_failed");
      expect(res.json.error.details.fields.length).toBeGreaterThan(0);
    }
    const bad = await call("POST", "/v1/admin/keys", { raw: "{nope", headers: { "Content-Type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("invalid_json");
    expect((await call("GET", "/v1/admin/keys?limit=500")).json.keys.length).toBe(before);
    expect((await call("GET", "/v1/admin/keys?kind=robot")).status).toBe(400);
  });
});

describe("credentials in the wrong place", () => {
  it("server keys cannot call admin routes, player tokens cannot call either, admin credentials cannot call server routes", async () => {
    const server = await apiKey({ name: "gs", scopes: ["inventory:read"] });
    const op = await apiKey({ name: "op", role: "admin" });
    const forbidden = async (res: Promise<{ status: number; json: any }>) => {
      const r = await res;
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe("forbidden");
    };
    await forbidden(call("GET", "/v1/admin/events", { token: server.key }));
    await forbidden(call("GET", "/v1/server/players/p1/inventory", { token: op.key }));
    await forbidden(call("GET", "/v1/admin/events", { token: await playerToken("p1") }));
    expect((await call("GET", "/v1/server/players/p1/inventory")).status).toBe(401); // the bootstrap admin token
    expect((await call("GET", "/v1/server/players/p1/inventory", { token: await playerToken("p1") })).status).toBe(401);
    expect((await call("GET", "/v1/events/active", { token: server.key })).status).toBe(401);
  });

  it("the calendar feed token stays read-only and calendar-only", async () => {
    const feed = await call("GET", "/v1/admin/calendar?token=test-calendar-feed-token", { token: null });
    expect(feed.status).toBe(200);
    expect(feed.headers.get("content-type")).toMatch(/text\/calendar/);
    expect((await call("GET", "/v1/admin/events?token=test-calendar-feed-token", { token: null })).status).toBe(401);
  });
});
