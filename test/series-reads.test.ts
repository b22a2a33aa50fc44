// Reading series for ops: the list (GET /v1/admin/series, from D1) and the paged occurrences of one series, through
// the real Worker, SeriesActor, scheduler, event objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SeriesActor } from "../src/actors/series/series-actor";
import { DAY, apiKey, call, createTemplate, runInDurableObject } from "./helpers";

const seriesStub = (id: string) => env.SERIES_ACTOR.get(env.SERIES_ACTOR.idFromName(id));
/** Runs what is due in the series object now: its outbox writes D1 (the list reads D1). */
const settle = (id: string) => runInDurableObject(seriesStub(id), (o: SeriesActor) => o.tick(Date.now()));
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

async function createSeries(body: Record<string, unknown>) {
  const res = await call("POST", "/v1/admin/series", { body });
  if (res.status !== 201) throw new Error(`series create failed: ${res.status} ${JSON.stringify(res.json)}`);
  await settle(res.json.seriesId);
  return res.json;
}

describe("GET /v1/admin/series: the ops list", () => {
  it("lists newest first with rule, status, next occurrence and counts; filters by status and template; pages by cursor", async () => {
    const t = await createTemplate();
    const a = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00`, duration: "PT2H", timeZone: "Europe/Berlin", horizonDays: 4 });
    const b = await createSeries({ templateId: t.templateId, rrule: "FREQ=WEEKLY;BYDAY=SA", dtstart: `${day(2)}T09:00`, duration: "PT1H", timeZone: "America/New_York", horizonDays: 20 });
    const c = await createSeries({ templateId: t.templateId, rrule: "FREQ=DAILY;INTERVAL=2", dtstart: `${day(1)}T20:00`, duration: "PT30M", timeZone: "UTC", horizonDays: 6 });
    expect((await call("POST", `/v1/admin/series/${b.seriesId}/pause`)).status).toBe(200);
    await settle(b.seriesId);

    const all = await call("GET", `/v1/admin/series?templateId=${t.templateId}`);
    expect(all.status).toBe(200);
    expect(all.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([c.seriesId, b.seriesId, a.seriesId]);
    expect(all.json.nextCursor).toBeNull();
    const first = all.json.series[2];
    const liveA = a.occurrences.filter((o: { status: string }) => o.status === "scheduled");
    expect(first).toMatchObject({
      seriesId: a.seriesId,
      templateId: t.templateId,
      status: "active",
      rule: { rrule: "FREQ=DAILY", dtstart: `${day(1)}T10:00:00`, timeZone: "Europe/Berlin", duration: "PT2H" },
      nextOccurrence: liveA[0].startTime,
      counts: { scheduled: liveA.length, shifted: 0, skipped: 0, cancelled: 0 },
    });
    // The paused series: its occurrences not yet started were cancelled, so none is next.
    expect(all.json.series[1]).toMatchObject({ status: "paused", nextOccurrence: null, counts: { scheduled: 0, cancelled: b.occurrences.length } });

    const paused = await call("GET", `/v1/admin/series?templateId=${t.templateId}&status=paused`);
    expect(paused.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([b.seriesId]);
    const anyPaused = await call("GET", "/v1/admin/series?status=paused&limit=100");
    expect(anyPaused.json.series.every((s: { status: string }) => s.status === "paused")).toBe(true);

    const p1 = await call("GET", `/v1/admin/series?templateId=${t.templateId}&limit=2`);
    expect(p1.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([c.seriesId, b.seriesId]);
    expect(p1.json.nextCursor).toEqual(expect.any(String));
    const p2 = await call("GET", `/v1/admin/series?templateId=${t.templateId}&limit=2&cursor=${encodeURIComponent(p1.json.nextCursor)}`);
    expect(p2.json.series.map((s: { seriesId: string }) => s.seriesId)).toEqual([a.seriesId]);
    expect(p2.json.nextCursor).toBeNull();

    // A viewer may read the list; a player may not.
    const viewer = await apiKey({ name: "series-viewer", role: "viewer" });
    expect((await call("GET", `/v1/admin/series?templateId=${t.templateId}`, { token: viewer.key })).json.series).toHaveLength(3);
    expect((await call("GET", `/v1/admin/series/${a.seriesId}`, { token: viewer.key })).status).toBe(200);
    expect((await call("POST", `/v1/admin/series/${a.seriesId}/pause`, { token: viewer.key })).status).toBe(403);
  });

  it("refuses bad parameters with a 422 naming the field", async () => {
    for (const [q, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["status=running", "status"],
      ["cursor=not-a-cursor", "cursor"],
      ["colour=red", ""],
    ] as const) {
      const res = await call("GET", `/v1/admin/series?${q}`);
      expect(res.status, q).toBe(422);
      expect(res.json.error.code, q).toBe("validation_failed");
      if (field) expect(res.json.error.details.fields.map((f: { path: string }) => f.path), q).toContain(field);
    }
  });
});
