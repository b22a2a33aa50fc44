// Alerts housekeeping through the real cron: drain health and response histograms deleted past their windows in
// bounded chunks, and resolved alerts kept 90 days. Each test runs the cron far ahead of the others' windows.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { DAY } from "./helpers";

const MIN = 60_000;

describe("housekeeping", () => {
  it("every run deletes drain health and response rows past their windows, in bounded chunks", async () => {
    const t = Math.floor((Date.now() + 500 * DAY) / MIN) * MIN;
    const cron = async (at: number) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    // 2,100 stale drain rows (21 min old: past the 15-min window and its 5-min margin), 2 stale histograms, and fresh ones.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2099)
       INSERT INTO sync_health (event_id, shard, minute, drains, failures) SELECT 'purge-ev', i, ?, 1, 0 FROM n`,
    ).bind(t - 21 * MIN).run();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO sync_health (event_id, shard, minute, drains, failures) VALUES ('purge-ev', 0, ?, 1, 0)").bind(t - 19 * MIN),
      ...[t - 11 * MIN, t - 30 * MIN, t - 9 * MIN].map((m, i) => env.DB.prepare("INSERT INTO response_histograms (isolate, minute, samples, buckets) VALUES (?, ?, 1, '{\"40\":1}')").bind(`purge-${i}`, m)),
    ]);
    const left = async () => ({
      stale: (await env.DB.prepare("SELECT COUNT(*) AS n FROM sync_health WHERE event_id = 'purge-ev' AND minute < ?").bind(t - 20 * MIN).first<any>()).n,
      fresh: (await env.DB.prepare("SELECT COUNT(*) AS n FROM sync_health WHERE event_id = 'purge-ev' AND minute >= ?").bind(t - 20 * MIN).first<any>()).n,
      histograms: (await env.DB.prepare("SELECT isolate FROM response_histograms WHERE isolate LIKE 'purge-%' ORDER BY isolate").all<any>()).results.map((r) => r.isolate),
    });
    await cron(t);
    const first = await left();
    // at most 4 × 500 rows per table per run (other tests' stale rows may share the chunks): some of the 2,100 remain
    expect(first.stale).toBeGreaterThanOrEqual(100);
    expect(first).toMatchObject({ fresh: 1, histograms: ["purge-2"] });
    await cron(t + MIN);
    expect(await left()).toEqual({ stale: 0, fresh: 1, histograms: ["purge-2"] });
  });

  it("resolved alerts are kept 90 days, then deleted by the run; open ones and owed deliveries stay", async () => {
    const t = Math.floor((Date.now() + 600 * DAY) / MIN) * MIN;
    const alert = (id: string, state: string, resolvedAt: number | null, pending: string | null) =>
      env.DB.prepare(
        `INSERT INTO alerts (alert_id, scope, kind, severity, state, value, threshold, opened_at, evaluated_at, resolved_at, delivery_pending)
         VALUES (?, ?, 'reward_distribution_errors', 'critical', ?, 1, 0, ?, ?, ?, ?)`,
      ).bind(id, `old-${id}`, state, t - 200 * DAY, t - 200 * DAY, resolvedAt, pending);
    await env.DB.batch([
      alert("alert_old", "resolved", t - 91 * DAY, null),
      alert("alert_recent", "resolved", t - 89 * DAY, null),
      alert("alert_owed", "resolved", t - 91 * DAY, "resolved"),
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: t, cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const ids = (await env.DB.prepare("SELECT alert_id FROM alerts WHERE alert_id IN ('alert_old', 'alert_recent', 'alert_owed') ORDER BY alert_id").all<any>()).results.map((r) => r.alert_id);
    expect(ids).toEqual(["alert_owed", "alert_recent"]);
  });
});
