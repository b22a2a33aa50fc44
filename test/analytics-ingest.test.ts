// Telemetry ingest through the real Worker and D1: scoped server keys and the admin token, batches larger than one
// D1 statement's chunk, idempotency per record id, per-record validation errors, and the retention purge run by the
// real cron handler.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { DAY, apiKey, call, playerToken } from "./helpers";

let n = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${(n++).toString(36)}`;
const session = (over: Record<string, unknown> = {}) => ({ id: uid("s"), playerId: "p-ingest", start: new Date().toISOString(), durationSec: 600, platform: "ios", ...over });
const count = async (table: string, where: string, ...binds: unknown[]) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).bind(...binds).first<{ n: number }>())!.n;

describe("telemetry ingest", () => {
  it("stores sessions from a server key with analytics:write; a resent batch inserts nothing twice", async () => {
    const gs = await apiKey({ name: "telemetry-gs", scopes: ["analytics:write"] });
    const sessions = [session(), session({ platform: "android" }), session({ durationSec: 0 })];
    const first = await call("POST", "/v1/telemetry/sessions", { token: gs.key, body: { sessions } });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ received: 3, inserted: 3, duplicates: 0 });
    const again = await call("POST", "/v1/telemetry/sessions", { token: gs.key, body: { sessions: [...sessions, session()] } });
    expect(again.json).toEqual({ received: 4, inserted: 1, duplicates: 3 });
    const ids = sessions.map((s) => s.id);
    expect(await count("telemetry_sessions", `session_id IN (${ids.map(() => "?").join(",")})`, ...ids)).toBe(3);
    const row = await env.DB.prepare("SELECT start, duration_sec, ends_at, platform FROM telemetry_sessions WHERE session_id = ?").bind(ids[1]).first<Record<string, number | string>>();
    expect(row).toEqual({ start: Date.parse(sessions[1].start), duration_sec: 600, ends_at: Date.parse(sessions[1].start) + 600_000, platform: "android" });
  });

  it("takes a full batch of 500 (three D1 chunks) in one request, and a batch repeating an id stores it once", async () => {
    const sessions = Array.from({ length: 500 }, () => session({ playerId: `p-bulk-${n % 37}` }));
    sessions[499] = { ...sessions[499], id: sessions[0].id };
    const res = await call("POST", "/v1/telemetry/sessions", { body: { sessions } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: 500, inserted: 499, duplicates: 1 });
  });

  it("stores purchases, with and without an event, idempotently (the admin token may send them too)", async () => {
    const purchases = [
      { id: uid("buy"), playerId: "p-buyer", amount: 4.99, currency: "USD", sku: "gems.small", eventId: "evt_0123456789abcdef", at: "2026-01-02T03:04:05Z" },
      { id: uid("buy"), playerId: "p-buyer", amount: 0.99, currency: "USD", sku: "gems.tiny" },
    ];
    const res = await call("POST", "/v1/telemetry/purchases", { body: { purchases } });
    expect(res.json).toEqual({ received: 2, inserted: 2, duplicates: 0 });
    expect((await call("POST", "/v1/telemetry/purchases", { body: { purchases } })).json).toEqual({ received: 2, inserted: 0, duplicates: 2 });
    const rows = await env.DB.prepare("SELECT purchase_id, amount, event_id, at FROM telemetry_purchases WHERE player_id = 'p-buyer' ORDER BY amount DESC").all();
    expect(rows.results[0]).toMatchObject({ amount: 4.99, event_id: "evt_0123456789abcdef", at: Date.parse("2026-01-02T03:04:05Z") });
    expect(rows.results[1]).toMatchObject({ amount: 0.99, event_id: null });
  });

  it("refuses callers without the scope: 401 without a key or with a player token, 403 naming analytics:write", async () => {
    const body = { sessions: [session()] };
    expect((await call("POST", "/v1/telemetry/sessions", { token: null, body })).status).toBe(401);
    const player = await call("POST", "/v1/telemetry/sessions", { token: await playerToken("p-sneaky"), body });
    expect(player.status).toBe(401);
    expect(player.json.error.code).toBe("unauthorized");
    const reader = await apiKey({ name: "telemetry-reader", scopes: ["inventory:read"] });
    const denied = await call("POST", "/v1/telemetry/purchases", { token: reader.key, body: { purchases: [] } });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: "forbidden", details: { required: "analytics:write" } });
    const op = await apiKey({ name: "telemetry-op", role: "admin" });
    expect((await call("POST", "/v1/telemetry/sessions", { token: op.key, body })).status).toBe(403);
    expect((await call("POST", "/v1/telemetry/nothing", { body })).status).toBe(404);
  });

  it("a bad record fails the batch with 422 naming its index and field, and stores nothing", async () => {
    const good = session();
    const res = await call("POST", "/v1/telemetry/sessions", { body: { sessions: [good, session({ durationSec: -5 }), session({ start: "yesterday", platform: "" })] } });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
    const paths = res.json.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["sessions[1].durationSec", "sessions[2].start", "sessions[2].platform"]));
    expect(await count("telemetry_sessions", "session_id = ?", good.id)).toBe(0);

    const buys = await call("POST", "/v1/telemetry/purchases", { body: { purchases: [{ id: "b1", playerId: "p", amount: 1, currency: "US D", sku: "x", eventId: "nope" }] } });
    expect(buys.status).toBe(422);
    expect(buys.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["purchases[0].currency", "purchases[0].eventId"]);

    const tooMany = await call("POST", "/v1/telemetry/sessions", { body: { sessions: Array.from({ length: 501 }, () => session()) } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.error.details.fields[0].path).toBe("sessions");
    expect((await call("POST", "/v1/telemetry/sessions", { body: { sessions: [] } })).status).toBe(422);
    expect((await call("POST", "/v1/telemetry/sessions", { raw: "{not json" })).status).toBe(400);
    expect((await call("POST", "/v1/telemetry/sessions", { body: { sessions: [{ ...session(), extra: 1 }] } })).status).toBe(422);
  });

  it("the hourly cron purges telemetry older than the retention (35 days by default) and keeps the rest", async () => {
    const now = Date.now();
    const old = session({ playerId: "p-retention", start: new Date(now - 36 * DAY).toISOString() });
    const kept = session({ playerId: "p-retention", start: new Date(now - 34 * DAY).toISOString() });
    await call("POST", "/v1/telemetry/sessions", { body: { sessions: [old, kept] } });
    await call("POST", "/v1/telemetry/purchases", {
      body: { purchases: [{ id: uid("old-buy"), playerId: "p-retention", amount: 1, currency: "USD", sku: "x", at: new Date(now - 40 * DAY).toISOString() }] },
    });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "7 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await count("telemetry_sessions", "player_id = 'p-retention'")).toBe(1);
    expect(await count("telemetry_sessions", "session_id = ?", kept.id)).toBe(1);
    expect(await count("telemetry_purchases", "player_id = 'p-retention'")).toBe(0);

    // A shorter retention is a [vars] change.
    const ctx2 = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "7 * * * *" }), { ...env, TELEMETRY_RETENTION_DAYS: "30" } as unknown as Env, ctx2);
    await waitOnExecutionContext(ctx2);
    expect(await count("telemetry_sessions", "player_id = 'p-retention'")).toBe(0);
  });
});
