// Phase C: clans. 10,000 players in 500 clans post progress to a cooperative event's clan objective. (1) Clan-total
// freshness: for sampled updates, the time from the ack to the clan total (ops clan view) including it, and to the
// `clan_progress` frame on a clan member's socket (target p99 ≤ 1 s). (2) Nothing lost: every clan's total equals
// the sum of its members' acknowledged clan-objective progress. (3) D1 statements per contribution: the shards'
// drains (the clan path itself writes none to D1). Every step reports what it measured; a failed step is a missed
// target, never a crash of the bench.
import { performance } from "node:perf_hooks";
import { adminApi } from "../admin.mjs";
import { mintPlayerToken } from "../jwt.mjs";
import { summarize, target } from "../stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: "clans",
  title: "Phase C: clans (10,000 players in 500 clans: clan-total freshness, lost contributions, D1 statements)",

  async run(ctx) {
    const playerCount = Number(process.env.BENCH_CLAN_PLAYERS ?? 10_000);
    const clanCount = Number(process.env.BENCH_CLANS ?? 500);
    const samples = Number(process.env.BENCH_CLAN_SAMPLES ?? 200);
    const concurrency = Number(process.env.BENCH_CLAN_CONCURRENCY ?? 64);
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    const rows = [];
    const targets = [];
    const metrics = {};

    ctx.measured.step = "setup";
    await api.call("POST", "/v1/admin/templates", {
      templateId: "bench-clans",
      type: "cooperative",
      tier: "mini",
      name: "Bench clans",
      objectives: [
        { objectiveId: "damage", description: "Clan damage", type: "collect", targetValue: 1e9, trackingKey: "bench.damage" },
        { objectiveId: "attacks", description: "Own attacks", type: "participate", targetValue: 10, trackingKey: "bench.attack" },
      ],
      milestones: [{ index: 0, progressThreshold: 1, rewards: [] }],
      clan: { objectiveIds: ["damage"], milestones: [{ index: 0, progressThreshold: 1, rewards: [] }] },
    }, [201, 409]);
    const event = await api.createActiveEvent({ templateId: "bench-clans", shardCount: 8, expectedParticipants: playerCount });
    const players = Array.from({ length: playerCount }, (_, i) => ({ id: `clan-p${i}`, clan: `clan-${i % clanCount}`, seq: 0 }));
    for (const p of players) p.token = mintPlayerToken(ctx.playerSecret, p.id, 3600, { clan: p.clan });
    const acked = new Map();
    const post = async (p, amount) => {
      p.seq++;
      const res = await fetch(`${ctx.baseUrl}/v1/events/${event.eventId}/progress`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.token}`, "content-type": "application/json" },
        body: JSON.stringify({ updates: [{ objectiveId: "damage", amount, seq: p.seq }] }),
      });
      await res.text();
      if (res.status === 200) acked.set(p.clan, (acked.get(p.clan) ?? 0) + amount);
      return res.status;
    };

    // (1) load: every player posts once, `concurrency` requests at a time
    ctx.measured.step = "load";
    ctx.log(`Phase C: event ${event.eventId}; ${playerCount} players in ${clanCount} clans posting…`);
    const t0 = performance.now();
    let next = 0;
    let refused = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < players.length) {
        const p = players[next++];
        if ((await post(p, 1 + (next % 10))) !== 200) refused++;
      }
    }));
    metrics.loadSec = (performance.now() - t0) / 1000;
    metrics.refused = refused;
    ctx.log(`Phase C: load done in ${metrics.loadSec.toFixed(1)} s; ${samples} freshness samples…`);
    rows.push(["load: one update per player", `${playerCount} in ${metrics.loadSec.toFixed(1)} s (${refused} refused)`, "", ""]);

    // (2) freshness, sequentially: ack → the clan total in the ops view, and → a clan_progress frame on a member's socket
    ctx.measured.step = "freshness";
    const http = [];
    const frames = [];
    for (let i = 0; i < samples; i++) {
      const p = players[(i * 37) % players.length];
      const watcher = players.find((w) => w.clan === p.clan && w !== p);
      let socket = null;
      // Fixed before the post: the predicate runs when a frame arrives, after `acked` has counted this update.
      const wantTotal = (acked.get(p.clan) ?? 0) + 1;
      const frameAt = new Promise((resolve) => {
        try {
          socket = new WebSocket(`${ctx.baseUrl.replace(/^http/, "ws")}/v1/events/${event.eventId}/live`, ["live-events.v1", watcher.token]);
          socket.onmessage = (m) => {
            const f = JSON.parse(String(m.data));
            if (f.type === "clan_progress" && f.total >= wantTotal) resolve(performance.now());
          };
        } catch {
          resolve(null);
        }
      });
      if (socket) await new Promise((r) => { socket.onopen = r; socket.onerror = r; });
      const status = await post(p, 1);
      const ackAt = performance.now();
      if (status !== 200) continue;
      const want = acked.get(p.clan);
      for (;;) {
        const view = await api.call("GET", `/v1/admin/events/${event.eventId}/clans/${p.clan}`);
        if (view.total >= want) break;
        if (performance.now() - ackAt > 10_000) throw new Error(`clan ${p.clan} total ${want} not visible after 10 s`);
        await sleep(10);
      }
      http.push(performance.now() - ackAt);
      const at = await Promise.race([frameAt, sleep(3000).then(() => null)]);
      if (at !== null) frames.push(Math.max(0, at - ackAt));
      socket?.close(1000);
    }
    metrics.freshnessHttp = summarize(http);
    metrics.freshnessFrame = summarize(frames);
    const ok = (s) => s.p99 !== null && s.p99 <= 1000;
    rows.push(["clan total visible after the ack p50/p99 (ms)", `${metrics.freshnessHttp.p50} / ${metrics.freshnessHttp.p99}`, "p99 ≤ 1000", ok(metrics.freshnessHttp) ? "met" : "MISSED"]);
    rows.push(["clan_progress frame after the ack p50/p99 (ms)", `${metrics.freshnessFrame.p50} / ${metrics.freshnessFrame.p99} (${frames.length} frames)`, "p99 ≤ 1000", ok(metrics.freshnessFrame) ? "met" : "MISSED"]);
    targets.push(target("clan-total freshness p99", metrics.freshnessHttp.p99, "≤ 1000 ms", ok(metrics.freshnessHttp)));

    // (3) nothing lost: every clan's total is the sum of what its members had acknowledged
    ctx.measured.step = "audit";
    await sleep(1000);
    let lost = 0;
    let mismatched = 0;
    for (const [clan, sum] of acked) {
      const view = await api.call("GET", `/v1/admin/events/${event.eventId}/clans/${clan}`);
      if (view.total !== sum) mismatched++;
      lost += sum - view.total;
    }
    metrics.lostContributions = lost;
    metrics.clansMismatched = mismatched;
    rows.push(["lost contributions (acked − clan totals)", `${lost} over ${acked.size} clans (${mismatched} differ)`, "0", lost === 0 && mismatched === 0 ? "met" : "MISSED"]);
    targets.push(target("0 lost contributions", lost, "0", lost === 0 && mismatched === 0));

    // (4) D1 statements per contribution: the shards' drains over the updates they applied
    ctx.measured.step = "d1";
    const drain = await api.waitDrained(event.eventId, 60_000, ctx.log);
    const ingest = drain.summary?.ingest ?? null;
    metrics.d1StatementsPerContribution = ingest?.updatesApplied ? ingest.d1Statements / ingest.updatesApplied : null;
    rows.push(["D1 statements per contribution (shard drains; the clan path adds none)", `${ingest?.d1Statements ?? "?"} / ${ingest?.updatesApplied ?? "?"}`, "", ""]);
    return { metrics, rows, targets };
  },
};
