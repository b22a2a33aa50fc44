// What every answer carries, through the real Worker: CORS for the origins in CORS_ORIGINS (vitest.config.ts sets two,
// and no ADMIN_CORS_ORIGINS), hono/secure-headers, body limits that refuse before buffering, and conditional GETs.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY, HOUR, call, createEvent, createTemplate, playerToken, templateBody } from "./helpers";

const GAME = "https://game.example";
const BASE = "http://live-events.test";

function preflight(path: string, origin: string, method = "GET", headers = "authorization") {
  return exports.default.fetch(
    new Request(`${BASE}${path}`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers } }),
  );
}
const list = (h: string | null) => (h ?? "").split(",").map((v) => v.trim().toLowerCase());

describe("CORS", () => {
  it("a preflight on a player route from an allowed origin is 204 with the Access-Control headers, before any auth", async () => {
    const res = await preflight("/v1/events/evt_0000000000000000000000aa/milestones/0/claim", GAME, "POST", "authorization,idempotency-key,content-type");
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(GAME);
    expect(list(res.headers.get("Access-Control-Allow-Headers"))).toEqual(expect.arrayContaining(["authorization", "content-type", "idempotency-key"]));
    expect(list(res.headers.get("Access-Control-Allow-Methods"))).toEqual(expect.arrayContaining(["get", "post", "put", "patch", "delete"]));
    expect(list(res.headers.get("Vary"))).toContain("origin");
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
    // The other configured origin too, echoed as itself.
    expect((await preflight("/v1/events/active", "https://beta.game.example")).headers.get("Access-Control-Allow-Origin")).toBe("https://beta.game.example");
  });

  it("an origin not in CORS_ORIGINS gets no CORS header at all: its preflight meets the guard (401)", async () => {
    const res = await preflight("/v1/events/active", "https://evil.example");
    expect(res.status).toBe(401);
    expect([...res.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    // Still marked as depending on Origin, so no shared cache hands this CORS-less answer to an allowed origin.
    expect(list(res.headers.get("Vary"))).toContain("origin");
  });

  it("admin routes get no CORS without ADMIN_CORS_ORIGINS, even from an origin allowed on player routes", async () => {
    const res = await preflight("/v1/admin/templates", GAME, "POST");
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("real answers to an allowed origin, errors included, carry the origin and expose ETag", async () => {
    const token = await playerToken("cors-reader");
    const ok = await call("GET", "/v1/calendar", { token, headers: { Origin: GAME } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(GAME);
    expect(list(ok.headers.get("Access-Control-Expose-Headers"))).toEqual(expect.arrayContaining(["etag", "retry-after", "idempotent-replayed"]));
    // A browser can only read an error it is allowed to see.
    const denied = await call("GET", "/v1/calendar", { token: "not-a-jwt", headers: { Origin: GAME } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe(GAME);
    expect(denied.json.error.code).toBe("unauthorized");
  });
});

describe("secure headers", () => {
  it("are on every answer: success, error and 404 alike", async () => {
    for (const res of [await call("GET", "/health", { token: null }), await call("GET", "/v1/calendar", { token: null }), await call("GET", "/nope")]) {
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
      expect(res.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });
});

describe("body limits", () => {
  it("a body declared larger than the limit is refused from Content-Length, before any of it is read", async () => {
    const { readable, writable } = new FixedLengthStream(300 * 1024);
    const writer = writable.getWriter();
    writer.write(new TextEncoder().encode('{"templateId":')).catch(() => {});
    const res = await exports.default.fetch(
      new Request(`${BASE}/v1/admin/templates`, { method: "POST", headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" }, body: readable }),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large", details: { maxBytes: 256 * 1024 } } });
    writer.abort().catch(() => {});
  });

  it("a body without a length is counted while streaming and refused once past the limit, not read to its end", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let pulled = 0;
    // Endless: only a reader that stops at the limit ever gets an answer out of this.
    const endless = new ReadableStream({
      pull(c) {
        pulled++;
        c.enqueue(pulled === 1 ? new TextEncoder().encode('{"name":"') : chunk);
      },
    });
    const res = await exports.default.fetch(
      new Request(`${BASE}/v1/admin/templates`, {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: endless,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect((await res.json<any>()).error.code).toBe("payload_too_large");
    // 256 KiB is 16 chunks; the stream may run a few ahead of the reader, never far.
    expect(pulled).toBeLessThan(40);
  });

  it("a body under the limit still goes through", async () => {
    const body = templateBody({ description: "x".repeat(4000) });
    expect((await call("POST", "/v1/admin/templates", { body })).status).toBe(201);
  });
});

describe("conditional GETs", () => {
  it("a template answers 304 to its own ETag, and 200 with a new ETag once it changed", async () => {
    const t = await createTemplate();
    const first = await call("GET", `/v1/admin/templates/${t.templateId}`);
    const tag = first.headers.get("ETag");
    expect(tag).toMatch(/^(W\/)?"[^"]+"$/);
    expect(first.headers.get("Cache-Control")).toBe("private, no-cache");
    const same = await call("GET", `/v1/admin/templates/${t.templateId}`, { headers: { "If-None-Match": tag! } });
    expect(same.status).toBe(304);
    expect(same.json).toBeNull();
    expect(same.headers.get("ETag")).toBe(tag);

    const { version: _v, usageCount: _u, lastUsed: _l, createdAt: _c, updatedAt: _up, performance: _p, ...writable } = first.json;
    expect((await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: { ...writable, name: "Renamed" } })).status).toBe(200);
    const changed = await call("GET", `/v1/admin/templates/${t.templateId}`, { headers: { "If-None-Match": tag! } });
    expect(changed.status).toBe(200);
    expect(changed.json.name).toBe("Renamed");
    expect(changed.headers.get("ETag")).not.toBe(tag);
  });

  it("event views, ops' and players', answer 304 while the event is unchanged", async () => {
    // An ended event: its countdowns are 0, so its view is the same from one second to the next.
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: "now", endTime: new Date(Date.now() + 2 * HOUR).toISOString() });
    expect((await call("POST", `/v1/admin/events/${e.eventId}/end-now`)).status).toBe(200);
    const token = await playerToken("etag-player");
    for (const [path, tok] of [[`/v1/admin/events/${e.eventId}`, undefined], [`/v1/events/${e.eventId}`, token]] as const) {
      const first = await call("GET", path, { token: tok });
      expect(first.status, path).toBe(200);
      expect(first.headers.get("Cache-Control"), path).toBe("private, no-cache");
      const again = await call("GET", path, { token: tok, headers: { "If-None-Match": first.headers.get("ETag")! } });
      expect(again.status, path).toBe(304);
    }
    // A browser game revalidating cross-origin must be allowed to read the 304 too.
    const first = await call("GET", `/v1/events/${e.eventId}`, { token, headers: { Origin: GAME } });
    const again = await call("GET", `/v1/events/${e.eventId}`, { token, headers: { Origin: GAME, "If-None-Match": first.headers.get("ETag")! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("Access-Control-Allow-Origin")).toBe(GAME);
  });

  it("the calendar, JSON and ICS, answers 304 until an event in its range changes", async () => {
    const t = await createTemplate();
    // A window of its own, weeks ahead, so no other test's event shares the range.
    const start = Date.now() + 20 * DAY + Math.floor(Math.random() * 100) * HOUR;
    const e = await createEvent(t.templateId, { startTime: new Date(start).toISOString(), endTime: new Date(start + HOUR).toISOString() });
    const range = `from=${new Date(start - 60_000).toISOString()}&to=${new Date(start + 2 * HOUR).toISOString()}`;
    for (const format of ["json", "ics"]) {
      const path = `/v1/admin/calendar?${range}&format=${format}`;
      const first = await call("GET", path);
      expect(first.status, format).toBe(200);
      const tag = first.headers.get("ETag")!;
      expect((await call("GET", path, { headers: { "If-None-Match": tag } })).status, format).toBe(304);
      // The feed token reads the same feed.
      if (format === "ics") expect((await call("GET", `${path}&token=test-calendar-feed-token`, { token: null, headers: { "If-None-Match": tag } })).status).toBe(304);
    }
    const before = await call("GET", `/v1/admin/calendar?${range}&format=ics`);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "etag test" } })).status).toBe(200);
    const after = await call("GET", `/v1/admin/calendar?${range}&format=ics`, { headers: { "If-None-Match": before.headers.get("ETag")! } });
    expect(after.status).toBe(200);
    expect(after.headers.get("ETag")).not.toBe(before.headers.get("ETag"));
  });
});
