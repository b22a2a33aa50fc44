// Every KPI of an event report on a hand-built data set whose answers are worked out below, through the real D1:
// telemetry goes in through the ingest API, the rest (progress projections, claims, notifications, a transition) as
// the actors would have projected it. Then the report route as JSON and CSV, and the template library's sorts.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../src/db/analytics";
import { DAY, HOUR, call, createEvent, createTemplate, inMs } from "./helpers";

const MIN = 60_000;
let tpl: { templateId: string };
let earlier: { eventId: string };
let ev: { eventId: string; startTime: string; endTime: string };
let s = 0;
let e = 0;

const progress = (eventId: string, playerId: string, o: Record<string, number>, unlocked: number[], createdAt: number, lastUpdated: number, syncedAt: number | null) =>
  env.DB.prepare(
    `INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq, revision, is_synced, last_updated, created_at, synced_at)
     VALUES (?1 || ':' || ?2, ?2, ?1, ?3, ?4, 0, 1, 1, 1, ?5, ?6, ?7)`,
  ).bind(eventId, playerId, JSON.stringify(o), JSON.stringify(unlocked), lastUpdated, createdAt, syncedAt);

beforeAll(async () => {
  tpl = await createTemplate();
  // Far ahead of now, so telemetry other test files send (around now) never falls in these windows.
  earlier = await createEvent(tpl.templateId, { startTime: inMs(20 * DAY), endTime: inMs(20 * DAY + HOUR) });
  ev = await createEvent(tpl.templateId, { startTime: inMs(21 * DAY), endTime: inMs(21 * DAY + 3 * HOUR) });
  s = Date.parse(ev.startTime);
  e = Date.parse(ev.endTime);
  const at = (ms: number) => new Date(ms).toISOString();
  const session = (id: string, playerId: string, start: number, durationSec: number) => ({ id: `${ev.eventId}-${id}`, playerId, start: at(start), durationSec, platform: "pc" });
  const sessions = await call("POST", "/v1/telemetry/sessions", {
    body: {
      sessions: [
        session("p1", "kp1", s + 5 * MIN, 3600), // hour 0
        session("p2", "kp2", s + 20 * MIN, 1800), // hour 0
        session("p3", "kp3", s - 30 * MIN, 7200), // started before the event, overlaps its start
        session("n1", "kn1", s + 2 * HOUR, 600), // hour 2
        session("n2", "kn2", s + HOUR, 600), // hour 1
        session("n3", "kn3", s + 20 * HOUR, 3600), // first day, but after the event's 3 h window
        session("n4", "kn4", s - 3 * HOUR, 3600), // over before the start: not active
        session("n5", "kn5", s + 150 * MIN, 60), // hour 2
        // After the end: retention.
        session("p1-back", "kp1", e + 2 * DAY, 60),
        session("p2-back", "kp2", e + 6.9 * DAY, 60),
        session("n1-back", "kn1", e + DAY, 60),
        session("n2-late", "kn2", e + 8 * DAY, 60),
      ],
    },
  });
  expect(sessions.json.inserted).toBe(12);
  const buy = (id: string, playerId: string, amount: number, atMs: number, eventId?: string) => ({ id: `${ev.eventId}-${id}`, playerId, amount, currency: "USD", sku: "gems", at: at(atMs), ...(eventId ? { eventId } : {}) });
  await call("POST", "/v1/telemetry/purchases", {
    body: {
      purchases: [
        buy("b1", "kp1", 10, s + HOUR, ev.eventId), // tagged: counts (hour 1)
        buy("b2", "kp2", 5, s + 2 * HOUR), // untagged, participant, in window: counts (hour 2)
        buy("b3", "kn1", 7, s + 2 * HOUR), // untagged, not a participant: not the event's
        buy("b4", "kn2", 20, s + 30 * MIN, ev.eventId), // tagged: counts, a payer who is not a participant (hour 0)
        buy("b5", "kp1", 5, e + HOUR), // untagged, after the window: not the event's
      ],
    },
  });
  // Two objectives (snowflakes 100, bosses 5): "≥ 75 % of objectives" means both.
  await env.DB.batch([
    progress(ev.eventId, "kp1", { snowflakes: 100, bosses: 5 }, [0, 1, 2], s + 10 * MIN, s + 20 * MIN, s + 20 * MIN + 100),
    progress(ev.eventId, "kp2", { snowflakes: 100, bosses: 4 }, [0, 1], s + 30 * MIN, s + 40 * MIN, s + 40 * MIN + 200),
    progress(ev.eventId, "kp3", { snowflakes: 10 }, [], s + 70 * MIN, s + 75 * MIN, s + 75 * MIN + 300),
    progress(ev.eventId, "kp4", { snowflakes: 120, bosses: 5 }, [0, 1, 2], s + 80 * MIN, s + 90 * MIN, null),
    // The earlier run of the same template: kp1 and kp2 come back.
    progress(earlier.eventId, "kp1", { snowflakes: 1 }, [], s - DAY, s - DAY, s - DAY),
    progress(earlier.eventId, "kp2", { snowflakes: 1 }, [], s - DAY, s - DAY, s - DAY),
    progress(earlier.eventId, "kx9", { snowflakes: 1 }, [], s - DAY, s - DAY, s - DAY),
    env.DB.prepare("INSERT INTO event_transitions (event_id, seq, from_state, to_state, at, cause, actor) VALUES (?, 1000, 'scheduled', 'active', ?, 'timer', 'system')").bind(ev.eventId, s),
    ...[
      ["kp1", 0, "claim"],
      ["kp1", 1, "claim"],
      ["kp2", 0, "auto"],
    ].map(([p, m, source]) =>
      env.DB.prepare("INSERT INTO rewards_claimed (claim_id, player_id, event_id, milestone_index, rewards, source, signature, claimed_at) VALUES (?, ?, ?, ?, '[]', ?, 'sig', ?)")
        .bind(`${ev.eventId}-${p}-${m}`, p, ev.eventId, m, source, s + HOUR),
    ),
    // The notification record as the event object and push consumer leave it: hand-built, so the planned rows go first.
    env.DB.prepare("DELETE FROM notification_queue WHERE event_id = ?").bind(ev.eventId),
    ...[
      ["na", "start", "sent", null],
      ["nb", "start", "failed", "kp3"],
      ["nc", "milestone", "sent", "kp1"],
      ["nd", "milestone", "skipped", "kp2"],
    ].map(([id, type, status, target]) =>
      env.DB.prepare("INSERT INTO notification_queue (notification_id, event_id, notification_type, target_player_id, scheduled_time, status, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?)")
        .bind(`${ev.eventId}-${id}`, ev.eventId, type, target, s, status, s),
    ),
    env.DB.prepare("INSERT INTO notification_interactions (notification_id, player_id, shown_at, clicked_at) VALUES (?1, 'kp1', ?2, ?2), (?1, 'kp2', ?2, NULL)").bind(`${ev.eventId}-na`, s + MIN),
  ]);
});

