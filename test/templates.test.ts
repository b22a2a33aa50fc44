// The template library through the real Worker: CRUD, listing, usage stats and validation.
import { describe, expect, it } from "vitest";
import { call, createEvent, createTemplate, templateBody, uniqueSlug } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Walks every page of a template listing (D1 is shared, so other files' templates are mixed in). */
async function listAll(qs: string): Promise<any[]> {
  const out: any[] = [];
  let offset = 0;
  for (let guard = 0; guard < 100; guard++) {
    const res = await call("GET", `/v1/admin/templates?${qs}&limit=200&offset=${offset}`);
    expect(res.status).toBe(200);
    out.push(...res.json.templates);
    if (res.json.nextOffset === null) return out;
    expect(res.json.nextOffset).toBe(offset + 200);
    offset = res.json.nextOffset;
  }
  throw new Error("listing did not end");
}

const ids = (list: any[], mine: string[]) => list.map((t) => t.templateId).filter((id) => mine.includes(id));

/** Strips what PUT does not accept from a create body. */
function updateBody(overrides: Record<string, unknown> = {}) {
  const { templateId: _id, ...rest } = templateBody(overrides);
  return rest;
}

describe("create and read", () => {
  it("POST creates version 1 with usage 0 and every default filled", async () => {
    const body = templateBody();
    const res = await call("POST", "/v1/admin/templates", { body });
    expect(res.status).toBe(201);
    const t = res.json;
    expect(t).toMatchObject({
      templateId: body.templateId,
      type: "seasonal",
      tier: "mini",
      name: "Winter Festival",
      description: "Collect snowflakes",
      version: 1,
      usageCount: 0,
      lastUsed: null,
      theme: { color: "#88ccff" },
      layout: {},
      requiresLeaderboard: false,
      requiresClan: false,
      minimumPlayerLevel: 1,
      averageEngagementScore: null,
    });
    expect(t.createdAt).toMatch(ISO);
    expect(t.updatedAt).toBe(t.createdAt);
    expect(t.objectives[0]).toEqual({
      objectiveId: "snowflakes",
      description: "Collect snowflakes",
      type: "collect",
      targetValue: 100,
      trackingKey: "item.snowflake",
      isOptional: false,
    });
    expect(t.objectives[1]).toMatchObject({ objectiveId: "bosses", isOptional: false, maxPerUpdate: 1 });
    expect(t.milestones[0].rewards[0]).toEqual({ rewardId: "coins-1", type: "currency", itemId: "coins", quantity: 100, rarity: "common", isExclusive: false });
    expect(t.milestones[1]).toMatchObject({ index: 1, progressThreshold: 0.5, unlockMessage: "" });
    expect(t.milestones[1].rewards[0]).toMatchObject({ rarity: "rare", isExclusive: false });
    expect(t.milestones[2].rewards[0]).toMatchObject({ rarity: "legendary", isExclusive: true });

    const got = await call("GET", `/v1/admin/templates/${body.templateId}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(t);
  });

  it("minimal template: description, theme, layout and milestone rewards default", async () => {
    const templateId = uniqueSlug("min");
    const res = await call("POST", "/v1/admin/templates", {
      body: {
        templateId,
        type: "cooperative",
        tier: "daily",
        name: "Daily Grind",
        objectives: [{ objectiveId: "play", description: "Play", type: "participate", targetValue: 1, trackingKey: "match.played" }],
        milestones: [{ index: 0, progressThreshold: 1 }],
      },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ description: "", theme: {}, layout: {}, milestones: [{ index: 0, progressThreshold: 1, rewards: [], unlockMessage: "" }] });
  });

  it("GET of an unknown id is 404 template_not_found", async () => {
    const res = await call("GET", `/v1/admin/templates/${uniqueSlug("missing")}`);
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("template_not_found");
  });

  it("a duplicate id is 409 template_exists and the original is kept", async () => {
    const t = await createTemplate();
    const res = await call("POST", "/v1/admin/templates", { body: templateBody({ templateId: t.templateId, name: "Impostor" }) });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("template_exists");
    const got = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(got.json.name).toBe("Winter Festival");
    expect(got.json.version).toBe(1);
  });
});

describe("update", () => {
  it("PUT bumps the version and replaces the fields", async () => {
    const t = await createTemplate();
    const res = await call("PUT", `/v1/admin/templates/${t.templateId}`, {
      body: updateBody({ name: "Winter Festival II", tier: "major", minimumPlayerLevel: 10, averageEngagementScore: 42.5 }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ templateId: t.templateId, version: 2, name: "Winter Festival II", tier: "major", minimumPlayerLevel: 10, averageEngagementScore: 42.5 });
    expect(res.json.createdAt).toBe(t.createdAt);
    expect(Date.parse(res.json.updatedAt)).toBeGreaterThanOrEqual(Date.parse(t.updatedAt));
    const again = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: updateBody({ name: "III" }) });
    expect(again.json.version).toBe(3);
    const got = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(got.json).toMatchObject({ version: 3, name: "III", tier: "mini" });
  });

  it("PUT without averageEngagementScore keeps the one set before; null clears it", async () => {
    const t = await createTemplate();
    await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: updateBody({ averageEngagementScore: 42.5 }) });
    const kept = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: updateBody({ name: "Renamed" }) }); // no score in it
    expect(kept.status).toBe(200);
    expect(kept.json).toMatchObject({ name: "Renamed", averageEngagementScore: 42.5 });
    const cleared = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: updateBody({ averageEngagementScore: null }) });
    expect(cleared.json.averageEngagementScore).toBeNull();
  });

  it("PUT of an unknown id is 404 and creates nothing", async () => {
    const id = uniqueSlug("ghost");
    const res = await call("PUT", `/v1/admin/templates/${id}`, { body: updateBody() });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("template_not_found");
    expect((await call("GET", `/v1/admin/templates/${id}`)).status).toBe(404);
  });

  it("PUT refuses a templateId in the body and invalid mechanics, leaving the template untouched", async () => {
    const t = await createTemplate();
    const withId = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: { ...updateBody(), templateId: "other" } });
    expect(withId.status).toBe(422);
    expect(withId.json.error.message).toContain("templateId");
    const bad = updateBody();
    (bad.milestones as any[])[1].progressThreshold = 0.1;
    const res = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: bad });
    expect(res.status).toBe(422);
    expect(res.json.error.message).toContain("milestones[1].progressThreshold must be greater than milestones[0]");
    const got = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(got.json.version).toBe(1);
  });

  it("an event created from version 1 keeps templateVersion 1 after the template moves to version 2", async () => {
    const t = await createTemplate();
    const e1 = await createEvent(t.templateId);
    expect(e1.templateVersion).toBe(1);
    const put = await call("PUT", `/v1/admin/templates/${t.templateId}`, { body: updateBody({ name: "Renamed" }) });
    expect(put.json.version).toBe(2);
    const got = await call("GET", `/v1/admin/events/${e1.eventId}`);
    expect(got.json).toMatchObject({ templateVersion: 1, name: "Winter Festival" });
    const e2 = await createEvent(t.templateId);
    expect(e2).toMatchObject({ templateVersion: 2, name: "Renamed" });
  });
});

describe("usage stats", () => {
  it("creating an event bumps usageCount and sets lastUsed", async () => {
    const t = await createTemplate();
    const before = Date.now();
    await createEvent(t.templateId);
    const once = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(once.json.usageCount).toBe(1);
    expect(once.json.lastUsed).toMatch(ISO);
    expect(Date.parse(once.json.lastUsed)).toBeGreaterThanOrEqual(before - 1000);
    expect(once.json.version).toBe(1);
    await createEvent(t.templateId);
    expect((await call("GET", `/v1/admin/templates/${t.templateId}`)).json.usageCount).toBe(2);
  });

  it("a failed event create does not count as a use", async () => {
    const t = await createTemplate();
    const res = await call("POST", "/v1/admin/events", {
      body: { templateId: t.templateId, startTime: new Date(Date.now() - 86_400_000).toISOString(), endTime: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(res.status).toBe(422);
    const got = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(got.json).toMatchObject({ usageCount: 0, lastUsed: null });
  });
});

describe("listing", () => {
  it("filters by type and tier", async () => {
    const a = await createTemplate({ type: "gacha", tier: "mini" });
    const b = await createTemplate({ type: "gacha", tier: "daily" });
    const c = await createTemplate({ type: "competitive", tier: "mini" });
    const mine = [a.templateId, b.templateId, c.templateId];

    const gacha = await listAll("type=gacha");
    expect(gacha.every((t) => t.type === "gacha")).toBe(true);
    expect(ids(gacha, mine).sort()).toEqual([a.templateId, b.templateId].sort());

    const mini = await listAll("tier=mini");
    expect(mini.every((t) => t.tier === "mini")).toBe(true);
    expect(ids(mini, mine).sort()).toEqual([a.templateId, c.templateId].sort());

    const both = await listAll("type=gacha&tier=mini");
    expect(both.every((t) => t.type === "gacha" && t.tier === "mini")).toBe(true);
    expect(ids(both, mine)).toEqual([a.templateId]);

    const all = await listAll("");
    expect(ids(all, mine).sort()).toEqual([...mine].sort());
    // Default order is by id.
    const allIds = all.map((t) => t.templateId);
    expect(allIds).toEqual([...allIds].sort());
  });

  it("sort=usage puts the most used first", async () => {
    const low = await createTemplate({ type: "crossover", tier: "mini" });
    const high = await createTemplate({ type: "crossover", tier: "mini" });
    const mid = await createTemplate({ type: "crossover", tier: "mini" });
    for (let i = 0; i < 3; i++) await createEvent(high.templateId);
    await createEvent(mid.templateId);
    const list = await listAll("type=crossover&tier=mini&sort=usage");
    expect(ids(list, [low.templateId, high.templateId, mid.templateId])).toEqual([high.templateId, mid.templateId, low.templateId]);
    const counts = list.map((t) => t.usageCount);
    expect(counts).toEqual([...counts].sort((x, y) => y - x));
    expect(list.find((t) => t.templateId === high.templateId).usageCount).toBe(3);
  });

  it("sort=engagement puts the highest score first and unscored templates last", async () => {
    const none = await createTemplate({ type: "crossover", tier: "daily" });
    const ten = await createTemplate({ type: "crossover", tier: "daily", averageEngagementScore: 10 });
    const fifty = await createTemplate({ type: "crossover", tier: "daily", averageEngagementScore: 50.25 });
    const list = await listAll("type=crossover&tier=daily&sort=engagement");
    expect(ids(list, [none.templateId, ten.templateId, fifty.templateId])).toEqual([fifty.templateId, ten.templateId, none.templateId]);
    const scores = list.map((t) => t.averageEngagementScore);
    const firstNull = scores.indexOf(null);
    if (firstNull >= 0) expect(scores.slice(firstNull).every((s) => s === null)).toBe(true);
    const scored = scores.filter((s) => s !== null);
    expect(scored).toEqual([...scored].sort((x, y) => y - x));
  });

  it("limit and offset page the listing", async () => {
    for (let i = 0; i < 3; i++) await createTemplate({ type: "competitive", tier: "daily" });
    const first = await call("GET", "/v1/admin/templates?type=competitive&tier=daily&limit=2");
    expect(first.status).toBe(200);
    expect(first.json.templates).toHaveLength(2);
    expect(first.json.nextOffset).toBe(2);
    const second = await call("GET", "/v1/admin/templates?type=competitive&tier=daily&limit=2&offset=2");
    expect(second.json.templates.length).toBeGreaterThanOrEqual(1);
    const firstIds = first.json.templates.map((t: any) => t.templateId);
    for (const t of second.json.templates) expect(firstIds).not.toContain(t.templateId);
  });

  it("invalid query parameters are 400", async () => {
    for (const qs of ["type=bogus", "tier=huge", "sort=x", "limit=0", "limit=abc", "offset=-1", "unknown=1"]) {
      const res = await call("GET", `/v1/admin/templates?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.json.error.code, qs).toBe("validation_failed");
      expect(res.json.error.details.fields.length, qs).toBeGreaterThan(0);
    }
    const bogus = await call("GET", "/v1/admin/templates?type=bogus");
    expect(bogus.json.error.details.fields[0].path).toBe("type");
    expect(bogus.json.error.message).toContain("type must be one of");
    const sort = await call("GET", "/v1/admin/templates?sort=x");
    expect(sort.json.error.details.fields[0].path).toBe("sort");
  });
});

