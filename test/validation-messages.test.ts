// Validation messages through the real Worker: what was expected and what came, over HTTP and the live socket alike.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { connect, type Client } from "./live-helpers";

const fields = (res: { json: any }) => Object.fromEntries(res.json.error.details.fields.map((f: any) => [f.path, f.message]));

describe("validation messages", () => {
  it("a wrong type says what was expected and what came; only an absent field 'is required'", async () => {
    const t = await createTemplate();
    const base = { templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) };

    const forced = await call("POST", "/v1/admin/events", { body: { ...base, force: "yes", reason: "why" } });
    expect(forced.status).toBe(422);
    expect(forced.json.error.message).toBe('force must be a boolean (true or false), got string "yes"');

    const { startTime: _s, ...noStart } = base;
    const missing = await call("POST", "/v1/admin/events", { body: noStart });
    expect(missing.status).toBe(422);
    expect(fields(missing)).toEqual({ startTime: "is required" });

    const numeric = await call("POST", "/v1/admin/events", { body: { ...base, startTime: 1_900_000_000_000 } });
    expect(fields(numeric)).toEqual({ startTime: 'must be "now" or an ISO 8601 date-time with offset, got number 1900000000000' });

    const settings = await call("PUT", "/v1/admin/settings", { body: { maxConcurrent: "5" } });
    expect(fields(settings)).toEqual({ maxConcurrent: 'must be a number, got string "5"' });
  });

  it("a query-string number that is not one says so, not 'got number NaN'", async () => {
    const res = await call("GET", "/v1/admin/events?limit=abc");
    expect(res.status).toBe(400);
    expect(fields(res)).toEqual({ limit: "must be a number (digits)" });
  });

  it("a progress update with a string seq is named as such over HTTP", async () => {
    const res = await call("POST", "/v1/events/evt_0000000000000000000000aa/progress", {
      token: await playerToken("typo"),
      body: { updates: [{ objectiveId: "snowflakes", amount: 1, seq: "x" }] },
    });
    expect(res.status).toBe(422);
    expect(fields(res)).toEqual({ "updates[0].seq": 'must be a number, got string "x"' });
  });

  describe("on the live socket", () => {
    const open: Client[] = [];
    const events: string[] = [];
    afterEach(async () => {
      for (const c of open.splice(0)) if (!c.closed) c.ws.close(1000, "done");
      for (const id of events.splice(0)) await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id)), (_o, s) => s.storage.deleteAlarm());
    });

    it("says the same as HTTP for the same mistake", async () => {
      const t = await createTemplate();
      const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR) });
      events.push(e.eventId);
      const { client } = await connect(e.eventId, await playerToken("socket-typo"));
      open.push(client!);
      client!.send({ type: "progress", id: "s1", updates: [{ objectiveId: "snowflakes", amount: 1, seq: "x" }] });
      const err = await client!.next((f) => f.type === "error" && f.id === "s1");
      expect(err).toMatchObject({ code: "invalid_frame", message: 'updates[0].seq must be a number, got string "x"' });
      client!.send({ type: "progress", id: "s2", updates: [{ objectiveId: "snowflakes", amount: 1 }] });
      expect((await client!.next((f) => f.type === "error" && f.id === "s2")).message).toBe("updates[0].seq is required");
    });
  });
});
