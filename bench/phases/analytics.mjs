// Phase G: analytics. (1) Telemetry ingest rate: batches of 500 sessions (the API's maximum) posted `concurrency` at
// a time until BENCH_ANALYTICS_ROWS (default 1,000,000) are stored, as a game server's backfill would. (2) The cost of
// an event report with that much telemetry in D1: a running event (computed live, never the stored copy) whose first
// 24 h hold about half the sessions, with BENCH_ANALYTICS_PLAYERS joined players; GET …/report timed from here, and
// the rows D1 read for it taken from the route's Server-Timing header. No target: both are reported as measured.
import { performance } from "node:perf_hooks";
import { adminApi } from "../admin.mjs";
import { mintPlayerToken } from "../jwt.mjs";
import { fmtNum, summarize } from "../stats.mjs";

const BATCH = 500;

export default {
  name: "analytics",
  title: "Phase G: analytics (telemetry ingest rate; report query cost with 1,000,000 telemetry rows)",

  async run(ctx) {
    const total = Number(process.env.BENCH_ANALYTICS_ROWS ?? 1_000_000);
    const concurrency = Number(process.env.BENCH_ANALYTICS_CONCURRENCY ?? 16);
    const joiners = Number(process.env.BENCH_ANALYTICS_PLAYERS ?? 1_000);
    const distinctPlayers = Number(process.env.BENCH_ANALYTICS_DISTINCT ?? 100_000);
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    const metrics = {};
    const rows = [];

    ctx.measured.step = "setup";
    await api.createTemplate("bench-analytics").catch(() => {}); // 409 on a rerun against the same state
    const event = await api.createActiveEvent({ templateId: "bench-analytics", shardCount: 4 });
    const start = Date.parse(event.startTime);
    const run = Date.now().toString(36);

    ctx.measured.step = "join";
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < joiners) {
        const id = `an-p${next++}`;
        const res = await fetch(`${ctx.baseUrl}/v1/events/${event.eventId}/join`, { method: "POST", headers: { authorization: `Bearer ${mintPlayerToken(ctx.playerSecret, id)}` } });
        await res.text();
      }
    }));

    // (1) ingest: sessions spread over [start − 12 h, start + 36 h), so about half fall in the event's first day
    ctx.measured.step = "ingest";
    ctx.log(`Phase G: ingesting ${total} sessions in batches of ${BATCH}, ${concurrency} in flight…`);
    const batches = Math.ceil(total / BATCH);
    const latencies = [];
    let sent = 0;
    let inserted = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (sent < batches) {
        const b = sent++;
        const sessions = Array.from({ length: Math.min(BATCH, total - b * BATCH) }, (_, i) => {
          const n = b * BATCH + i;
          return { id: `${run}-${n}`, playerId: `an-p${(n * 7919) % distinctPlayers}`, start: new Date(start - 12 * 3600_000 + ((n * 104729) % (48 * 3600_000))).toISOString(), durationSec: 60 + (n % 1800), platform: n % 2 ? "ios" : "android" };
        });
        const t = performance.now();
        const res = await fetch(`${ctx.baseUrl}/v1/telemetry/sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ sessions }),
        });
        const body = await res.json().catch(() => ({}));
        latencies.push(performance.now() - t);
        if (res.status === 200) inserted += body.inserted;
        else failed++;
      }
    }));
    const ingestSec = (performance.now() - t0) / 1000;
    metrics.ingest = { rows: inserted, seconds: ingestSec, rowsPerSec: inserted / ingestSec, failedBatches: failed, batchLatencyMs: summarize(latencies) };
    ctx.log(`Phase G: ${inserted} sessions in ${ingestSec.toFixed(1)} s (${fmtNum(metrics.ingest.rowsPerSec, 0)} rows/s)`);
    rows.push(["telemetry ingest (sessions/s, batches of 500)", `${fmtNum(metrics.ingest.rowsPerSec, 0)} (${inserted} in ${ingestSec.toFixed(1)} s, ${failed} batches failed)`, "", ""]);
    rows.push(["ingest batch latency p50/p95/p99 (ms)", `${metrics.ingest.batchLatencyMs.p50} / ${metrics.ingest.batchLatencyMs.p95} / ${metrics.ingest.batchLatencyMs.p99}`, "", ""]);

    // (2) the report query, five times
    ctx.measured.step = "report";
    const times = [];
    let rowsRead = null;
    let report = null;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const res = await fetch(`${ctx.baseUrl}/v1/admin/events/${event.eventId}/report`, { headers: { authorization: `Bearer ${ctx.adminToken}` }, signal: AbortSignal.timeout(120_000) });
      report = await res.json();
      times.push(performance.now() - t);
      rowsRead = Number(/rows read (\d+)/.exec(res.headers.get("server-timing") ?? "")?.[1] ?? NaN);
    }
    metrics.report = { ms: summarize(times), rowsRead, activeFirstDay: report?.kpis?.counts?.activeFirstDay ?? null, participants: report?.kpis?.counts?.participants ?? null };
    rows.push([`report query with ${inserted} telemetry rows p50/max (ms)`, `${metrics.report.ms.p50} / ${metrics.report.ms.max}`, "", ""]);
    rows.push(["rows read by one report (D1 meta)", `${rowsRead} (${metrics.report.activeFirstDay} active in the first day, ${metrics.report.participants} participants)`, "", ""]);
    return { metrics, rows, targets: [] };
  },
};
