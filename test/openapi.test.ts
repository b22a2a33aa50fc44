// GET /openapi.json through the real Worker: an OpenAPI 3.1 document that describes every route the app answers (a
// route added without createRoute fails here), whose references all resolve, and whose response schemas hold for real
// answers. And GET /docs, the page that reads it.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { app } from "../src/app";
import * as views from "../src/domain/views";
import { ADMIN, HOUR, call, createEvent, createTemplate, inMs, playerToken } from "./helpers";
import { claim, clearAlarms, earn, rewardEvent } from "./rewards-helpers";

type Operation = { summary?: string; operationId?: string; security?: Record<string, string[]>[]; parameters?: { name: string; in: string }[]; responses: Record<string, any> };
type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any> };
};

/** Served for people and tools, not part of the API they describe. */
const META_ROUTES = new Set(["GET /openapi.json", "GET /docs"]);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let doc: Doc;
beforeAll(async () => {
  const res = await call("GET", "/openapi.json", { token: null });
  expect(res.status).toBe(200);
  doc = res.json;
});

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with info, paths and the four security schemes", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["calendarFeedToken", "operatorBearer", "playerBearer", "serverBearer"]);
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path, path).toMatch(/^\//);
      for (const method of Object.keys(item)) expect(METHODS, `${method} ${path}`).toContain(method);
    }
  });

  it("describes every route the Worker answers, and nothing it does not", () => {
    const routes = new Set(
      app.routes
        // `use` middleware and the catch-all 404s are registered as ALL; every real route has a method.
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`)
        .filter((r) => !META_ROUTES.has(r)),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
    expect([...routes].filter((r) => !documented.has(r)), "routes without a description").toEqual([]);
    expect([...documented].filter((r) => !routes.has(r)), "descriptions without a route").toEqual([]);
    // The live socket and the bench echo are routes too.
    expect(documented).toContain("GET /v1/events/{eventId}/live");
    expect(documented).toContain("GET /v1/_bench/echo");
    expect(routes.size).toBeGreaterThan(30);
  });

  it("gives every operation a summary, a success answer, path parameters and known security schemes", () => {
    const seenIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).toBeTruthy();
        // Generated clients name their methods after it: every operation has one, and no two share one.
        expect(op.operationId, `${where} has no operationId (src/http/operation-ids.ts)`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(seenIds.has(String(op.operationId)), `${where}: operationId ${op.operationId} is used twice`).toBe(false);
        seenIds.add(String(op.operationId));
        expect(Object.keys(op.responses).some((s) => /^(2\d\d|101)$/.test(s)), `${where} has no success response`).toBe(true);
        const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared.sort(), where).toEqual([...inPath].sort());
        for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) expect(doc.components.securitySchemes, where).toHaveProperty(name);
        // Only /health, the bench routes (off unless ENABLE_BENCH_ROUTES=true) and the receipt keys are open to anyone.
        if (!["/health", "/v1/_bench/echo", "/v1/_bench/leaderboard", "/.well-known/jwks.json"].includes(path)) expect(op.security?.length, `${where} names no security`).toBeGreaterThan(0);
      }
    }
  });

  it("answers every 4xx with the shared Error component", () => {
    expect(doc.components.schemas.Error.properties.error.required.sort()).toEqual(["code", "message"]);
    let errorResponses = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, res] of Object.entries(op.responses)) {
          if (!/^4\d\d$/.test(status)) continue;
          errorResponses++;
          expect(res.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
        }
      }
    }
    expect(errorResponses).toBeGreaterThan(50);
  });

  it("resolves every $ref, and carries the live channel's frames as discriminated unions", () => {
    const refs = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) k === "$ref" ? refs.add(x as string) : walk(x);
      }
    };
    walk(doc);
    for (const ref of refs) {
      const [, kind, name] = ref.match(/^#\/components\/(\w+)\/(.+)$/) ?? [];
      expect((doc.components as Record<string, Record<string, unknown>>)[kind]?.[name], ref).toBeTruthy();
    }
    for (const name of ["LiveClientFrame", "LiveServerFrame"]) {
      const union = doc.components.schemas[name];
      const variants = (union.oneOf ?? union.anyOf) as any[];
      expect(variants.length, name).toBeGreaterThanOrEqual(2);
      for (const v of variants) expect(v.properties.type.const ?? v.properties.type.enum?.[0], name).toEqual(expect.any(String));
    }
    expect(doc.components.schemas.LiveServerFrame.oneOf.map((v: any) => v.properties.type.const ?? v.properties.type.enum[0])).toContain("event_state");
  });

  it("needs no credentials, and is the same document for every caller", async () => {
    const again = await call("GET", "/openapi.json", { token: await playerToken("reader") });
    expect(again.json.paths).toEqual(doc.paths);
  });
});

describe("GET /docs", () => {
  it("answers an HTML page that loads /openapi.json, with a CSP that lets it render", async () => {
    const res = await call("GET", "/docs", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.json).toContain("/openapi.json");
    expect(res.headers.get("content-security-policy")).toContain("https://cdn.jsdelivr.net");
  });
});

/** The declared schema holds for the real answer, and the answer has no top-level field the schema does not name. */
function conforms(schema: z.ZodObject, value: unknown, where: string) {
  const parsed = schema.safeParse(value);
  expect(parsed.success, `${where}: ${parsed.success ? "" : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
  expect(Object.keys(value as object).filter((k) => !(k in schema.shape)), `${where}: undeclared fields`).toEqual([]);
}

describe("real answers match their declared schemas", () => {
  const cleanup: Array<{ eventId: string; shardCount: number }> = [];
  afterEach(async () => {
    for (const e of cleanup.splice(0)) await clearAlarms(e.eventId, e.shardCount);
  });

  it("templates, events, calendars and settings, as ops read them", async () => {
    const t = await createTemplate();
    conforms(views.Template, t, "POST /v1/admin/templates");
    conforms(views.TemplatePage, (await call("GET", "/v1/admin/templates?limit=2")).json, "GET /v1/admin/templates");
    const e = await createEvent(t.templateId);
    conforms(views.EventDetail, e, "POST /v1/admin/events");
    conforms(views.EventDetail, (await call("GET", `/v1/admin/events/${e.eventId}`)).json, "GET /v1/admin/events/{id}");
    conforms(views.EventPage, (await call("GET", "/v1/admin/events?limit=3")).json, "GET /v1/admin/events");
    conforms(views.EventDetail, (await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "test" } })).json, "cancel");
    conforms(views.OpsCalendar, (await call("GET", "/v1/admin/calendar?format=json")).json, "GET /v1/admin/calendar");
    conforms(views.ScheduleSettings, (await call("GET", "/v1/admin/settings")).json, "GET /v1/admin/settings");
    const check = await call("POST", "/v1/admin/schedule/validate", { body: { templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) } });
    conforms(views.ScheduleCheck, check.json, "POST /v1/admin/schedule/validate");
  });

  it("events, progress, rewards and claims, as players read them", async () => {
    const e = await rewardEvent();
    cleanup.push(e);
    const token = await earn(e.eventId, "schema-player", 10);
    conforms(views.PublicEvent, (await call("GET", `/v1/events/${e.eventId}`, { token })).json, "GET /v1/events/{id}");
    conforms(views.PublicEventList, (await call("GET", "/v1/events/active", { token })).json, "GET /v1/events/active");
    conforms(views.PlayerCalendar, (await call("GET", "/v1/calendar", { token })).json, "GET /v1/calendar");
    conforms(views.Countdown, (await call("GET", `/v1/events/${e.eventId}/countdown`, { token })).json, "countdown");
    conforms(views.PlayerProgress, (await call("GET", `/v1/events/${e.eventId}/progress`, { token })).json, "GET progress");
    const ack = await call("POST", `/v1/events/${e.eventId}/progress`, { token, body: { updates: [{ objectiveId: "pts", amount: 1, seq: 2 }] } });
    conforms(views.ProgressAck, ack.json, "POST progress");
    conforms(views.MilestoneRewards, (await call("GET", `/v1/events/${e.eventId}/rewards`, { token })).json, "GET rewards");
    const claimed = await claim(e.eventId, token, 0, "schema-claim");
    expect(claimed.status).toBe(201);
    conforms(views.ClaimResult, claimed.json, "claim");
    conforms(views.InventoryPage, (await call("GET", "/v1/inventory", { token })).json, "GET /v1/inventory");
    conforms(views.Inbox, (await call("GET", "/v1/inbox", { token })).json, "GET /v1/inbox");
    conforms(views.NotificationFeed, (await call("GET", "/v1/notifications", { token })).json, "GET /v1/notifications");
    conforms(views.ProgressSummary, (await call("GET", `/v1/admin/events/${e.eventId}/progress/summary`, { token: ADMIN })).json, "summary");
    conforms(views.PlayerProgress, (await call("GET", `/v1/admin/events/${e.eventId}/players/schema-player/progress`, { token: ADMIN })).json, "ops progress");
  });
});
