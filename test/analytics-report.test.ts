// The report at expiry, end to end: real players' progress reaches D1 through the shards (so progress-sync latency
// is measured, not planted), the event ends, the event object's "report" row builds, stores and POSTs the report to
// a real HTTP receiver on 127.0.0.1 (test/webhook-server.ts), which verifies its Standard Webhooks signature and
// refuses the first delivery, so the retry is seen too. Then the stored report, the template's performance and the
// hourly cron's rollups.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { call } from "./helpers";
import { clearAlarms, earn, rewardEvent, settle, tickEvent } from "./rewards-helpers";

const server = (path: string) => `${env.REPORTS_WEBHOOK_URL.replace("/reports", "")}${path}`;
const received = async () => (await (await fetch(server("/__received"))).json()) as any[];
const reportRow = (eventId: string) => env.DB.prepare("SELECT webhook_status, posted_at, engagement_score FROM event_reports WHERE event_id = ?").bind(eventId).first<any>();

describe("the event report at expiry", () => {
  it("is stored, posted signed to the reports webhook (retried after a 503), and feeds the template's performance", async () => {
    const e = await rewardEvent();
    try {
      const started = Date.now();
      await earn(e.eventId, "rep-a", 10); // both milestones: complete
      await earn(e.eventId, "rep-b", 5); // half way
      await settle(e.eventId, e.shardCount);
      await call("POST", "/v1/telemetry/sessions", {
        body: { sessions: ["rep-a", "rep-b", "rep-c"].map((p) => ({ id: `${e.eventId}-${p}`, playerId: p, start: new Date(started).toISOString(), durationSec: 300, platform: "pc" })) },
      });
      await call("POST", "/v1/telemetry/purchases", { body: { purchases: [{ id: `${e.eventId}-buy`, playerId: "rep-a", amount: 4.5, currency: "USD", sku: "pass", eventId: e.eventId }] } });

      const ended = await call("POST", `/v1/admin/events/${e.eventId}/end-now`, { body: { reason: "report test" } });
      expect(ended.status).toBe(200);
      const endedAt = Date.parse(ended.json.endTime);
      // Before the report row is due, nothing is stored.
      expect(await reportRow(e.eventId)).toBeNull();

      await tickEvent(e.eventId, endedAt + 11_000);
      expect(await reportRow(e.eventId)).toMatchObject({ webhook_status: 503, posted_at: null });
      await tickEvent(e.eventId, endedAt + 13_000); // the row's 1 s backoff has passed
      const row = await reportRow(e.eventId);
      expect(row.webhook_status).toBe(200);
      expect(row.posted_at).toBeGreaterThan(0);

      const deliveries = (await received()).filter((r) => r.path === "/reports" && r.key === `report:${e.eventId}`);
      expect(deliveries.map((d) => [d.verified, d.status])).toEqual([
        [true, 503],
        [true, 200],
      ]);
      const posted = deliveries[1].report;
      expect(deliveries[1].type).toBe("event.report");
      expect(posted).toMatchObject({ eventId: e.eventId, final: true, state: "expired" });
      expect(posted.kpis).toMatchObject({
        participationRate: 0.6667, // rep-a and rep-b of the three with a session
        completionRate: 0.5, // rep-a of two
        rppu: 4.5,
        conversionRate: 0.5,
        activationSuccessRate: 1,
        repeatParticipationRate: 0,
        engagementScore: 58.33,
      });
      // Two participants synced through a shard's drain: two latency samples, each a real (small, non-negative) lag.
      expect(posted.kpis.progressSyncLatencyMs.samples).toBe(2);
      expect(posted.kpis.progressSyncLatencyMs.p99).toBeGreaterThanOrEqual(0);
      expect(posted.completionFunnel.map((f: any) => f.reached)).toEqual([2, 1]);
      expect(JSON.stringify(posted)).not.toContain("rep-");

      // The route now answers the stored report, in both forms.
      const stored = await call("GET", `/v1/admin/events/${e.eventId}/report`);
      expect(stored.json).toEqual(posted);
      const csv = await call("GET", `/v1/admin/events/${e.eventId}/report?format=csv`);
      expect(csv.json as string).toContain("kpi,,completionRate,0.5\n");

      // Template performance: its one reported event.
      const tpl = (await call("GET", `/v1/admin/templates/${ended.json.templateId}`)).json;
      expect(tpl.averageEngagementScore).toBe(58.33);
      expect(tpl.performance).toEqual({ averageCompletionRate: 0.5, averageRppu: 4.5, reportedEvents: 1 });
      // Once reports exist, a PUT cannot overwrite the computed engagement score.
      const { version: _v, usageCount: _u, lastUsed: _l, createdAt: _c, updatedAt: _up, performance: _p, ...writable } = tpl;
      const put = await call("PUT", `/v1/admin/templates/${tpl.templateId}`, { body: { ...writable, averageEngagementScore: 1 } });
      expect(put.json).toMatchObject({ version: 2, averageEngagementScore: 58.33 });
      const byCompletion = (await call("GET", "/v1/admin/templates?sort=completion&limit=200")).json.templates as any[];
      const ranked = byCompletion.filter((t) => t.performance.reportedEvents > 0);
      expect(ranked[0].performance.averageCompletionRate).toBeGreaterThanOrEqual(ranked[ranked.length - 1].performance.averageCompletionRate);
      expect((await call("GET", "/v1/admin/templates?sort=bogus")).status).toBe(400);

      // The hourly cron stores the event's hourly rollups and refreshes the report (retention is not known yet),
      // posting nothing again.
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "7 * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
      const rollups = (await env.DB.prepare("SELECT hour, joins, active_players, purchases, revenue FROM event_rollups WHERE event_id = ? ORDER BY hour").bind(e.eventId).all<any>()).results;
      expect(rollups).toHaveLength(1);
      expect(rollups[0]).toMatchObject({ joins: 2, purchases: 1, revenue: 4.5 });
      expect((await received()).filter((r) => r.path === "/reports" && r.key === `report:${e.eventId}`)).toHaveLength(2);
    } finally {
      await clearAlarms(e.eventId, e.shardCount);
    }
  });
});
