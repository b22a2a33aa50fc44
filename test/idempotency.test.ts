// Idempotency-Key on admin creates when something fails: a key is spent once its request may have changed anything.
// Faults are real: a D1 trigger makes one statement of the create fail, as a D1 outage mid-request would.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HOUR, call, createTemplate, inMs, templateBody } from "./helpers";

const eventBody = (templateId: string) => ({ templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) });
const countEvents = async (templateId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM instances WHERE template_id = ?").bind(templateId).first<{ n: number }>())!.n;
const hashOf = async (body: unknown) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(body))))].map((b) => b.toString(16).padStart(2, "0")).join("");
/** A reservation as another request (of the bootstrap admin) leaves it. */
const holdRow = (key: string, route: string, bodyHash: string, createdAt: number, status: number | null = null, response: string | null = null) =>
  env.DB.prepare("INSERT INTO idempotency_keys (scope, key, route, body_hash, status, response, created_at) VALUES ('bootstrap', ?, ?, ?, ?, ?, ?)").bind(
    key,
    route,
    bodyHash,
    status,
    response,
    createdAt,
  );

/** Runs `fn` while every `sql` statement matching the trigger's condition fails. */
async function withFault<T>(name: string, trigger: string, fn: () => Promise<T>): Promise<T> {
  await env.DB.prepare(`CREATE TRIGGER ${name} ${trigger} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`).run();
  try {
    return await fn();
  } finally {
    await env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
  }
}

describe("Idempotency-Key when a create fails", () => {
  it("an event whose template-usage counter cannot be written is still created once and answered 201", async () => {
    const t = await createTemplate();
    const headers = { "Idempotency-Key": `usage-${t.templateId}` };
    const body = eventBody(t.templateId);
    const first = await withFault("usage_fault", `BEFORE UPDATE ON templates WHEN NEW.template_id = '${t.templateId}'`, () =>
      call("POST", "/v1/admin/events", { body, headers }),
    );
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    const again = await call("POST", "/v1/admin/events", { body, headers });
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.eventId).toBe(first.json.eventId);
    expect(await countEvents(t.templateId)).toBe(1);
  });

  it("a 5xx keeps the key: retries answer 409 idempotency_outcome_unknown and run nothing, even once the fault is gone", async () => {
    const body = templateBody();
    const headers = { "Idempotency-Key": `tpl-5xx-${body.templateId}` };
    const failed = await withFault("tpl_fault", `BEFORE INSERT ON templates WHEN NEW.template_id = '${body.templateId}'`, async () => {
      const res = await call("POST", "/v1/admin/templates", { body, headers });
      expect(res.status).toBe(500);
      const retry = await call("POST", "/v1/admin/templates", { body, headers });
      expect(retry.status).toBe(409);
      expect(retry.json.error.code).toBe("idempotency_outcome_unknown");
      return res;
    });
    expect(failed.json.error.code).toBe("internal_error");
    const later = await call("POST", "/v1/admin/templates", { body, headers });
    expect(later.status).toBe(409);
    expect(later.json.error).toMatchObject({ code: "idempotency_outcome_unknown", details: { firstUsedAt: expect.any(String) } });
    expect((await call("GET", `/v1/admin/templates/${body.templateId}`)).status).toBe(404);
    // A new key is a new request.
    expect((await call("POST", "/v1/admin/templates", { body, headers: { "Idempotency-Key": `tpl-5xx-new-${body.templateId}` } })).status).toBe(201);
  });

  it("a reservation silent for over 60 s is not taken over: its create may have happened", async () => {
    const t = await createTemplate();
    const body = eventBody(t.templateId);
    const key = `stale-${t.templateId}`;
    // As left by a request that created the event and died before recording its answer.
    await holdRow(key, "POST /v1/admin/events", await hashOf(body), Date.now() - 61_000).run();
    const res = await call("POST", "/v1/admin/events", { body, headers: { "Idempotency-Key": key } });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("idempotency_outcome_unknown");
    expect(await countEvents(t.templateId)).toBe(0);
  });

  it("a waiter never replays another body's answer: when the key changes hands while it waits, it gets 422", async () => {
    const t = await createTemplate();
    const body = eventBody(t.templateId);
    const key = `handover-${t.templateId}`;
    await holdRow(key, "POST /v1/admin/events", await hashOf(body), Date.now()).run();
    const waiting = call("POST", "/v1/admin/events", { body, headers: { "Idempotency-Key": key } });
    await new Promise((r) => setTimeout(r, 300));
    // The first holder was refused and released the key; a request with another body took it and succeeded. One batch,
    // so the waiter never sees the key free.
    const other = { ...body, endTime: inMs(3 * HOUR) };
    await env.DB.batch([
      env.DB.prepare("DELETE FROM idempotency_keys WHERE scope = 'bootstrap' AND key = ?").bind(key),
      holdRow(key, "POST /v1/admin/events", await hashOf(other), Date.now(), 201, JSON.stringify({ eventId: "someone-elses" })),
    ]);
    const res = await waiting;
    expect(res.status, JSON.stringify(res.json)).toBe(422);
    expect(res.json.error.code).toBe("idempotency_key_reused");
    expect(await countEvents(t.templateId)).toBe(0);
  });
});
