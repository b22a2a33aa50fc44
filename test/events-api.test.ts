// The event API through the real Worker: create-from-template validation, ops queries, the public player views and
// the manual ops transitions. (Alarm-driven lifecycle is covered elsewhere.)
import { describe, expect, it } from "vitest";
import { DAY, HOUR, apiKey, call, createEvent, createTemplate, inMs, playerToken } from "./helpers";

const EVT = /^evt_[0-9a-f]{24}$/;
const MIN = 60_000;

async function postEvent(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call("POST", "/v1/admin/events", { body, headers });
}

/** Every admin listing page for a query (D1 is shared between files, so callers filter by their own template ids). */
async function listAllEvents(qs: string, limit = 200): Promise<{ events: any[]; pages: any[][] }> {
  const events: any[] = [];
  const pages: any[][] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 500; guard++) {
    const res = await call("GET", `/v1/admin/events?${qs}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.events.length).toBeLessThanOrEqual(limit);
    events.push(...res.json.events);
    pages.push(res.json.events);
    cursor = res.json.nextCursor;
    if (cursor === null) return { events, pages };
  }
  throw new Error("listing did not end");
}

/** Asserts a failed create left no trace: no event for the template in any state, and no usage recorded. */
async function expectNothingWritten(templateId: string) {
  const all = (await listAllEvents("from=2000-01-01T00:00:00Z")).events;
  expect(all.filter((e) => e.templateId === templateId)).toEqual([]);
  const t = await call("GET", `/v1/admin/templates/${templateId}`);
  if (t.status === 200) expect(t.json).toMatchObject({ usageCount: 0, lastUsed: null });
}

async function expect422(res: { status: number; json: any }, path: string, fragment?: string) {
  expect(res.status, JSON.stringify(res.json)).toBe(422);
  expect(res.json.error.code).toBe("validation_failed");
  expect(res.json.error.details.fields.map((f: any) => f.path)).toContain(path);
  expect(res.json.error.message).toContain(path);
  if (fragment) expect(res.json.error.message).toContain(fragment);
}

describe("create event", () => {
  it("201: scheduled, with the template's mechanics copied", async () => {
    const t = await createTemplate({ minimumPlayerLevel: 3, layout: { grid: "wide" } });
    const startTime = inMs(HOUR);
    const endTime = inMs(3 * HOUR);
    const res = await postEvent({ templateId: t.templateId, startTime, endTime });
    expect(res.status).toBe(201);
    const e = res.json;
    expect(e.eventId).toMatch(EVT);
    expect(e).toMatchObject({
      templateId: t.templateId,
      templateVersion: 1,
      type: "seasonal",
      tier: "mini",
      state: "scheduled",
      name: "Winter Festival",
      description: "Collect snowflakes",
      theme: { color: "#88ccff" },
      layout: { grid: "wide" },
      startTime,
      endTime,
      scheduledEndTime: endTime,
      durationSeconds: 7200,
      minimumPlayerLevel: 3,
      eligibleClanIds: [],
      leaderboardId: null,
      participantCount: 0,
      completionCount: 0,
      activationAttempts: 0,
      lastError: null,
    });
    expect(e.objectives).toEqual(t.objectives);
    expect(e.milestones).toEqual(t.milestones);
    expect(e.rewardPool).toEqual(t.milestones.flatMap((m: any) => m.rewards));
    expect(e.timeUntilStart).toBeGreaterThan(3590);
    expect(e.timeUntilStart).toBeLessThanOrEqual(3600);
    expect(e.transitions).toHaveLength(1);
    expect(e.transitions[0]).toMatchObject({ fromState: null, toState: "scheduled", cause: "created", actor: "bootstrap" });

    const got = await call("GET", `/v1/admin/events/${e.eventId}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ eventId: e.eventId, state: "scheduled", objectives: t.objectives, milestones: t.milestones });
  });

  it("applies overrides: name, description, theme merge, objectives, rewardPool, clans, tier", async () => {
    const t = await createTemplate({ requiresLeaderboard: true, theme: { color: "#88ccff", banner: "snow.png" } });
    const objectives = [{ objectiveId: "wins", description: "Win matches", type: "complete", targetValue: 10, trackingKey: "match.win" }];
    const poolRewards = [{ rewardId: "gems", type: "currency", itemId: "gems", quantity: 50 }];
    const res = await postEvent({
      templateId: t.templateId,
      startTime: inMs(HOUR),
      endTime: inMs(5 * HOUR),
      name: "Winter Cup",
      description: "Win it all",
      theme: { color: "#ff0000", music: "jingle" },
      objectives,
      rewardPool: [{ milestoneIndex: 1, rewards: poolRewards }],
      eligibleClanIds: ["clan-a", "clan-b"],
      tier: "major",
      reason: "holiday promo",
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const e = res.json;
    expect(e).toMatchObject({
      name: "Winter Cup",
      description: "Win it all",
      tier: "major",
      type: "seasonal",
      theme: { color: "#ff0000", banner: "snow.png", music: "jingle" },
      eligibleClanIds: ["clan-a", "clan-b"],
      leaderboardId: `lb_${e.eventId}`,
      requiresLeaderboard: true,
    });
    expect(e.objectives).toEqual([{ ...objectives[0], isOptional: false }]);
    expect(e.milestones[0].rewards).toEqual(t.milestones[0].rewards);
    expect(e.milestones[1].rewards).toEqual([{ ...poolRewards[0], rarity: "common", isExclusive: false }]);
    expect(e.milestones[2].rewards).toEqual(t.milestones[2].rewards);
    expect(e.rewardPool).toEqual([t.milestones[0].rewards[0], e.milestones[1].rewards[0], t.milestones[2].rewards[0]]);
    expect(e.transitions[0].reason).toBe("holiday promo");

    // The template itself is untouched by the overrides.
    const tpl = await call("GET", `/v1/admin/templates/${t.templateId}`);
    expect(tpl.json).toMatchObject({ name: "Winter Festival", tier: "mini", theme: { color: "#88ccff", banner: "snow.png" }, version: 1, usageCount: 1 });
  });

  it("milestones can be overridden and an explicit leaderboardId is kept", async () => {
    const t = await createTemplate();
    const milestones = [{ index: 0, progressThreshold: 1, rewards: [{ rewardId: "big", type: "item", itemId: "chest", quantity: 1 }] }];
    const res = await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), milestones, leaderboardId: "lb-custom" });
    expect(res.status).toBe(201);
    expect(res.json.milestones).toEqual([{ ...milestones[0], unlockMessage: "", rewards: [{ ...milestones[0].rewards[0], rarity: "common", isExclusive: false }] }]);
    expect(res.json.leaderboardId).toBe("lb-custom");
  });

  it('"now" start makes the event active in the response', async () => {
    const t = await createTemplate();
    const before = Date.now();
    const res = await postEvent({ templateId: t.templateId, startTime: "now", endTime: inMs(30 * MIN) });
    expect(res.status).toBe(201);
    expect(res.json.state).toBe("active");
    expect(Date.parse(res.json.startTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.json.startTime)).toBeLessThanOrEqual(Date.now());
    expect(res.json.timeUntilStart).toBe(0);
    expect(res.json.timeRemaining).toBeGreaterThan(25 * 60);
    expect(res.json.activationAttempts).toBe(1);
    expect(res.json.transitions.map((x: any) => [x.fromState, x.toState, x.actor])).toEqual([
      [null, "scheduled", "bootstrap"],
      ["scheduled", "active", "system"],
    ]);
  });

  it("a window of exactly 90 days is accepted", async () => {
    const t = await createTemplate();
    const start = Date.now() + HOUR;
    const res = await postEvent({ templateId: t.templateId, startTime: new Date(start).toISOString(), endTime: new Date(start + 90 * DAY).toISOString() });
    expect(res.status).toBe(201);
  });

  describe("refusals write nothing", () => {
    it("unknown templateId → 422 naming templateId", async () => {
      const res = await postEvent({ templateId: "no-such-template-xyz", startTime: inMs(HOUR), endTime: inMs(2 * HOUR) });
      await expect422(res, "templateId", "no-such-template-xyz");
    });

    it("startTime in the past → 422 startTime", async () => {
      const t = await createTemplate();
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(-HOUR), endTime: inMs(HOUR) }), "startTime", "must not be in the past");
      await expectNothingWritten(t.templateId);
    });

    it("endTime before startTime → 422 endTime", async () => {
      const t = await createTemplate();
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(2 * HOUR), endTime: inMs(HOUR) }), "endTime", "endTime must be after startTime");
      const same = inMs(2 * HOUR);
      await expect422(await postEvent({ templateId: t.templateId, startTime: same, endTime: same }), "endTime");
      await expect422(await postEvent({ templateId: t.templateId, startTime: "now", endTime: inMs(-MIN) }), "endTime");
      await expectNothingWritten(t.templateId);
    });

    it("a window longer than 90 days → 422 endTime", async () => {
      const t = await createTemplate();
      const start = Date.now() + HOUR;
      const res = await postEvent({ templateId: t.templateId, startTime: new Date(start).toISOString(), endTime: new Date(start + 90 * DAY + 1000).toISOString() });
      await expect422(res, "endTime", "90 days");
      await expectNothingWritten(t.templateId);
    });

    it("a malformed ISO string → 422", async () => {
      const t = await createTemplate();
      await expect422(await postEvent({ templateId: t.templateId, startTime: "tomorrow", endTime: inMs(2 * HOUR) }), "startTime");
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: "2026-13-45" }), "endTime", "ISO 8601");
      // No offset: ambiguous about the time zone, so refused.
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: "2099-01-01T00:00:00" }), "endTime");
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: "now" }), "endTime");
      await expectNothingWritten(t.templateId);
    });

    it("requiresClan template without eligibleClanIds → 422", async () => {
      const t = await createTemplate({ requiresClan: true });
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) }), "eligibleClanIds");
      await expect422(await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), eligibleClanIds: [] }), "eligibleClanIds");
      await expectNothingWritten(t.templateId);
      const ok = await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), eligibleClanIds: ["clan-x"] });
      expect(ok.status).toBe(201);
    });

    it("rewardPool naming a missing or repeated milestone → 422", async () => {
      const t = await createTemplate();
      const rewards = [{ rewardId: "r", type: "item", itemId: "x", quantity: 1 }];
      await expect422(
        await postEvent({ templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), rewardPool: [{ milestoneIndex: 7, rewards }] }),
        "rewardPool[0].milestoneIndex",
        "milestone 7",
      );
      await expect422(
        await postEvent({
          templateId: t.templateId,
          startTime: inMs(HOUR),
          endTime: inMs(2 * HOUR),
          rewardPool: [
            { milestoneIndex: 0, rewards },
            { milestoneIndex: 0, rewards },
          ],
        }),
        "rewardPool[1].milestoneIndex",
        "twice",
      );
      await expectNothingWritten(t.templateId);
    });

    it("invalid overrides and unknown fields → 422; force without reason → 400", async () => {
      const t = await createTemplate();
      const base = { templateId: t.templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR) };
      const dup = { objectiveId: "a", description: "A", type: "collect", targetValue: 1, trackingKey: "k" };
      await expect422(await postEvent({ ...base, objectives: [dup, dup] }), "objectives[1].objectiveId");
      await expect422(await postEvent({ ...base, objectives: [{ ...dup, isOptional: true }] }), "objectives");
      await expect422(
        await postEvent({ ...base, milestones: [{ index: 0, progressThreshold: 0.5 }, { index: 1, progressThreshold: 0.5 }] }),
        "milestones[1].progressThreshold",
      );
      await expect422(await postEvent({ ...base, tier: "giant" }), "tier");
      const unforced = await postEvent({ ...base, force: true });
      expect(unforced.status).toBe(400);
      expect(unforced.json.error.message).toContain("reason is required when force is true");
      const unknown = await postEvent({ ...base, state: "active" });
      expect(unknown.status).toBe(422);
      expect(unknown.json.error.message).toContain("state");
      const { endTime: _e, ...noEnd } = base;
      await expect422(await postEvent(noEnd), "endTime", "endTime is required");
      await expectNothingWritten(t.templateId);
    });

    it("malformed bodies → 400/422", async () => {
      const bad = await call("POST", "/v1/admin/events", { raw: "{nope" });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe("invalid_json");
      const empty = await call("POST", "/v1/admin/events", { raw: "" });
      expect(empty.status).toBe(400);
      const arr = await call("POST", "/v1/admin/events", { body: [] });
      expect(arr.status).toBe(422);
    });
  });
});