describe("event KPIs on a hand-built data set", () => {
  it("computes each KPI as the README defines it", async () => {
    const report = (await buildReport(env.DB, ev.eventId, e + 8 * DAY))!;
    expect(report.retentionKnown).toBe(true);
    expect(report.kpis).toEqual({
      // Active in the first 24 h: kp1, kp2, kp3, kn1, kn2, kn3, kn5 (7; kn4 was gone, kp4 sent no session); joined: 3.
      participationRate: 0.4286,
      // Participants kp1..kp4; both objectives done: kp1, kp4.
      completionRate: 0.5,
      // 10 + 5 + 20 from kp1, kp2, kn2.
      rppu: 11.67,
      // Paying participants kp1, kp2 of 4.
      conversionRate: 0.5,
      // Participants back within 7 days: kp1, kp2 of 4. Others active during the 3 h: kn1, kn2, kn5; back: kn1 only.
      retention7d: { participants: 0.5, nonParticipants: 0.3333 },
      activationSuccessRate: 1,
      // kp4's row has no synced_at (written before the column existed): 3 samples.
      progressSyncLatencyMs: { p50: 200, p95: 300, p99: 300, samples: 3 },
      // Push legs: sent na, nc; failed nb (nd had no push leg).
      notificationDeliveryRate: 0.6667,
      // kp1 and kp2 had joined the earlier run of this template.
      repeatParticipationRate: 0.5,
      // (3/7 + 0.5) / 2 × 100
      engagementScore: 46.43,
      counts: { activeFirstDay: 7, participants: 4, completers: 2, revenue: 35, payers: 3, notificationsSent: 2, notificationsFailed: 1 },
    });
  });

  it("covers the curve per hour, the milestone funnel, reward claims and the notification funnel", async () => {
    const report = (await buildReport(env.DB, ev.eventId, e + 8 * DAY))!;
    expect(report.participationByHour.map((h) => [h.hour, h.joins, h.participants, h.activePlayers, h.purchases, h.revenue])).toEqual([
      [0, 2, 2, 2, 1, 20],
      [1, 2, 4, 1, 1, 10],
      [2, 0, 4, 2, 1, 5],
    ]);
    expect(report.participationByHour[1].hourStart).toBe(new Date(s + HOUR).toISOString());
    expect(report.completionFunnel.map((f) => [f.milestoneIndex, f.reached, f.share])).toEqual([
      [0, 3, 0.75],
      [1, 3, 0.75],
      [2, 2, 0.5],
    ]);
    expect(report.rewardClaims).toEqual([
      { milestoneIndex: 0, claims: 2, bySource: { claim: 1, auto: 1 } },
      { milestoneIndex: 1, claims: 1, bySource: { claim: 1 } },
    ]);
    expect(report.notificationFunnel).toEqual([
      { type: "milestone", sent: 2, pushDelivered: 1, pushFailed: 0, shown: 0, clicked: 0 },
      { type: "start", sent: 2, pushDelivered: 1, pushFailed: 1, shown: 2, clicked: 1 },
    ]);
    // Aggregates only: no player id anywhere in the report.
    expect(JSON.stringify(report)).not.toMatch(/k[pn]\d/);
  });

  it("leaves retention unknown (null) until 7 days after the end", async () => {
    const report = (await buildReport(env.DB, ev.eventId, e + 6 * DAY))!;
    expect(report.retentionKnown).toBe(false);
    expect(report.kpis.retention7d).toBeNull();
  });

  it("GET …/report answers a running event's report live, as JSON and as CSV; bad input is a 4xx", async () => {
    const res = await call("GET", `/v1/admin/events/${ev.eventId}/report`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ eventId: ev.eventId, templateId: tpl.templateId, final: false, retentionKnown: false, kpis: { participationRate: 0.4286, completionRate: 0.5, rppu: 11.67 } });
    // The event has not started by the clock: no hours yet.
    expect(res.json.participationByHour).toEqual([]);

    const csv = await call("GET", `/v1/admin/events/${ev.eventId}/report?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (csv.json as string).trim().split("\n");
    expect(lines[0]).toBe("section,key,metric,value");
    expect(lines).toContain("kpi,,participationRate,0.4286");
    expect(lines).toContain("kpi,,retention7d.participants,");
    expect(lines).toContain("milestone,2,reached,2");
    expect(lines).toContain("claims,0,source.auto,1");
    expect(lines).toContain("notification,start,clicked,1");

    expect((await call("GET", `/v1/admin/events/${ev.eventId}/report?format=xml`)).status).toBe(400);
    const missing = await call("GET", "/v1/admin/events/evt_doesnotexist0000/report");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("event_not_found");
    expect((await call("GET", `/v1/admin/events/${ev.eventId}/report`, { token: null })).status).toBe(401);
  });
});
