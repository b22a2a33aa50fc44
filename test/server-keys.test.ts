// Game servers with server keys through the real Worker: scopes, the inventory ledger read and acknowledgement,
// server-reported progress on the player's own shard; and Idempotency-Key on admin creates.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HOUR, apiKey, call, createEvent, createTemplate, inMs, playerToken, templateBody } from "./helpers";
import { claim, earn, liveRewardEvents } from "./rewards-helpers";

const live = liveRewardEvents();

describe("server keys", () => {
  it("each route needs its scope: 403 naming it otherwise, and unknown server paths are 404", async () => {
    const reader = await apiKey({ name: "reader", scopes: ["inventory:read"] });
    expect((await call("GET", "/v1/server/players/p-scope/inventory", { token: reader.key })).status).toBe(200);
    for (const [method, path, body, scope] of [
      ["POST", "/v1/server/players/p-scope/inventory/ack", { upTo: 1 }, "inventory:ack"],
      ["POST", "/v1/server/events/evt_0123456789abcdef01234567/players/p-scope/progress", { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] }, "progress:write"],
    ] as const) {
      const res = await call(method, path, { token: reader.key, body });
      expect(res.status).toBe(403);
      expect(res.json.error).toMatchObject({ code: "forbidden", details: { required: scope, scopes: ["inventory:read"] } });
    }
    const missing = await call("GET", "/v1/server/nothing-here", { token: reader.key });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
    expect((await call("GET", "/v1/server/players/p-scope/inventory", { token: null })).status).toBe(401);
  });

  it("a revoked server key stops working at once", async () => {
    const gs = await apiKey({ name: "gs-revoked", scopes: ["inventory:read"] });
    expect((await call("GET", "/v1/server/players/p1/inventory", { token: gs.key })).status).toBe(200);
    expect((await call("DELETE", `/v1/admin/keys/${gs.keyId}`)).status).toBe(200);
    expect((await call("GET", "/v1/server/players/p1/inventory", { token: gs.key })).status).toBe(401);
  });

  it("reading the ledger never frees a slot; the server's acknowledgement does, and never moves back", async () => {
    const e = await live();
    const token = await earn(e.eventId, "srv-ledger", 10);
    expect((await claim(e.eventId, token, 0, "s0")).status).toBe(201);
    expect((await claim(e.eventId, token, 1, "s1")).status).toBe(201);
    const gs = await apiKey({ name: "inventory-sync", scopes: ["inventory:read", "inventory:ack"] });
    const page = await call("GET", "/v1/server/players/srv-ledger/inventory?since=0&limit=1", { token: gs.key });
    expect(page.status).toBe(200);
    expect(page.json).toMatchObject({ hasMore: true, acknowledged: 0, slotsUsed: 3, capacity: 5 });
    expect(page.json.entries).toHaveLength(1);
    const all = await call("GET", `/v1/server/players/srv-ledger/inventory?since=0`, { token: gs.key });
    const last = all.json.nextCursor;
    // The player reads too, with since: still nothing acknowledged.
    expect((await call("GET", `/v1/inventory?since=${last}`, { token })).json).toMatchObject({ slotsUsed: 3, acknowledged: 0, entries: [] });
    const ack = await call("POST", "/v1/server/players/srv-ledger/inventory/ack", { token: gs.key, body: { upTo: page.json.nextCursor } });
    expect(ack.json).toEqual({ acknowledged: page.json.nextCursor, slotsUsed: 2, capacity: 5 });
    const back = await call("POST", "/v1/server/players/srv-ledger/inventory/ack", { token: gs.key, body: { upTo: 0 } });
    expect(back.json.acknowledged).toBe(page.json.nextCursor);
    const past = await call("POST", "/v1/server/players/srv-ledger/inventory/ack", { token: gs.key, body: { upTo: last + 1000 } });
    expect(past.json).toEqual({ acknowledged: last, slotsUsed: 0, capacity: 5 });
  });

  it("bad input is a 4xx JSON error", async () => {
    const gs = await apiKey({ name: "gs-bad", scopes: ["inventory:read", "inventory:ack", "progress:write"] });
    const cases = [
      ["GET", "/v1/server/players/p1/inventory?since=-1", undefined, 400],
      ["GET", "/v1/server/players/p1/inventory?limit=9999", undefined, 400],
      ["GET", "/v1/server/players/p1/inventory?bogus=1", undefined, 400],
      ["GET", `/v1/server/players/${"x".repeat(65)}/inventory`, undefined, 400],
      ["POST", "/v1/server/players/p1/inventory/ack", { upTo: -1 }, 422],
      ["POST", "/v1/server/players/p1/inventory/ack", { upTo: "5" }, 422],
      ["POST", "/v1/server/players/p1/inventory/ack", {}, 422],
      ["POST", "/v1/server/events/evt_0123456789abcdef01234567/players/p1/progress", { updates: [] }, 422],
      ["POST", "/v1/server/events/evt_0123456789abcdef01234567/players/p1/progress", { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }], level: -2 }, 422],
      ["POST", "/v1/server/events/evt_0123456789abcdef01234567/players/p1/progress", { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] }, 404],
      ["POST", "/v1/server/events/not-an-event/players/p1/progress", { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] }, 404],
    ] as const;
    for (const [method, path, body, status] of cases) {
      const res = await call(method, path, { token: gs.key, body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json.error.code.length).toBeGreaterThan(0);
    }
    const raw = await call("POST", "/v1/server/players/p1/inventory/ack", { token: gs.key, raw: "{", headers: { "Content-Type": "application/json" } });
    expect(raw.status).toBe(400);
    expect(raw.json.error.code).toBe("invalid_json");
  });

  it("server-reported progress lands on the player's own record, under the same rules and limits", async () => {
    const e = await live();
    const gs = await apiKey({ name: "match-server", scopes: ["progress:write"] });
    const path = `/v1/server/events/${e.eventId}/players/srv-prog/progress`;
    const res = await call("POST", path, { token: gs.key, body: { updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] } });
    expect(res.status).toBe(200);
    expect(res.json.applied).toHaveLength(1);
    expect(res.json.newMilestones.map((m: any) => m.index)).toEqual([0]);
    // The player sees it as their own progress, and continues the same seq series.
    const token = await playerToken("srv-prog");
    const mine = await call("GET", `/v1/events/${e.eventId}/progress`, { token });
    expect(mine.json).toMatchObject({ completion: 0.5, unlockedMilestones: [0], objectives: { pts: { currentValue: 5 } } });
    const dup = await call("POST", path, { token: gs.key, body: { updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] } });
    expect(dup.json.duplicates).toEqual([1]);
    const implausible = await call("POST", path, { token: gs.key, body: { updates: [{ objectiveId: "pts", amount: -1, seq: 2 }] } });
    expect(implausible.status).toBe(422);
    expect(implausible.json.error.code).toBe("implausible_progress");
  });

  it("eligibility rules use the level and clan the server reports", async () => {
    const t = await createTemplate({
      objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
      minimumPlayerLevel: 10,
    });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR) });
    live.track(e);
    const gs = await apiKey({ name: "lvl-server", scopes: ["progress:write"] });
    const path = `/v1/server/events/${e.eventId}/players/srv-lvl/progress`;
    const low = await call("POST", path, { token: gs.key, body: { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }] } });
    expect(low.status).toBe(403);
    expect(low.json.error.code).toBe("not_eligible");
    const ok = await call("POST", path, { token: gs.key, body: { updates: [{ objectiveId: "pts", amount: 1, seq: 1 }], level: 12 } });
    expect(ok.status).toBe(200);
  });
});