describe("a start a few seconds in the past", () => {
  it("up to 5 s is taken as now and starts at once; beyond that is refused, saying by how much", async () => {
    const t = await createTemplate();
    const slightly = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: inMs(-4000), endTime: inMs(HOUR) } });
    expect(slightly.status).toBe(201);
    expect(slightly.json.state).toBe("active");
    const late = await call("POST", "/v1/admin/events", { body: { templateId: t.templateId, startTime: inMs(-6000), endTime: inMs(HOUR) } });
    expect(late.status).toBe(422);
    expect(late.json.error.details.fields).toEqual([{ path: "startTime", message: expect.stringContaining("more than 5 s ago") }]);
    await call("POST", `/v1/admin/events/${slightly.json.eventId}/end-now`);
  });
});

describe("admin queries", () => {
  it("cursor pagination returns every event once, in start order", async () => {
    const t = await createTemplate({ type: "competitive" });
    // Far in the future and created out of order; two share a start time so the cursor's tie-break is exercised.
    const base = Date.now() + 400 * DAY + Math.floor(Math.random() * 1000) * MIN;
    const offsets = [4, 1, 3, 1, 0];
    const created: any[] = [];
    for (const o of offsets) {
      const start = base + o * HOUR;
      created.push(await createEvent(t.templateId, { startTime: new Date(start).toISOString(), endTime: new Date(start + HOUR).toISOString() }));
    }
    const expected = [...created]
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime) || (a.eventId < b.eventId ? -1 : 1))
      .map((e) => e.eventId);

    const from = new Date(base - HOUR).toISOString();
    const to = new Date(base + 6 * HOUR).toISOString();
    const { events, pages } = await listAllEvents(`type=competitive&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 2);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const p of pages.slice(0, -1)) expect(p).toHaveLength(2);
    const mine = events.filter((e) => e.templateId === t.templateId).map((e) => e.eventId);
    expect(mine).toEqual(expected);
    // The whole walk is in (startTime, eventId) order with no repeats.
    const keys = events.map((e) => [Date.parse(e.startTime), e.eventId] as const);
    for (let i = 1; i < keys.length; i++) {
      expect(keys[i][0] > keys[i - 1][0] || (keys[i][0] === keys[i - 1][0] && keys[i][1] > keys[i - 1][1])).toBe(true);
    }
    // Listed events are rendered like the single-event view.
    expect(events.find((e) => e.eventId === expected[0])).toMatchObject({ state: "scheduled", durationSeconds: 3600 });
  });

  it("a bad cursor is 400", async () => {
    for (const cursor of ["garbage!!", btoa("abc:evt_x"), btoa("123"), "%%%"]) {
      const res = await call("GET", `/v1/admin/events?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.json.error.code).toBe("validation_failed");
      expect(res.json.error.details.fields[0].path).toBe("cursor");
    }
  });

  it("invalid list queries are 400", async () => {
    for (const qs of ["state=running", "type=bogus", "tier=x", "from=yesterday", "to=2026-01-01", "limit=0", "limit=500", "nope=1"]) {
      const res = await call("GET", `/v1/admin/events?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.json.error.code, qs).toBe("validation_failed");
    }
  });

  it("filters by state, type, tier and time window", async () => {
    const t = await createTemplate({ type: "cooperative", tier: "mini" });
    const base = Date.now() + 500 * DAY + Math.floor(Math.random() * 1000) * MIN;
    const iso = (ms: number) => new Date(ms).toISOString();
    const a = await createEvent(t.templateId, { startTime: iso(base), endTime: iso(base + 2 * HOUR) });
    const b = await createEvent(t.templateId, { startTime: iso(base + 10 * HOUR), endTime: iso(base + 12 * HOUR), tier: "major" });
    const c = await createEvent(t.templateId, { startTime: iso(base + 20 * HOUR), endTime: iso(base + 22 * HOUR) });
    expect((await call("POST", `/v1/admin/events/${c.eventId}/cancel`)).json.state).toBe("cancelled");
    const mine = (list: any[]) => list.filter((e) => e.templateId === t.templateId).map((e) => e.eventId);
    const win = (from: number, to: number) => `from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(to))}`;
    const around = win(base - DAY, base + 2 * DAY);

    const cancelled = (await listAllEvents(`state=cancelled&${around}`)).events;
    expect(cancelled.every((e) => e.state === "cancelled")).toBe(true);
    expect(mine(cancelled)).toEqual([c.eventId]);

    const scheduled = (await listAllEvents(`state=scheduled&${around}`)).events;
    expect(scheduled.every((e) => e.state === "scheduled")).toBe(true);
    expect(mine(scheduled)).toEqual([a.eventId, b.eventId]);

    const coop = (await listAllEvents(`type=cooperative&${around}`)).events;
    expect(coop.every((e) => e.type === "cooperative")).toBe(true);
    expect(mine(coop)).toEqual([a.eventId, b.eventId, c.eventId]);
    expect(mine((await listAllEvents(`type=gacha&${around}`)).events)).toEqual([]);

    const major = (await listAllEvents(`tier=major&${around}`)).events;
    expect(major.every((e) => e.tier === "major")).toBe(true);
    expect(mine(major)).toEqual([b.eventId]);
    expect(mine((await listAllEvents(`tier=mini&type=cooperative&${around}`)).events)).toEqual([a.eventId, c.eventId]);

    // Window intersection: [from, to) overlaps [start, end).
    expect(mine((await listAllEvents(win(base + HOUR, base + 11 * HOUR))).events)).toEqual([a.eventId, b.eventId]);
    expect(mine((await listAllEvents(win(base + 2 * HOUR, base + 10 * HOUR))).events)).toEqual([]);
    expect(mine((await listAllEvents(win(base + 2 * HOUR - 1, base + 10 * HOUR + 1))).events)).toEqual([a.eventId, b.eventId]);
    expect(mine((await listAllEvents(`from=${encodeURIComponent(iso(base + 12 * HOUR))}`)).events)).toEqual([c.eventId]);
    expect(mine((await listAllEvents(`to=${encodeURIComponent(iso(base + HOUR))}&from=${encodeURIComponent(iso(base - DAY))}`)).events)).toEqual([a.eventId]);
  });

  it("GET of an unknown or malformed event id is 404", async () => {
    const unknown = `evt_${"0123456789abcdef01234567"}`;
    const res = await call("GET", `/v1/admin/events/${unknown}`);
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("event_not_found");
    for (const bad of ["nope", "evt_", "evt_ABCDEF0123456789", "evt_short", `evt_${"a".repeat(41)}`]) {
      const r = await call("GET", `/v1/admin/events/${bad}`);
      expect(r.status, bad).toBe(404);
      expect(r.json.error.code, bad).toBe("event_not_found");
    }
  });
});

describe("public views", () => {
  it("/v1/events/active lists a running event with a countdown, no ops fields, and an eligibility flag", async () => {
    const t = await createTemplate({ minimumPlayerLevel: 10 });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(20 * MIN) });
    expect(e.state).toBe("active");

    const low = await call("GET", "/v1/events/active", { token: await playerToken("p-low", { lvl: 5 }) });
    expect(low.status).toBe(200);
    const seen = low.json.events.find((x: any) => x.eventId === e.eventId);
    expect(seen).toBeDefined();
    expect(seen.state).toBe("active");
    expect(seen.timeRemaining).toBeGreaterThan(0);
    expect(seen.timeRemaining).toBeLessThanOrEqual(20 * 60);
    expect(seen.timeUntilStart).toBe(0);
    expect(seen.minimumPlayerLevel).toBe(10);
    expect(seen.eligible).toBe(false);
    for (const hidden of ["activationAttempts", "lastError", "transitions", "templateId", "eligibleClanIds", "scheduledEndTime"]) {
      expect(seen, hidden).not.toHaveProperty(hidden);
    }
    expect(seen.objectives.find((o: any) => o.objectiveId === "bosses")).not.toHaveProperty("maxPerUpdate");
    expect(low.json.events.every((x: any) => x.state === "active")).toBe(true);

    const high = await call("GET", "/v1/events/active", { token: await playerToken("p-high", { lvl: 10 }) });
    expect(high.json.events.find((x: any) => x.eventId === e.eventId).eligible).toBe(true);
    const noLevel = await call("GET", "/v1/events/active", { token: await playerToken("p-new") });
    expect(noLevel.json.events.find((x: any) => x.eventId === e.eventId).eligible).toBe(false);
  });

  it("clan-gated events are eligible only for listed clans", async () => {
    const t = await createTemplate({ requiresClan: true });
    const e = await createEvent(t.templateId, { eligibleClanIds: ["clan-a"] });
    const as = async (claims: Record<string, unknown>) =>
      (await call("GET", `/v1/events/${e.eventId}`, { token: await playerToken("p-clan", claims) })).json.eligible;
    expect(await as({ clan: "clan-a" })).toBe(true);
    expect(await as({ clan: "clan-b" })).toBe(false);
    expect(await as({})).toBe(false);
  });

  it("/v1/events/upcoming honours withinHours", async () => {
    const t = await createTemplate();
    const soon = await createEvent(t.templateId, { startTime: inMs(HOUR), endTime: inMs(2 * HOUR) });
    const later = await createEvent(t.templateId, { startTime: inMs(5 * HOUR), endTime: inMs(6 * HOUR) });
    const token = await playerToken("p-up");
    const two = await call("GET", "/v1/events/upcoming?withinHours=2", { token });
    expect(two.status).toBe(200);
    const twoIds = two.json.events.map((x: any) => x.eventId);
    expect(twoIds).toContain(soon.eventId);
    expect(twoIds).not.toContain(later.eventId);
    expect(two.json.events.every((x: any) => x.state === "scheduled")).toBe(true);
    const listed = two.json.events.find((x: any) => x.eventId === soon.eventId);
    expect(listed.timeUntilStart).toBeGreaterThan(3500);
    expect(listed).not.toHaveProperty("activationAttempts");

    const six = await call("GET", "/v1/events/upcoming?withinHours=6", { token });
    expect(six.json.events.map((x: any) => x.eventId)).toEqual(expect.arrayContaining([soon.eventId, later.eventId]));
    const def = await call("GET", "/v1/events/upcoming", { token });
    expect(def.json.events.map((x: any) => x.eventId)).toEqual(expect.arrayContaining([soon.eventId, later.eventId]));

    for (const bad of ["abc", "-1", "99999"]) {
      const res = await call("GET", `/v1/events/upcoming?withinHours=${bad}`, { token });
      expect(res.status, bad).toBe(400);
      expect(res.json.error.code).toBe("validation_failed");
    }
  });

  it("/v1/events/:id gives timeUntilStart for a scheduled event", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: inMs(HOUR), endTime: inMs(3 * HOUR) });
    const res = await call("GET", `/v1/events/${e.eventId}`, { token: await playerToken("p-one") });
    expect(res.status).toBe(200);
    expect(res.json.eventId).toBe(e.eventId);
    expect(res.json.state).toBe("scheduled");
    expect(Math.abs(res.json.timeUntilStart - 3600)).toBeLessThanOrEqual(5);
    expect(Math.abs(res.json.timeRemaining - 3 * 3600)).toBeLessThanOrEqual(5);
    expect(res.json.durationSeconds).toBe(7200);
    expect(res.json.eligible).toBe(true);
    expect(res.json).not.toHaveProperty("lastError");
  });

  it("cancelled and unknown events are 404 on the public route", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    const token = await playerToken("p-404");
    expect((await call("GET", `/v1/events/${e.eventId}`, { token })).status).toBe(200);
    expect((await call("POST", `/v1/admin/events/${e.eventId}/cancel`)).status).toBe(200);
    const res = await call("GET", `/v1/events/${e.eventId}`, { token });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("event_not_found");
    const upcoming = await call("GET", "/v1/events/upcoming?withinHours=3", { token });
    expect(upcoming.json.events.map((x: any) => x.eventId)).not.toContain(e.eventId);
    expect((await call("GET", "/v1/events/evt_0123456789abcdef01234567", { token })).status).toBe(404);
    expect((await call("GET", "/v1/events/not-an-id", { token })).status).toBe(404);
  });
});

describe("ops transitions over HTTP", () => {
  it("pause → resume (moving endTime) → end-now on a running event", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    expect(e.state).toBe("active");
    const carol = await apiKey({ name: "carol", role: "operator" });

    const paused = await call("POST", `/v1/admin/events/${e.eventId}/pause`, { body: { reason: "exploit found" }, token: carol.key });
    expect(paused.status).toBe(200);
    expect(paused.json.state).toBe("paused");
    expect(paused.json.transitions.at(-1)).toMatchObject({ fromState: "active", toState: "paused", cause: "ops_pause", actor: carol.actor, reason: "exploit found" });

    const again = await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("illegal_transition");
    expect(again.json.error.details.state).toBe("paused");

    const pastEnd = await call("POST", `/v1/admin/events/${e.eventId}/resume`, { body: { endTime: inMs(-MIN) } });
    expect(pastEnd.status).toBe(422);
    expect(pastEnd.json.error.code).toBe("validation_failed");
    expect(pastEnd.json.error.details.fields[0].path).toBe("endTime");
    expect((await call("GET", `/v1/admin/events/${e.eventId}`)).json.state).toBe("paused");

    const badField = await call("POST", `/v1/admin/events/${e.eventId}/resume`, { body: { startTime: inMs(HOUR) } });
    expect(badField.status).toBe(422);
    expect(badField.json.error.message).toContain("startTime");

    const newEnd = inMs(3 * HOUR);
    const resumed = await call("POST", `/v1/admin/events/${e.eventId}/resume`, { body: { endTime: newEnd, reason: "fixed" } });
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ state: "active", endTime: newEnd, scheduledEndTime: e.endTime });
    expect(resumed.json.timeRemaining).toBeGreaterThan(3 * 3600 - 60);

    const before = Date.now();
    const ended = await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { raw: "" });
    expect(ended.status).toBe(200);
    expect(ended.json.state).toBe("expired");
    const endMs = Date.parse(ended.json.endTime);
    expect(endMs).toBeGreaterThanOrEqual(before - 1000);
    expect(endMs).toBeLessThanOrEqual(Date.now() + 1000);
    expect(ended.json.scheduledEndTime).toBe(e.endTime);
    expect(ended.json.timeRemaining).toBe(0);
    expect(ended.json.transitions.map((x: any) => x.cause)).toEqual(["created", "start_time_reached", "ops_pause", "ops_resume", "ops_end_now"]);

    const token = await playerToken("p-ops");
    const active = await call("GET", "/v1/events/active", { token });
    expect(active.json.events.map((x: any) => x.eventId)).not.toContain(e.eventId);
    const listed = (await listAllEvents("state=expired&from=2000-01-01T00:00:00Z")).events.find((x) => x.eventId === e.eventId);
    expect(listed).toMatchObject({ state: "expired" });
  });

  it("resume without a body keeps endTime", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    const resumed = await call("POST", `/v1/admin/events/${e.eventId}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ state: "active", endTime: e.endTime });
  });

  it("end-now works on a paused event", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    const ended = await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
    expect(ended.status).toBe(200);
    expect(ended.json.state).toBe("expired");
  });

  it("illegal transitions are 409 with the current state", async () => {
    const t = await createTemplate();
    const scheduled = await createEvent(t.templateId);
    const active = await createEvent(t.templateId, { startTime: "now", endTime: inMs(HOUR) });
    const cases: [string, string, string][] = [
      [scheduled.eventId, "pause", "scheduled"],
      [scheduled.eventId, "resume", "scheduled"],
      [scheduled.eventId, "end-now", "scheduled"],
      [scheduled.eventId, "retry-activation", "scheduled"],
      [active.eventId, "cancel", "active"],
      [active.eventId, "resume", "active"],
    ];
    for (const [id, cmd, state] of cases) {
      const res = await call("POST", `/v1/admin/events/${id}/${cmd}`);
      expect(res.status, `${cmd} ${state}`).toBe(409);
      expect(res.json.error.code).toBe("illegal_transition");
      expect(res.json.error.details.state).toBe(state);
    }
    // Nothing moved.
    expect((await call("GET", `/v1/admin/events/${scheduled.eventId}`)).json.transitions).toHaveLength(1);
    expect((await call("GET", `/v1/admin/events/${active.eventId}`)).json.state).toBe("active");
  });

  it("cancel a scheduled event, then nothing more", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    const res = await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "duplicate" } });
    expect(res.status).toBe(200);
    expect(res.json.state).toBe("cancelled");
    expect(res.json.timeUntilStart).toBe(0);
    const again = await call("POST", `/v1/admin/events/${e.eventId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error.details.state).toBe("cancelled");
  });

  it("command bodies are validated: unknown fields, endTime outside resume, malformed JSON", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    const unknown = await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { reason: "x", force: true } });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.message).toContain("force");
    const endTime = await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { body: { endTime: inMs(HOUR) } });
    expect(endTime.status).toBe(422);
    const malformed = await call("POST", `/v1/admin/events/${e.eventId}/cancel`, { raw: "{nope" });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("invalid_json");
    expect((await call("GET", `/v1/admin/events/${e.eventId}`)).json.state).toBe("scheduled");
  });

  it("commands on unknown or malformed ids are 404", async () => {
    const res = await call("POST", "/v1/admin/events/evt_0123456789abcdef01234567/pause");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("event_not_found");
    expect((await call("POST", "/v1/admin/events/bogus/cancel")).status).toBe(404);
  });
});
