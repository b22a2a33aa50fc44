// Phase L: leaderboards. (1) Rank freshness: for sampled progress updates, the time from the ack to the new score
// being visible in GET /leaderboard/me and to the player's `rank` frame on the live socket (target p99 ≤ 1 s).
// (2) Nothing lost: after the load, the board's scores add up to the acknowledged progress. (3) 1,000,000 entries
// loaded into one board object: top-100, around-me and score-move latency inside the object (target p99 ≤ 5 ms),
// and the workerd RSS it costs per entry. Every step reports what it measured; a failed step is a missed target,
// never a crash of the bench.
import { performance } from "node:perf_hooks";
import { adminApi, describeError } from "../admin.mjs";
import { mintPlayerToken } from "../jwt.mjs";
import { groupProcesses } from "../procmem.mjs";
import { fmtNum, summarize, target } from "../stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const workerdRss = (ctx) => groupProcesses(ctx.serverPid, ctx.port).filter((p) => p.label.startsWith("workerd")).reduce((n, p) => n + p.rss, 0);

export default {
  name: "leaderboard",
  title: "Phase L: leaderboards (rank freshness, lost updates, 1,000,000 entries in one board)",

  async run(ctx) {
    const players = Number(process.env.BENCH_BOARD_PLAYERS ?? 40);
    const samples = Number(process.env.BENCH_BOARD_SAMPLES ?? 200);
    const entries = Number(process.env.BENCH_BOARD_ENTRIES ?? 1_000_000);
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    const rows = [];
    const targets = [];
    const metrics = {};

    ctx.measured.step = "setup";
    await api.call("POST", "/v1/admin/templates", {
      templateId: "bench-board",
      type: "competitive",
      tier: "mini",
      name: "Bench board",
      objectives: [{ objectiveId: "wins", description: "Win", type: "collect", targetValue: 1e9, trackingKey: "bench.wins" }],
      milestones: [{ index: 0, progressThreshold: 1, rewards: [] }],
      leaderboard: { source: { kind: "trackingKey", trackingKey: "bench.wins" }, operator: "incr" },
    }, [201, 409]);
    const event = await api.createActiveEvent({ templateId: "bench-board", shardCount: 2, expectedParticipants: 5000 });
    ctx.log(`Phase L: event ${event.eventId}; ${samples} freshness samples over ${players} players…`);

    // (1) freshness, sequentially so each sample measures one update's path and nothing else queues behind it
    ctx.measured.step = "freshness";
    const http = [];
    const frames = [];
    let acked = 0;
    const ids = Array.from({ length: players }, (_, i) => `board-${i}`);
    const tokens = new Map(ids.map((id) => [id, mintPlayerToken(ctx.playerSecret, id)]));
    const scores = new Map(ids.map((id) => [id, 0]));
    const seqs = new Map(ids.map((id) => [id, 0]));
    const sockets = new Map();
    for (const id of ids) {
      try {
        const ws = new WebSocket(`${ctx.baseUrl.replace(/^http/, "ws")}/v1/events/${event.eventId}/live`, ["live-events.v1", tokens.get(id)]);
        const state = { ws, waiters: [] };
        ws.onmessage = (m) => {
          const f = JSON.parse(String(m.data));
          if (f.type === "rank") for (const w of state.waiters.splice(0)) w(f);
        };
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = reject;
        });
        sockets.set(id, state);
      } catch {
        // measured over HTTP only for this player
      }
    }
    for (let i = 0; i < samples; i++) {
      const id = ids[i % players];
      const amount = 1 + (i % 7);
      const seq = seqs.get(id) + 1;
      seqs.set(id, seq);
      const socket = sockets.get(id);
      const want = scores.get(id) + amount;
      const frame = socket ? new Promise((resolve) => { const w = (f) => (f.score >= want ? resolve(performance.now()) : socket.waiters.push(w)); socket.waiters.push(w); }) : null;
      const res = await fetch(`${ctx.baseUrl}/v1/events/${event.eventId}/progress`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.get(id)}`, "content-type": "application/json" },
        body: JSON.stringify({ updates: [{ objectiveId: "wins", amount, seq }] }),
      });
      const ackAt = performance.now();
      if (res.status !== 200) continue;
      await res.text();
      acked += amount;
      scores.set(id, want);
      for (;;) {
        const me = await (await fetch(`${ctx.baseUrl}/v1/events/${event.eventId}/leaderboard/me?around=0`, { headers: { authorization: `Bearer ${tokens.get(id)}` } })).json();
        if (me.score >= want) break;
        if (performance.now() - ackAt > 10_000) throw new Error(`score ${want} of ${id} not visible after 10 s`);
        await sleep(10);
      }
      http.push(performance.now() - ackAt);
      if (frame) {
        const at = await Promise.race([frame, sleep(5000).then(() => null)]);
        if (at !== null) frames.push(Math.max(0, at - ackAt));
      }
    }
    for (const { ws } of sockets.values()) ws.close(1000);
    metrics.freshnessHttp = summarize(http);
    metrics.freshnessFrame = summarize(frames);
    rows.push(["rank visible in /leaderboard/me after the ack p50/p99 (ms)", `${metrics.freshnessHttp.p50} / ${metrics.freshnessHttp.p99}`, "p99 ≤ 1000", metrics.freshnessHttp.p99 <= 1000 ? "met" : "MISSED"]);
    rows.push(["rank frame after the ack p50/p99 (ms)", `${metrics.freshnessFrame.p50} / ${metrics.freshnessFrame.p99} (${frames.length} frames)`, "p99 ≤ 1000", metrics.freshnessFrame.p99 !== null && metrics.freshnessFrame.p99 <= 1000 ? "met" : "MISSED"]);
    targets.push(target("rank freshness p99 (HTTP)", metrics.freshnessHttp.p99, "≤ 1000 ms", metrics.freshnessHttp.p99 !== null && metrics.freshnessHttp.p99 <= 1000));
    targets.push(target("rank freshness p99 (frame)", metrics.freshnessFrame.p99, "≤ 1000 ms", metrics.freshnessFrame.p99 !== null && metrics.freshnessFrame.p99 <= 1000));

    // (2) nothing lost: the board's sum equals the acknowledged sum
    ctx.measured.step = "audit";
    let boardSum = 0;
    let cursor = null;
    do {
      const page = await (await fetch(`${ctx.baseUrl}/v1/events/${event.eventId}/leaderboard?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${tokens.get(ids[0])}` } })).json();
      for (const e of page.entries) boardSum += e.score;
      cursor = page.nextCursor;
    } while (cursor);
    metrics.lostScore = acked - boardSum;
    rows.push(["lost score updates (acked − board)", `${acked} − ${boardSum} = ${acked - boardSum}`, "0", acked === boardSum ? "met" : "MISSED"]);
    targets.push(target("0 lost score updates", acked - boardSum, "0", acked === boardSum));

    // (3) one board with 1,000,000 entries
    ctx.measured.step = "million";
    try {
      const before = workerdRss(ctx);
      const load = await api.call("GET", `/v1/_bench/leaderboard?op=load&n=${entries}`, undefined, [200], 300_000);
      await sleep(500);
      const after = workerdRss(ctx);
      const probe = await api.call("GET", "/v1/_bench/leaderboard?op=probe&batches=200", undefined, [200], 300_000);
      metrics.million = { ...load, ...probe, rssBefore: before, rssAfter: after, bytesPerEntry: (after - before) / load.entries };
      ctx.log(`Phase L: ${load.entries} entries written in ${fmtNum(load.loadMs)} ms, index rebuilt in ${fmtNum(load.rebuildMs)} ms; top-100 p99 ${probe.topP99} ms, around-me p99 ${probe.aroundP99} ms`);
      rows.push([`top-100 inside the object, ${load.entries} entries, p50/p99 (ms)`, `${fmtNum(probe.topP50, 3)} / ${fmtNum(probe.topP99, 3)}`, "p99 ≤ 5", probe.topP99 <= 5 ? "met" : "MISSED"]);
      rows.push(["around-me (±10) inside the object p50/p99 (ms)", `${fmtNum(probe.aroundP50, 3)} / ${fmtNum(probe.aroundP99, 3)}`, "p99 ≤ 5", probe.aroundP99 <= 5 ? "met" : "MISSED"]);
      rows.push(["score move inside the object p50/p99 (ms)", `${fmtNum(probe.updateP50, 3)} / ${fmtNum(probe.updateP99, 3)}`, "", ""]);
      rows.push(["index memory per entry (its typed arrays: all the isolate holds per entry)", `${fmtNum(probe.indexBytesPerEntry, 1)} B (1,000,000 entries: ${fmtNum((probe.indexBytesPerEntry * load.entries) / 1e6)} MB of the 128 MB isolate)`, "fits 128 MB", probe.indexBytesPerEntry * load.entries < 128e6 ? "met" : "MISSED"]);
      rows.push(["workerd RSS delta per entry (index + SQLite page cache + allocator)", `${fmtNum(metrics.million.bytesPerEntry)} B (rows written in ${fmtNum(load.loadMs)} ms, index rebuilt from SQLite in ${fmtNum(load.rebuildMs)} ms, depth ${probe.depth}, exact ${probe.exact})`, "", ""]);
      targets.push(target("1M-entry board index fits an isolate", `${fmtNum((probe.indexBytesPerEntry * load.entries) / 1e6)} MB`, "< 128 MB", probe.indexBytesPerEntry * load.entries < 128e6));
      targets.push(target("top-100 p99 in object (1M)", probe.topP99, "≤ 5 ms", probe.topP99 <= 5));
      targets.push(target("around-me p99 in object (1M)", probe.aroundP99, "≤ 5 ms", probe.aroundP99 <= 5));
    } catch (err) {
      rows.push(["1,000,000-entry board", describeError(err), "completes", "MISSED"]);
      targets.push(target("1,000,000-entry board completes", describeError(err), "completes", false));
    }
    return { metrics, rows, targets };
  },
};
