// Phase J: player-local-time events. A local-time event judges every progress update against the player's own
// window (their zone's wall clock, fixed for the event at their first accepted request) and answers each player view
// with that window (one call to the player's shard). This phase measures what that costs, as ratios to a baseline
// measured in the same run on the same Worker: an ordinary event made from the same template, with the same players.
//   - create: POST /v1/admin/events with `localTime` (the UTC envelope over every zone the runtime lists) vs with
//     startTime/endTime, both far ahead so the calls schedule nothing now;
//   - progress: POST /v1/events/:id/progress, one update, alternating between the two running events;
//   - view: GET /v1/events/:id, alternating likewise.
// Players carry `tz` claims across the six zones the issue names plus UTC. Requests are sequential (the latency of one
// request, not throughput), spread over players so no per-player budget refuses them.
import { performance } from "node:perf_hooks";
import { adminApi } from "../admin.mjs";
import { mintPlayerToken } from "../jwt.mjs";
import { fmtNum, summarize, target } from "../stats.mjs";

const ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "America/Santiago"];
const PLAYERS = 70;
const DAY = 86_400_000;
const day = (ms) => new Date(ms).toISOString().slice(0, 10);

export default {
  name: "localtime",
  title: "Phase J: local-time events (create, progress and view latency, ratio to an ordinary event)",

  async run(ctx) {
    const rounds = Number(process.env.BENCH_LOCALTIME_REQUESTS ?? 300);
    const creates = Number(process.env.BENCH_LOCALTIME_CREATES ?? 10);
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    const run = Date.now().toString(36);
    const metrics = { rounds, creates, zones: ZONES };

    ctx.measured.step = "setup";
    await api.createTemplate("bench-localtime").catch(() => {}); // 409 on a rerun against the same state
    const timed = async (fn) => {
      const t = performance.now();
      const out = await fn();
      return { ms: performance.now() - t, out };
    };

    ctx.measured.step = "create";
    // Far ahead (a month, a day apart) so the creates' notification plans are timers, not work done now.
    const createLocal = [];
    const createPlain = [];
    for (let i = 0; i < creates; i++) {
      const d = day(Date.now() + (30 + i) * DAY);
      const plain = await timed(() => api.call("POST", "/v1/admin/events", { templateId: "bench-localtime", startTime: `${d}T10:00:00Z`, endTime: `${d}T22:00:00Z` }));
      createPlain.push(plain.ms);
      const local = await timed(() => api.call("POST", "/v1/admin/events", { templateId: "bench-localtime", localTime: { start: `${d}T10:00`, end: `${d}T22:00` } }));
      createLocal.push(local.ms);
      // Cancelled again: a later run's creates should not find a calendar full of them.
      for (const e of [plain.out, local.out]) await api.call("POST", `/v1/admin/events/${e.eventId}/cancel`, { reason: "bench" }).catch(() => {});
    }
    metrics.createPlainMs = summarize(createPlain);
    metrics.createLocalMs = summarize(createLocal);

    ctx.measured.step = "events";
    const plain = await api.createActiveEvent({ templateId: "bench-localtime", shardCount: 1 });
    // From yesterday's to the day after tomorrow's midnight, wall clock: open now in every zone (offsets are within ±14 h).
    const local = await api.call("POST", "/v1/admin/events", {
      templateId: "bench-localtime",
      shardCount: 1,
      localTime: { start: `${day(Date.now() - DAY)}T00:00`, end: `${day(Date.now() + 2 * DAY)}T00:00` },
    });
    let state = local.state;
    for (let i = 0; state !== "active" && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await api.call("GET", `/v1/admin/events/${local.eventId}`)).state;
    }
    if (state !== "active") throw new Error(`local-time event ${local.eventId} is still ${state} 10 s after its envelope began`);
    ctx.measured.events = { plain: plain.eventId, local: local.eventId };

    const players = Array.from({ length: PLAYERS }, (_, i) => ({ id: `lt-${run}-${i}`, tz: ZONES[i % ZONES.length] }));
    const tokens = players.map((p) => mintPlayerToken(ctx.playerSecret, p.id, 3600, { tz: p.tz }));
    const seqs = new Map();
    const request = async (method, path, token, body) => {
      const t = performance.now();
      const res = await fetch(`${ctx.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
      return { ms, body: JSON.parse(text) };
    };
    const progress = (eventId, i) => {
      const key = `${eventId}:${i % PLAYERS}`;
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      return request("POST", `/v1/events/${eventId}/progress`, tokens[i % PLAYERS], { updates: [{ objectiveId: "gems", amount: 1, seq }] });
    };

    ctx.measured.step = "warm-up";
    // Every player's first request (their zone fixed, their row made) and the isolates' first statements, not counted.
    for (let i = 0; i < PLAYERS; i++) {
      await progress(plain.eventId, i);
      await progress(local.eventId, i);
    }
    ctx.measured.step = "measure";
    const progPlain = [];
    const progLocal = [];
    const viewPlain = [];
    const viewLocal = [];
    let window = null;
    for (let i = 0; i < rounds; i++) {
      progPlain.push((await progress(plain.eventId, i)).ms);
      progLocal.push((await progress(local.eventId, i)).ms);
      viewPlain.push((await request("GET", `/v1/events/${plain.eventId}`, tokens[i % PLAYERS])).ms);
      const v = await request("GET", `/v1/events/${local.eventId}`, tokens[i % PLAYERS]);
      viewLocal.push(v.ms);
      window = v.body.localWindow;
    }
    if (window?.state !== "open") throw new Error(`the local-time event's window reads ${JSON.stringify(window)}, not open`);
    Object.assign(metrics, {
      progressPlainMs: summarize(progPlain),
      progressLocalMs: summarize(progLocal),
      viewPlainMs: summarize(viewPlain),
      viewLocalMs: summarize(viewLocal),
    });
    const ratio = (a, b) => (a && b ? a / b : null);
    metrics.createRatioP50 = ratio(metrics.createLocalMs.p50, metrics.createPlainMs.p50);
    metrics.progressRatioP50 = ratio(metrics.progressLocalMs.p50, metrics.progressPlainMs.p50);
    metrics.viewRatioP50 = ratio(metrics.viewLocalMs.p50, metrics.viewPlainMs.p50);
    ctx.log(
      `Phase J: create ${fmtNum(metrics.createRatioP50, 2)}×, progress ${fmtNum(metrics.progressRatioP50, 2)}×, view ${fmtNum(metrics.viewRatioP50, 2)}× an ordinary event (p50)`,
    );
    const lat = (s) => `${s.p50} / ${s.p95} / ${s.p99}`;
    const rows = [
      [`create, ordinary event, p50/p95/p99 ms (${creates})`, lat(metrics.createPlainMs), "", ""],
      [`create, local-time event (envelope over every zone), p50/p95/p99 ms`, lat(metrics.createLocalMs), "", ""],
      [`baseline progress, ordinary event, p50/p95/p99 ms (${rounds})`, lat(metrics.progressPlainMs), "", ""],
      [`progress, local-time event (${ZONES.length} zones), p50/p95/p99 ms`, lat(metrics.progressLocalMs), "", ""],
      [`baseline GET /v1/events/:id, ordinary event, p50/p95/p99 ms`, lat(metrics.viewPlainMs), "", ""],
      [`GET /v1/events/:id, local-time event (own window), p50/p95/p99 ms`, lat(metrics.viewLocalMs), "", ""],
      ["local-time ÷ ordinary p50: create / progress / view", `${fmtNum(metrics.createRatioP50, 2)} / ${fmtNum(metrics.progressRatioP50, 2)} / ${fmtNum(metrics.viewRatioP50, 2)}`, "", ""],
    ];
    const targets = [
      target("local-time progress ÷ ordinary progress, p50", fmtNum(metrics.progressRatioP50, 2), "≤ 1.5", metrics.progressRatioP50 !== null && metrics.progressRatioP50 <= 1.5),
      target("local-time view ÷ ordinary view, p50 (one shard call)", fmtNum(metrics.viewRatioP50, 2), "≤ 2", metrics.viewRatioP50 !== null && metrics.viewRatioP50 <= 2),
    ];
    return { metrics, rows, targets };
  },
};
