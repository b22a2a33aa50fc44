// What the ops console (public/console, README "Console") needs from the API beyond what ops already had: who the
// key is and what its role may do (GET /v1/admin/whoami), and forced schedules marked on the calendar. The console
// itself, and its hosting (exports.default.fetch does not reach static assets), are driven in a real browser against
// `wrangler dev` by test/scripts/console.test.mjs.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY, apiKey, call, createTemplate, templateBody } from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();
/** A private stretch of the shared calendar (other files use < 500 and 600-900 days ahead). */
const base = Math.floor((Date.now() + 1_200 * DAY) / DAY) * DAY;

describe("GET /v1/admin/whoami", () => {
  it("answers each role with what the policy table lets it do", async () => {
    const viewer = await apiKey({ name: "vera", role: "viewer" });
    const operator = await apiKey({ name: "otto", role: "operator" });
    const admin = await apiKey({ name: "ada", role: "admin" });

    const v = await call("GET", "/v1/admin/whoami", { token: viewer.key });
    expect(v.status).toBe(200);
    expect(v.json).toEqual({
      actor: viewer.actor,
      role: "viewer",
      can: { read: true, schedule: false, transition: false, overrideContent: false, force: false, editTemplates: false, reviewFlags: false, resolveAlerts: false, editSettings: false, manageKeys: false },
    });
    const o = await call("GET", "/v1/admin/whoami", { token: operator.key });
    expect(o.json).toMatchObject({ actor: operator.actor, role: "operator", can: { schedule: true, transition: true, reviewFlags: true, resolveAlerts: true, force: false, editTemplates: false, manageKeys: false } });
    const a = await call("GET", "/v1/admin/whoami", { token: admin.key });
    expect(a.json).toMatchObject({ role: "admin", can: { force: true, editTemplates: true, editSettings: true, manageKeys: true } });
    // The bootstrap token is an admin too, under its own audit name.
    expect((await call("GET", "/v1/admin/whoami")).json).toMatchObject({ actor: "bootstrap", role: "admin" });

    // The answer matches what the guard does: the viewer's pause is refused, the operator's is not (404: no event).
    expect((await call("POST", "/v1/admin/events/evt_nope/pause", { token: viewer.key, body: {} })).status).toBe(403);
    expect((await call("POST", "/v1/admin/events/evt_nope/pause", { token: operator.key, body: {} })).status).not.toBe(403);
  });

  it("refuses a missing or made-up credential with 401 JSON, and a player token with 403", async () => {
    const none = await call("GET", "/v1/admin/whoami", { token: null });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("unauthorized");
    const bogus = await call("GET", "/v1/admin/whoami", { token: "lek_op_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(bogus.status).toBe(401);
  });
});

describe("forced schedules on the ops calendar", () => {
  it("marks an event scheduled with force: true, and only that one", async () => {
    const t = await createTemplate({ type: "crossover", tier: "standard" });
    const window = { templateId: t.templateId, startTime: iso(base + DAY), endTime: iso(base + 2 * DAY) };
    const first = await call("POST", "/v1/admin/events", { body: window });
    const second = await call("POST", "/v1/admin/events", { body: window });
    expect([first.status, second.status]).toEqual([201, 201]);
    const refused = await call("POST", "/v1/admin/events", { body: window });
    expect(refused.status).toBe(409);
    const forced = await call("POST", "/v1/admin/events", { body: { ...window, force: true, reason: "crossover weekend agreed with marketing" } });
    expect(forced.status).toBe(201);

    const cal = await call("GET", `/v1/admin/calendar?from=${iso(base + DAY)}&to=${iso(base + 2 * DAY)}&type=crossover`);
    expect(cal.status).toBe(200);
    const [day] = cal.json.days;
    const byId = Object.fromEntries(day.events.map((e: any) => [e.eventId, e.forced]));
    expect(byId).toEqual({ [first.json.eventId]: false, [second.json.eventId]: false, [forced.json.eventId]: true });
    // Three at once against a same-type limit of 2: the day says which rule it breaks, in the scheduler's words.
    expect(day.concurrency).toBe(3);
    expect(day.conflicts).toHaveLength(1);
    expect(day.conflicts[0]).toMatchObject({ rule: "max_concurrent_same_type", eventIds: [first.json.eventId, second.json.eventId, forced.json.eventId].sort() });
    expect(day.conflicts[0].message).toMatch(/3rd concurrent crossover event \(limit 2 per type\)/);
    // Filtered to another type, the day lists none of them but still breaks the rule.
    const other = await call("GET", `/v1/admin/calendar?from=${iso(base + DAY)}&to=${iso(base + 2 * DAY)}&type=gacha`);
    expect(other.json.days[0]).toMatchObject({ eventCount: 0, events: [] });
    expect(other.json.days[0].conflicts.map((c: any) => c.rule)).toEqual(["max_concurrent_same_type"]);
  });

  it("marks the days between two majors closer than the gap, even when the other major is outside the range", async () => {
    const t = await createTemplate({ type: "seasonal", tier: "major" });
    const a = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: iso(base + 10 * DAY), endTime: iso(base + 11 * DAY) } });
    const b = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: iso(base + 12 * DAY), endTime: iso(base + 13 * DAY), force: true, reason: "launch week" } });
    expect([a.status, b.status]).toEqual([201, 201]);
    // The range stops before the second major starts: the day between them (24 h, under the 48 h gap) is marked.
    const cal = await call("GET", `/v1/admin/calendar?from=${iso(base + 10 * DAY)}&to=${iso(base + 12 * DAY)}`);
    expect(cal.status).toBe(200);
    const [first, between] = cal.json.days;
    expect(first.conflicts).toEqual([]);
    expect(between.conflicts).toHaveLength(1);
    expect(between.conflicts[0]).toMatchObject({ rule: "major_gap", eventIds: [a.json.eventId, b.json.eventId].sort() });
    expect(between.conflicts[0].message).toMatch(/Only 24 h would separate this major event from major event .*major events need at least 48 h between them/);
  });
});

