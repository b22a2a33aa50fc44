import { describe, expect, it } from "vitest";
import { instanceFromTemplate, isEligible, publicView, windowProblems } from "./instance";
import { NOW, body, template } from "./instance.fixtures";
import { DAY_MS, MINUTE_MS } from "./time";

describe("instanceFromTemplate", () => {
  it("copies mechanics, applies overrides and keeps the template version", () => {
    const r = instanceFromTemplate(template, body({ name: "Winter 2026", theme: { color: "white" } }), { eventId: "evt_1", now: NOW }, { maxWindowDays: 90 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.instance).toMatchObject({
      eventId: "evt_1",
      templateVersion: 3,
      name: "Winter 2026",
      theme: { color: "white", font: "serif" },
      state: "scheduled",
      startTime: Date.parse("2026-12-02T00:00:00Z"),
    });
    expect(r.instance.rewardPool).toEqual([expect.objectContaining({ rewardId: "r0" })]);
  });

  it("replaces a milestone's rewards from the reward pool and refuses pool entries for missing milestones", () => {
    const pool = [{ milestoneIndex: 1, rewards: [{ rewardId: "x", type: "item", itemId: "sword", quantity: 1 }] }];
    const r = instanceFromTemplate(template, body({ rewardPool: pool }), { eventId: "evt_1", now: NOW }, { maxWindowDays: 90 });
    expect(r.ok && r.instance.milestones[1].rewards.map((x) => x.rewardId)).toEqual(["x"]);
    const bad = instanceFromTemplate(template, body({ rewardPool: [{ milestoneIndex: 7, rewards: [] }] }), { eventId: "e", now: NOW }, { maxWindowDays: 90 });
    expect(bad).toEqual({ ok: false, problems: [{ path: ["rewardPool", 0, "milestoneIndex"], message: expect.stringContaining("milestone 7") }] });
  });

  it("'now' starts at the request's clock", () => {
    const r = instanceFromTemplate(template, body({ startTime: "now" }), { eventId: "e", now: NOW }, { maxWindowDays: 90 });
    expect(r.ok && r.instance.startTime).toBe(NOW);
  });
});

describe("windowProblems", () => {
  it("refuses past starts, inverted windows and over-long windows", () => {
    expect(windowProblems(NOW - MINUTE_MS, NOW + 1, NOW, { startIsNow: false, maxWindowDays: 90 })[0].path).toEqual(["startTime"]);
    expect(windowProblems(NOW + 10, NOW + 10, NOW, { startIsNow: false, maxWindowDays: 90 })[0].message).toBe("must be after startTime");
    expect(windowProblems(NOW, NOW + 91 * DAY_MS, NOW, { startIsNow: true, maxWindowDays: 90 })[0].message).toContain("90 days");
    expect(windowProblems(NOW, NOW + 90 * DAY_MS, NOW, { startIsNow: true, maxWindowDays: 90 })).toEqual([]);
  });
});

describe("isEligible", () => {
  const inst = { minimumPlayerLevel: 5, requiresClan: true, eligibleClanIds: ["red"] } as never;
  it("checks level and clan", () => {
    expect(isEligible(inst, { level: 5, clan: "red" })).toBe(true);
    expect(isEligible(inst, { level: 4, clan: "red" })).toBe(false);
    expect(isEligible(inst, { level: 9, clan: "blue" })).toBe(false);
    expect(isEligible(inst, { level: 9, clan: null })).toBe(false);
  });
});

describe("publicView", () => {
  it("a local-time event's window is read in the caller's zone, or in the configured fallback when they have none", () => {
    const r = instanceFromTemplate(template, body(), { eventId: "evt_lt", now: NOW }, { maxWindowDays: 90 });
    if (!r.ok) throw new Error("fixture");
    const lt = { start: "2026-12-02T10:00", end: "2026-12-02T12:00" };
    const instance = { ...r.instance, localTime: lt, startTime: Date.parse("2026-12-01T20:00:00Z"), endTime: Date.parse("2026-12-03T00:00:00Z") };
    expect(publicView(instance, NOW, { level: 1, clan: null }, "Asia/Kolkata").localWindow).toMatchObject({ timeZone: "Asia/Kolkata", start: "2026-12-02T04:30:00.000Z" });
    expect(publicView(instance, NOW, { level: 1, clan: null, tz: "Europe/London" }, "Asia/Kolkata").localWindow).toMatchObject({ timeZone: "Europe/London", start: "2026-12-02T10:00:00.000Z" });
    // The topic its wave pushes go under is the current IANA name, whatever name the caller's device reports.
    for (const tz of ["Asia/Calcutta", "Asia/Kolkata"]) expect(publicView(instance, NOW, { level: 1, clan: null, tz }, "UTC").localWindow?.pushTopic, tz).toBe("Asia/Kolkata");
    expect(publicView(instance, NOW, { level: 1, clan: null, tz: "Europe/Kiev" }, "UTC").localWindow?.pushTopic).toBe("Europe/Kyiv");
    expect(publicView(instance, NOW, { level: 1, clan: null, tz: "Europe/London" }, "UTC").localWindow?.pushTopic).toBe("Europe/London");
  });
});
