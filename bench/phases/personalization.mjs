// Phase H: personalization. The latency of GET /v1/events/recommended for a player with 100 upcoming events (and a
// profile: level and needs posted as a game server would), as a ratio to a baseline measured in the same run and on
// the same events: GET /v1/events/upcoming, the feed that reads the same candidates from D1 without scoring them.
// Requests alternate between the two, sequentially, spread over 10 players (the per-player read budget is 300 per
// 10 s). Target: the recommendation costs at most twice the feed (one D1 batch, no object calls, scoring in memory).
import { performance } from "node:perf_hooks";
import { adminApi } from "../admin.mjs";
import { mintPlayerToken } from "../jwt.mjs";
import { fmtNum, summarize, target } from "../stats.mjs";

const EVENTS = 100;
const PLAYERS = 10;

export default {
  name: "personalization",
  title: "Phase H: personalization (recommendation latency with 100 upcoming events vs the upcoming feed)",

  async run(ctx) {
    const requests = Number(process.env.BENCH_PERSONALIZATION_REQUESTS ?? 300);
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    const run = Date.now().toString(36);
    const metrics = {};

    ctx.measured.step = "setup";
    // Mini events (exempt from the concurrency rules), one an hour from 1 h ahead, alternating types and tiers' rewards.
    const types = ["seasonal", "competitive", "cooperative", "crossover", "gacha"];
    for (const [i, type] of types.entries()) {
      await api
        .call("POST", "/v1/admin/templates", {
          templateId: `bench-reco-${type}`,
          type,
          tier: "mini",
          name: `Bench recommendations (${type})`,
          difficulty: 1 + i,
          objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 100, trackingKey: "pts" }],
          milestones: [{ index: 0, progressThreshold: 1, rewards: [{ rewardId: "r", type: "item", itemId: `item-${type}`, quantity: 1 }] }],
        })
        .catch(() => {}); // 409 on a rerun against the same state
    }
    const first = Date.now() + 3600_000;
    for (let i = 0; i < EVENTS; i++) {
      const start = first + i * 3600_000;
      await api.call("POST", "/v1/admin/events", { templateId: `bench-reco-${types[i % types.length]}`, startTime: new Date(start).toISOString(), endTime: new Date(start + 2 * 3600_000).toISOString() });
    }
    const withinHours = EVENTS + 2;
    const players = Array.from({ length: PLAYERS }, (_, i) => `reco-${run}-${i}`);
    for (const p of players) {
      // 204 with no body: fetch directly (the admin helper parses every answer as JSON).
      const res = await fetch(`${ctx.baseUrl}/v1/server/players/${p}/profile`, {
        method: "POST",
        headers: { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ level: 30, needs: { itemIds: ["item-gacha"], rewardTypes: ["item"] } }),
      });
      if (res.status !== 204) throw new Error(`profile post → ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const tokens = players.map((p) => mintPlayerToken(ctx.playerSecret, p, 3600, { level: 30 }));

    const get = async (path, token) => {
      const t = performance.now();
      const res = await fetch(`${ctx.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
      const body = await res.json();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms, body };
    };

    ctx.measured.step = "measure";
    const feed = [];
    const reco = [];
    let upcoming = 0;
    let top = null;
    // A few warm-up requests of each, not counted (the isolate's first D1 statements prepare their plans).
    for (let i = 0; i < 5; i++) {
      await get(`/v1/events/upcoming?withinHours=${withinHours}`, tokens[0]);
      await get(`/v1/events/recommended?withinHours=${withinHours}`, tokens[0]);
    }
    for (let i = 0; i < requests; i++) {
      const token = tokens[i % PLAYERS];
      const f = await get(`/v1/events/upcoming?withinHours=${withinHours}`, token);
      feed.push(f.ms);
      upcoming = f.body.events.length;
      const r = await get(`/v1/events/recommended?withinHours=${withinHours}`, token);
      reco.push(r.ms);
      top = r.body.events[0] ?? null;
    }
    metrics.upcomingEvents = upcoming;
    metrics.feedMs = summarize(feed);
    metrics.recommendedMs = summarize(reco);
    metrics.ratioP50 = metrics.feedMs.p50 ? metrics.recommendedMs.p50 / metrics.feedMs.p50 : null;
    metrics.ratioP95 = metrics.feedMs.p95 ? metrics.recommendedMs.p95 / metrics.feedMs.p95 : null;
    metrics.top = top && { type: top.type, score: top.score, breakdown: top.breakdown };
    ctx.log(`Phase H: recommended p50 ${metrics.recommendedMs.p50} ms vs upcoming ${metrics.feedMs.p50} ms (${fmtNum(metrics.ratioP50, 2)} ×), ${upcoming} upcoming events`);
    const rows = [
      [`baseline GET /v1/events/upcoming (${upcoming} events) p50/p95/p99 ms`, `${metrics.feedMs.p50} / ${metrics.feedMs.p95} / ${metrics.feedMs.p99}`, "", ""],
      [`GET /v1/events/recommended p50/p95/p99 ms`, `${metrics.recommendedMs.p50} / ${metrics.recommendedMs.p95} / ${metrics.recommendedMs.p99}`, "", ""],
      ["recommended ÷ upcoming, p50 / p95", `${fmtNum(metrics.ratioP50, 2)} / ${fmtNum(metrics.ratioP95, 2)}`, "", ""],
    ];
    const targets = [target("recommended ÷ upcoming p50 (100 upcoming events)", fmtNum(metrics.ratioP50, 2), "≤ 2", metrics.ratioP50 !== null && metrics.ratioP50 <= 2)];
    return { metrics, rows, targets };
  },
};