describe("validation", () => {
  /** Posts a body, expects 422 naming `path`, and checks nothing was written. */
  async function rejected(body: any, path: string, fragment?: string) {
    const res = await call("POST", "/v1/admin/templates", { body });
    expect(res.status, JSON.stringify(res.json)).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
    const fields: { path: string; message: string }[] = res.json.error.details.fields;
    expect(Array.isArray(fields)).toBe(true);
    for (const f of fields) expect(f).toEqual({ path: expect.any(String), message: expect.any(String) });
    expect(fields.map((f) => f.path)).toContain(path);
    expect(res.json.error.message).toContain(path);
    if (fragment) expect(res.json.error.message).toContain(fragment);
    if (typeof body?.templateId === "string") {
      const got = await call("GET", `/v1/admin/templates/${encodeURIComponent(body.templateId)}`);
      expect(got.status).toBe(404);
    }
    return res;
  }

  it("milestone thresholds must ascend", async () => {
    const body = templateBody();
    body.milestones[2].progressThreshold = 0.5;
    await rejected(body, "milestones[2].progressThreshold", "milestones[2].progressThreshold must be greater than milestones[1]");
  });

  it("a threshold must be in (0, 1]", async () => {
    const zero = templateBody();
    zero.milestones[0].progressThreshold = 0;
    await rejected(zero, "milestones[0].progressThreshold", "milestones[0].progressThreshold must be greater than 0");
    const big = templateBody();
    big.milestones[2].progressThreshold = 1.5;
    await rejected(big, "milestones[2].progressThreshold", "milestones[2].progressThreshold must be at most 1");
  });

  it("targetValue must be positive", async () => {
    const zero = templateBody();
    zero.objectives[0].targetValue = 0;
    await rejected(zero, "objectives[0].targetValue", "objectives[0].targetValue must be greater than 0");
    const neg = templateBody();
    neg.objectives[1].targetValue = -5;
    await rejected(neg, "objectives[1].targetValue");
  });

  it("reward quantity must be at least 1", async () => {
    const body = templateBody();
    body.milestones[0].rewards[0].quantity = 0;
    await rejected(body, "milestones[0].rewards[0].quantity", "milestones[0].rewards[0].quantity must be at least 1");
  });

  it("unknown enum values are refused", async () => {
    await rejected(templateBody({ type: "raid" }), "type", "type must be one of: seasonal");
    await rejected(templateBody({ tier: "legendary" }), "tier", "tier must be one of: major");
    const obj = templateBody();
    (obj.objectives[0] as any).type = "explode";
    await rejected(obj, "objectives[0].type", "objectives[0].type must be one of");
    const rew = templateBody();
    (rew.milestones[1].rewards[0] as any).type = "nft";
    await rejected(rew, "milestones[1].rewards[0].type", "milestones[1].rewards[0].type must be one of");
  });

  it("templateId must be a slug", async () => {
    await rejected(templateBody({ templateId: "Not A Slug!" }), "templateId", "templateId must be a slug");
    await rejected(templateBody({ templateId: "-leading-dash" }), "templateId");
  });

  it("an unknown extra field is refused", async () => {
    const res = await rejected(templateBody({ colour: "red" }), "");
    expect(res.json.error.message).toContain("colour");
    const nested = templateBody();
    (nested.objectives[0] as any).weight = 2;
    const r2 = await rejected(nested, "objectives[0]");
    expect(r2.json.error.message).toContain("weight");
  });

  it("duplicate objectiveIds are refused", async () => {
    const body = templateBody();
    body.objectives[1].objectiveId = "snowflakes";
    await rejected(body, "objectives[1].objectiveId", 'objectives[1].objectiveId duplicates "snowflakes"');
  });

  it("at least one objective must be required", async () => {
    const body = templateBody();
    for (const o of body.objectives as any[]) o.isOptional = true;
    await rejected(body, "objectives", "objectives must contain at least one required");
  });

  it("milestone indexes must be 0..n-1 in order", async () => {
    const body = templateBody();
    body.milestones[1].index = 2;
    body.milestones[2].index = 1;
    await rejected(body, "milestones[1].index", "milestones[1].index must be 1");
  });

  it("objectives and milestones must not be empty", async () => {
    await rejected(templateBody({ objectives: [] }), "objectives", "objectives must have at least 1 item(s)");
    await rejected(templateBody({ milestones: [] }), "milestones");
  });

  it("a missing required field is named", async () => {
    const { name: _n, ...body } = templateBody();
    await rejected(body, "name", "name is required");
  });

  it("malformed JSON is 400 invalid_json", async () => {
    const res = await call("POST", "/v1/admin/templates", { raw: "{nope", headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_json");
  });

  it("an empty body is 400", async () => {
    const res = await call("POST", "/v1/admin/templates", { raw: "" });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_json");
    const none = await call("POST", "/v1/admin/templates");
    expect(none.status).toBe(400);
  });

  it("a JSON array body is 422", async () => {
    const res = await call("POST", "/v1/admin/templates", { body: [templateBody()] });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
  });
});

describe("routing", () => {
  it("an unknown route is 404 JSON", async () => {
    for (const path of ["/nope", "/v1/admin/nope"]) {
      const res = await call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.json.error.code, path).toBe("not_found");
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
    }
  });

  it("health answers", async () => {
    const res = await call("GET", "/health", { token: null });
    expect(res).toMatchObject({ status: 200, json: { ok: true } });
  });
});