describe("Idempotency-Key on admin creates", () => {
  const eventBody = (templateId: string) => ({ templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) });
  const countEvents = async (templateId: string) =>
    (await env.DB.prepare("SELECT COUNT(*) AS n FROM instances WHERE template_id = ?").bind(templateId).first<{ n: number }>())!.n;

  it("same key and body replays the first answer; a different body is 422; keys belong to one operator key", async () => {
    const body = templateBody();
    const headers = { "Idempotency-Key": `tpl-${body.templateId}` };
    const first = await call("POST", "/v1/admin/templates", { body, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const again = await call("POST", "/v1/admin/templates", { body, headers });
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    const changed = await call("POST", "/v1/admin/templates", { body: { ...body, name: "Other" }, headers });
    expect(changed.status).toBe(422);
    expect(changed.json.error.code).toBe("idempotency_key_reused");
    // Another operator's same key is their own: it creates (here: refused as a duplicate id, by the route itself).
    const other = await apiKey({ name: "other-admin", role: "admin" });
    const theirs = await call("POST", "/v1/admin/templates", { token: other.key, body: templateBody(), headers });
    expect(theirs.status).toBe(201);
    expect((await call("POST", "/v1/admin/templates", { body, headers: { "Idempotency-Key": "x".repeat(201) } })).status).toBe(400);
  });

  it("two concurrent duplicates create one event, and both get its answer", async () => {
    const t = await createTemplate();
    const op = await apiKey({ name: "racer", role: "operator" });
    const body = eventBody(t.templateId);
    const headers = { "Idempotency-Key": `race-${t.templateId}` };
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => call("POST", "/v1/admin/events", { token: op.key, body, headers })));
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(new Set([a.json.eventId, b.json.eventId, c.json.eventId]).size).toBe(1);
    expect([a, b, c].filter((r) => r.headers.get("Idempotent-Replayed") === "true")).toHaveLength(2);
    expect(await countEvents(t.templateId)).toBe(1);
  });

  it("a refused create releases its key: the corrected request goes through with it", async () => {
    const t = await createTemplate();
    const headers = { "Idempotency-Key": `fix-${t.templateId}` };
    const bad = await call("POST", "/v1/admin/events", { body: { ...eventBody(t.templateId), endTime: inMs(-HOUR) }, headers });
    expect(bad.status).toBe(422);
    expect(await countEvents(t.templateId)).toBe(0);
    const good = await call("POST", "/v1/admin/events", { body: eventBody(t.templateId), headers });
    expect(good.status).toBe(201);
    expect(await countEvents(t.templateId)).toBe(1);
  });
});
