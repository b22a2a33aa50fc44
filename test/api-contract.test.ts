// Small API contract promises through the real Worker: templates save back as read, 409s list the operator actions
// as the routes spell them, and the inventory ledger speaks ISO 8601 times.
import { afterEach, describe, expect, it } from "vitest";
import { HOUR, call, createEvent, createTemplate, inMs } from "./helpers";
import { REWARD_MILESTONES, claim, clearAlarms, earn, rewardEvent } from "./rewards-helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("templates", () => {
  it("a template read with GET is accepted back by PUT once the read-only fields are removed", async () => {
    const t = await createTemplate();
    const read = (await call("GET", `/v1/admin/templates/${t.templateId}`)).json;
    const { version: _v, usageCount: _u, lastUsed: _l, createdAt: _c, updatedAt: _up, performance: _p, ...writable } = read;
    expect(writable.templateId).toBe(t.templateId);
    const put = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: { ...writable, name: "Saved back" } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ templateId: t.templateId, version: 2, name: "Saved back" });
  });

  it("a different id in the body is a 422 naming templateId, and changes nothing", async () => {
    const t = await createTemplate();
    const other = await createTemplate();
    const { version: _v, usageCount: _u, lastUsed: _l, createdAt: _c, updatedAt: _up, performance: _p, ...writable } = t;
    const res = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: { ...writable, templateId: other.templateId, name: "Hijack" } });
    expect(res.status).toBe(422);
    expect(res.json.error.details.fields).toEqual([{ path: "templateId", message: expect.stringContaining(t.templateId) }]);
    expect((await call("GET", `/v1/admin/templates/${t.templateId}`)).json).toMatchObject({ version: 1, name: t.name });
    expect((await call("GET", `/v1/admin/templates/${other.templateId}`)).json).toMatchObject({ version: 1, name: other.name });
  });
});

describe("illegal transitions", () => {
  it("details.allowed lists only the operator actions, spelled as the routes spell them", async () => {
    const t = await createTemplate();
    const scheduled = await createEvent(t.templateId);
    const early = await call("POST", `/v1/admin/events/${scheduled.eventId}/end-now`);
    expect(early.status).toBe(409);
    expect(early.json.error.details).toEqual({ state: "scheduled", allowed: ["cancel", "reschedule"] });

    const running = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR) });
    expect((await call("POST", `/v1/admin/events/${running.eventId}/pause`)).status).toBe(200);
    const again = await call("POST", `/v1/admin/events/${running.eventId}/pause`);
    expect(again.json.error.details).toEqual({ state: "paused", allowed: ["resume", "end-now", "reschedule"] });

    expect((await call("POST", `/v1/admin/events/${running.eventId}/end-now`)).status).toBe(200);
    const moved = await call("PATCH", `/v1/admin/events/${running.eventId}`, { body: { endTime: inMs(3 * HOUR) } });
    expect(moved.status).toBe(409);
    expect(moved.json.error).toMatchObject({ code: "illegal_transition", details: { state: "expired", allowed: [] } });
  });
});

describe("inventory ledger", () => {
  const cleanup: Array<{ eventId: string; shardCount: number }> = [];
  afterEach(async () => {
    for (const e of cleanup.splice(0)) await clearAlarms(e.eventId, e.shardCount);
  });

  it("entries carry `at` as ISO 8601; the cursor stays a number", async () => {
    const e = await rewardEvent();
    cleanup.push(e);
    const token = await earn(e.eventId, "iso-ledger", 5);
    const before = Date.now();
    expect((await claim(e.eventId, token, 0, "iso-0")).status).toBe(201);
    const page = await call("GET", "/v1/inventory?since=0", { token });
    expect(page.status).toBe(200);
    expect(page.json.entries).toHaveLength(1);
    const [entry] = page.json.entries;
    expect(entry).toMatchObject({ eventId: e.eventId, milestoneIndex: 0, rewards: REWARD_MILESTONES[0].rewards });
    expect(entry.at).toMatch(ISO);
    expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(typeof entry.cursor).toBe("number");
    expect(page.json.nextCursor).toBe(entry.cursor);
  });
});