describe("template version history", () => {
  it("keeps every saved version with who saved it, newest first, for the console's history and diffs", async () => {
    const ada = await apiKey({ name: "ada-templates", role: "admin" });
    const created = await createTemplate({ name: "History Cup" });
    const id = created.templateId;
    const { templateId: _id, ...fields } = templateBody();
    const put = (body: Record<string, unknown>) => call("PUT", `/v1/admin/templates/${id}`, { body, token: ada.key });
    expect((await put({ ...fields, name: "History Cup II" })).json.version).toBe(2);
    expect((await put({ ...fields, name: "History Cup III", description: "Now with a description" })).json.version).toBe(3);

    const res = await call("GET", `/v1/admin/templates/${id}/versions`, { token: ada.key });
    expect(res.status).toBe(200);
    expect(res.json.templateId).toBe(id);
    expect(res.json.versions.map((v: any) => [v.version, v.savedBy, v.template.name])).toEqual([
      [3, ada.actor, "History Cup III"],
      [2, ada.actor, "History Cup II"],
      [1, "bootstrap", "History Cup"],
    ]);
    // A version holds the fields as GET shows them, so the console diffs like against like.
    const current = (await call("GET", `/v1/admin/templates/${id}`)).json;
    const newest = res.json.versions[0].template;
    for (const k of ["type", "tier", "name", "description", "objectives", "milestones", "theme", "layout", "requiresLeaderboard", "requiresClan", "minimumPlayerLevel"]) {
      expect(newest[k], k).toEqual(current[k]);
    }
    expect(res.json.versions[0].savedAt).toBe(current.updatedAt);
    expect((await call("GET", `/v1/admin/templates/${id}/versions?limit=1`)).json.versions).toHaveLength(1);

    // A version is what an edit changes: the measured engagement score is not part of it.
    expect(res.json.versions.every((v: any) => !("averageEngagementScore" in v.template))).toBe(true);

    // A refused create (the id is taken) writes no version, even where the current one has no history row to collide
    // with (here removed by hand).
    await env.DB.prepare("DELETE FROM template_versions WHERE template_id = ? AND version = 3").bind(id).run();
    expect((await call("POST", "/v1/admin/templates", { body: templateBody({ templateId: id, name: "Impostor" }) })).status).toBe(409);
    expect((await call("GET", `/v1/admin/templates/${id}/versions`)).json.versions.map((v: any) => v.version)).toEqual([2, 1]);
  });

  it("records a change of difficulty alone as a version that differs from the one before", async () => {
    const created = await createTemplate({ name: "Difficulty Cup" });
    const id = created.templateId;
    const { templateId: _id, ...fields } = templateBody();
    expect((await call("PUT", `/v1/admin/templates/${id}`, { body: { ...fields, name: "Difficulty Cup", difficulty: 4 } })).json.version).toBe(2);
    const versions = (await call("GET", `/v1/admin/templates/${id}/versions`)).json.versions;
    expect(versions.map((v: any) => [v.version, v.template.difficulty ?? null])).toEqual([
      [2, 4],
      [1, null],
    ]);
  });

  it("refuses a save that started from an older version with 409 version_conflict, and writes nothing", async () => {
    const created = await createTemplate({ name: "Race Cup" });
    const id = created.templateId;
    const { templateId: _id, ...fields } = templateBody();
    const put = (body: Record<string, unknown>) => call("PUT", `/v1/admin/templates/${id}`, { body });
    // Two admins open v1; the first saves v2.
    expect((await put({ ...fields, name: "Race Cup (Ann)", expectedVersion: 1 })).json.version).toBe(2);
    const late = await put({ ...fields, name: "Race Cup (Bob)", expectedVersion: 1 });
    expect(late.status).toBe(409);
    expect(late.json.error).toMatchObject({ code: "version_conflict", details: { expectedVersion: 1, currentVersion: 2, savedBy: "bootstrap" } });
    expect(late.json.error.message).toMatch(/is at v2, not v1/);
    const now = (await call("GET", `/v1/admin/templates/${id}`)).json;
    expect([now.version, now.name]).toEqual([2, "Race Cup (Ann)"]);
    expect((await call("GET", `/v1/admin/templates/${id}/versions`)).json.versions.map((v: any) => v.version)).toEqual([2, 1]);
    // From the current version it saves; without expectedVersion a save is unconditional, as before.
    expect((await put({ ...fields, name: "Race Cup (Bob)", expectedVersion: 2 })).json.version).toBe(3);
    expect((await put({ ...fields, name: "Race Cup" })).json.version).toBe(4);
    const bad = await put({ ...fields, expectedVersion: 0 });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe("validation_failed");
    expect((await call("PUT", "/v1/admin/templates/no-such-template", { body: { ...fields, expectedVersion: 1 } })).status).toBe(404);
  });

  it("is readable by a viewer; an unknown template is 404 and a bad limit 400, as JSON", async () => {
    const vera = await apiKey({ name: "vera-templates", role: "viewer" });
    const t = await createTemplate();
    expect((await call("GET", `/v1/admin/templates/${t.templateId}/versions`, { token: vera.key })).status).toBe(200);
    const missing = await call("GET", "/v1/admin/templates/no-such-template/versions");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("template_not_found");
    const bad = await call("GET", `/v1/admin/templates/${t.templateId}/versions?limit=0`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("validation_failed");
  });
});
