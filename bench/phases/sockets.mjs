// Phase C: 10,000 WebSockets on the live channel (GET /v1/events/:eventId/live). A scheduled event with 16 shards;
// every simulated player opens one socket and waits for its snapshot; the start is then moved to now + 1 s, and the
// event object's alarm activates the event: every socket must get its event_state "activated" frame, timed from the
// event's own "active" transition record. Then the sockets send progress frames for 15 s; only seqs under `applied`
// in `ack` frames are counted, and after the shards' outboxes drain D1's gem total must equal that sum exactly.
// The sockets live in a separate load process (load-ws.mjs); this module drives the steps, samples the server
// processes' memory, and audits.
import { adminApi } from "../admin.mjs";
import { startLoad } from "../load-runner.mjs";
import { fdInfo, groupProcesses, startServerMemWatch } from "../procmem.mjs";
import { fmtCounts, fmtInt, fmtNum, summarize } from "../stats.mjs";

const target = (name, value, goal, met) => ({ name, value, goal, met });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes) => (bytes ? `${fmtInt(bytes / 2 ** 20)} MiB` : "n/a");
const ms3 = (s) => (s && s.count ? `${fmtNum(s.p50, 0)} / ${fmtNum(s.p99, 0)} / ${fmtNum(s.max, 0)}` : "n/a");

/**
 * Where the sockets connect. By default straight to the Worker's own workerd listener (found among that process's
 * listening sockets as the one answering GET /health): wrangler dev's public port is served by a second, proxy
 * workerd that forwards every request, and on this machine workerd holds two descriptors per TCP connection, so the
 * proxy pays four per socket and its 20,000-descriptor limit would stop the phase near 4,900 sockets. Production has
 * no such proxy. BENCH_WS_PROXY=1 sends the sockets through the public port like the other phases.
 */
async function wsOrigin(ctx, direct) {
  const publicOrigin = ctx.baseUrl.replace(/^http/, "ws");
  if (!direct) return { origin: publicOrigin, via: "wrangler dev public port (through the dev proxy)" };
  const worker = groupProcesses(ctx.serverPid, ctx.port).find((p) => p.label === "workerd (Worker)");
  if (!worker) throw new Error("phase C (direct): could not find the Worker's workerd process");
  const { readFileSync, readdirSync, readlinkSync } = await import("node:fs");
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${worker.pid}/fd`)) {
    try {
      const m = readlinkSync(`/proc/${worker.pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && inodes.has(f[9])) // LISTEN, owned by that workerd
    .map((f) => parseInt(f[1].split(":")[1], 16));
  for (const port of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok && (await res.text()).includes('"ok"')) return { origin: `ws://127.0.0.1:${port}`, via: `the Worker's workerd directly (port ${port}, bypassing the dev proxy)` };
    } catch {
      // not the entry socket
    }
  }
  throw new Error(`phase C (direct): none of the Worker's listening ports (${ports.join(", ")}) answered GET /health`);
}

/** Error lines in wrangler's log so far (its errors carry no timestamps; counting at each step tells when). */
async function logErrorLines(ctx) {
  if (!ctx.serverLogPath) return null;
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(ctx.serverLogPath, "utf8").catch(() => "");
  return text.split("\n").filter((l) => /ERROR|✘/.test(l)).length;
}

/** File descriptors kept free in every workerd process for everything but the sockets (admin calls, D1, storage). */
const FD_HEADROOM = 400;

function workerdFds(ctx) {
  return Object.fromEntries(
    groupProcesses(ctx.serverPid, ctx.port)
      .filter((p) => p.label.startsWith("workerd"))
      .map((p) => [p.label, { pid: p.pid, ...fdInfo(p.pid) }]),
  );
}

/**
 * How many sockets the server can hold: for each workerd process, what one more socket costs it in descriptors
 * (measured between two counts of open sockets, so one-off costs such as each shard's storage files drop out)
 * against what its open-files limit leaves. workerd dies when it runs out (every socket gets 1006 and wrangler
 * restarts it), so the load never goes past this.
 */
function socketCapacity(first, second) {
  const perProcess = {};
  let cap = Infinity;
  let why = "";
  const span = second.connected - first.connected;
  for (const [label, b] of Object.entries(first.fds)) {
    const a = second.fds[label];
    if (!a || a.pid !== b.pid || !a.soft || span <= 0) continue;
    const perSocket = (a.open - b.open) / span;
    const fits = perSocket > 0.2 ? second.connected + Math.floor((a.soft - a.open - FD_HEADROOM) / perSocket) : Infinity;
    perProcess[label] = {
      sockets: [first.connected, second.connected],
      openFds: [b.open, a.open],
      fdsPerSocket: Math.round(perSocket * 1000) / 1000,
      fdLimit: a.soft,
      fdHardLimit: a.hard,
      fits: Number.isFinite(fits) ? fits : null,
    };
    if (fits < cap) {
      cap = fits;
      why = `${label} holds ${perSocket.toFixed(2)} fds per socket, open-files limit ${a.soft} (hard ${a.hard}), ${FD_HEADROOM} kept free → at most ${fits} sockets`;
    }
  }
  return { maxSockets: Number.isFinite(cap) ? cap : 1e9, why, perProcess };
}

export default {
  name: "sockets",
  title: "Phase C: 10,000 WebSockets (GET /v1/events/:eventId/live)",

  async run(ctx) {
    const { config } = ctx;
    const n = config.sockets;
    const api = adminApi(ctx.baseUrl, ctx.adminToken);
    ctx.log(`Phase C: creating a scheduled event with ${config.socketShards} shards for ${fmtInt(n)} sockets…`);
    await api.call("POST", "/v1/admin/templates", {
      templateId: "bench-sockets",
      type: "gacha",
      tier: "mini",
      name: "Bench sockets",
      description: "Created by npm run bench (phase C).",
      objectives: [{ objectiveId: "gems", description: "Collect gems", type: "collect", targetValue: 1e9, trackingKey: "bench.gems" }],
      milestones: [{ index: 0, progressThreshold: 1, rewards: [{ rewardId: "coins", type: "currency", itemId: "coins", quantity: 100 }] }],
    });
    const now = Date.now();
    const event = await api.call("POST", "/v1/admin/events", {
      templateId: "bench-sockets",
      startTime: new Date(now + 10 * 60_000).toISOString(),
      endTime: new Date(now + 2 * 3600_000).toISOString(),
      shardCount: config.socketShards,
      expectedParticipants: config.socketShards * 2500,
    });
    if (event.state !== "scheduled") throw new Error(`the new event is ${event.state}, expected scheduled`);
    if (event.shardCount !== config.socketShards) throw new Error(`asked for ${config.socketShards} shards, the event has ${event.shardCount}`);
    const eventId = event.eventId;

    const target0 = await wsOrigin(ctx, config.socketsDirect);
    ctx.log(`event ${eventId} scheduled; ${fmtInt(n)} sockets via ${target0.via}, ${config.socketConnectConcurrency} attempts at a time…`);
    const memWatch = startServerMemWatch(ctx.serverPid, ctx.port, 500);
    memWatch.mark("before");
    const errorsAt = { before: await logErrorLines(ctx) };
    const fdBefore = workerdFds(ctx);

    const load = startLoad("./load-ws.mjs", {
      wsOrigin: target0.origin,
      eventId,
      playerSecret: ctx.playerSecret,
      playerPrefix: "bench-ws-",
      sockets: n,
      connectConcurrency: config.socketConnectConcurrency,
      connectTimeoutMs: 20_000,
      connectBudgetSec: 90,
      calibrateAt: [Math.min(300, n), Math.min(1300, n)],
      waitPatchSec: 60,
      activationTimeoutSec: 60,
      progressSeconds: config.socketProgressSeconds,
      frameIntervalMs: [2000, 5000],
      updatesPerFrame: [1, 5],
      maxInFlightPerSocket: 2,
      activatedGraceSec: 15,
      ackGraceSec: 30,
      closeTimeoutSec: 15,
    });
    let result;
    let serverMem;
    let T0;
    let patchSentAt;
    let capacity;
    try {
      const points = [];
      for (let i = 0; i < 2; i++) {
        const calib = await load.next("calibrate", 90_000);
        await sleep(300); // descriptors of attempts that just finished
        points.push({ connected: calib.connected, fds: workerdFds(ctx) });
        load.send({ type: "calibrated" });
      }
      capacity = socketCapacity(points[0], points[1]);
      load.send({ type: "cap", maxSockets: capacity.maxSockets, why: capacity.why });
      if (capacity.maxSockets < n) ctx.log(`capping at ${fmtInt(capacity.maxSockets)} sockets: ${capacity.why}`);
      const connected = await load.next("connected", 150_000);
      memWatch.mark("connected");
      errorsAt.connected = await logErrorLines(ctx);
      ctx.log(`${fmtInt(connected.connected)}/${fmtInt(n)} sockets open with their snapshot in ${connected.elapsedSec.toFixed(1)} s; failures: ${fmtCounts(connected.failures)}`);

      // The start transition: the event object's alarm activates the event about a second later.
      patchSentAt = Date.now();
      const patched = await api.call("PATCH", `/v1/admin/events/${eventId}`, { startTime: new Date(patchSentAt + 1000).toISOString(), reason: "bench: start now" });
      load.send({ type: "patched", at: patchSentAt });
      ctx.log(`start moved to ${patched.startTime}; waiting for the "activated" fan-out (≤ 60 s)…`);
      const activated = await load.next("activated", 120_000);
      ctx.log(`"activated" reached ${fmtInt(activated.received)} sockets; ${fmtInt(activated.missing)} open sockets missed it`);
      errorsAt.activated = await logErrorLines(ctx);
      ctx.log(`sockets sending progress for ${config.socketProgressSeconds} s…`);

      // T0: when the event really became active, from its own transition record.
      for (let i = 0; i < 100 && T0 === undefined; i++) {
        const view = await api.call("GET", `/v1/admin/events/${eventId}`);
        const t = view.transitions.find((x) => x.toState === "active");
        if (t) T0 = Date.parse(t.at);
        else await sleep(200);
      }
      if (T0 === undefined) throw new Error(`event ${eventId} never recorded an "active" transition`);
      result = await load.result;
    } finally {
      serverMem = memWatch();
    }
    errorsAt.loadDone = await logErrorLines(ctx);
    const p = result.progress;
    ctx.log(
      `Phase C load done: ${fmtNum(p.messagesPerSec)} frames/s acked, ${fmtNum(p.updatesPerSec)} updates/s, ack p50/p99 ` +
        `${fmtNum(p.ackLatencyMs.p50, 0)}/${fmtNum(p.ackLatencyMs.p99, 0)} ms; errors: ${fmtCounts(p.errorFrames)}; server closes: ${fmtCounts(result.serverCloses)}`,
    );

    ctx.log("waiting for the shards' outboxes to drain into D1 (≤ 60 s)…");
    const drain = await api.waitDrained(eventId, config.drainTimeoutSec * 1000, ctx.log);
    ctx.log(drain.drained ? `drained in ${drain.waitedSec.toFixed(1)} s` : `NOT drained after ${drain.waitedSec.toFixed(0)} s`);
    const totals = await api.totals(eventId);
    errorsAt.drained = await logErrorLines(ctx);
    const ingest = drain.summary.ingest;
    const d1Gems = totals.totals.gems ?? 0;

    const fanout = summarize(result.activation.receiptTimes.map((t) => t - T0));
    const noticeFanout = summarize(result.activation.startNoticeReceiptTimes.map((t) => t - T0));
    const a = result.activation;
    const c = result.connect;
    const audit = {
      drained: drain.drained,
      drainWaitSec: drain.waitedSec,
      outboxPending: ingest.outboxPending,
      d1Gems,
      ackedGems: p.ackedGems,
      unresolvedGems: p.unresolvedGems,
      lostUpdates: Math.max(0, p.ackedGems - d1Gems),
      duplicatedUpdates: Math.max(0, d1Gems - p.ackedGems),
      d1Players: totals.players,
      ackedPlayers: p.playersAcked,
      shardUpdatesApplied: ingest.updatesApplied,
      shardRequests: ingest.requests,
    };
    const serverClosed = Object.values(result.serverCloses).reduce((s, k) => s + k, 0);

    const targets = [
      target("sockets connected", c.connected, `= ${fmtInt(n)}`, c.connected === n),
      target("sockets missing the activated frame", a.missing, "= 0", a.missing === 0 && a.received === c.connected && c.connected > 0),
      target("socket lost updates", audit.lostUpdates, "= 0", drain.drained && audit.lostUpdates === 0),
      target("socket duplicated updates", audit.duplicatedUpdates, "= 0", audit.duplicatedUpdates === 0),
      target("sockets closed by the server", serverClosed, "= 0", serverClosed === 0),
    ];
    const status = (t) => (t.met ? "met" : "MISSED");
    const check = (ok) => (ok ? "ok" : "MISMATCH");
    const workerd = serverMem?.byLabel ?? {};
    const fdRow = Object.entries(workerd)
      .filter(([label]) => label.startsWith("workerd"))
      .map(([label, e]) => `${label.replace("workerd ", "")} ${fmtInt(e.maxOpenFds)}/${fmtInt(e.fdLimit)}`)
      .join(", ");
    const perProc = Object.entries(workerd)
      .map(([label, e]) => `${label} ${mib(e.peak)}`)
      .join(", ");
    const anomalies = {
      refused_frames: p.refusedFrames,
      unexpected_duplicates: p.unexpectedDuplicates,
      reapplied_seqs: p.reapplied,
      send_errors: p.sendErrors,
      unresolved_frames: p.unresolvedFrames,
      skipped_sends_2_in_flight: p.skippedBackpressure,
      unparseable_frames: result.badFrames.unparseable,
      unexpected_frames: result.badFrames.unexpectedType,
    };

    return {
      metrics: {
        eventId,
        shardCount: event.shardCount,
        via: target0.via,
        T0: new Date(T0).toISOString(),
        patchSentAt: new Date(patchSentAt).toISOString(),
        activationDelayMs: T0 - patchSentAt,
        fanoutMs: fanout,
        startNoticeFanoutMs: noticeFanout,
        load: { ...result, activation: { ...a, receiptTimes: undefined, startNoticeReceiptTimes: undefined } },
        audit,
        serverMemory: serverMem,
        serverFdsBefore: fdBefore,
        serverSocketCapacity: capacity,
        workerErrorLinesAt: errorsAt,
      },
      rows: [
        ["sockets connected / failed", `${fmtInt(c.connected)} / ${fmtInt(n - c.connected)}`, `${fmtInt(n)} / 0`, status(targets[0])],
        ["connect failures (by reason)", fmtCounts(c.failures), "", ""],
        ["connect ramp (all sockets, s) / rate", `${fmtNum(c.elapsedSec, 1)} s / ${fmtInt(c.perSec)} per s`, "", ""],
        ["connect → snapshot p50/p99/max (ms)", ms3(c.snapshotMs), "", ""],
        ["activated fan-out p50/p99/max (ms after T0)", ms3(fanout), "", ""],
        ["activated frames received / missing", `${fmtInt(a.received)} / ${fmtInt(a.missing)}`, "missing = 0", status(targets[1])],
        ["start moved → active (T0) (ms)", fmtInt(T0 - patchSentAt), "≈ 1,000", ""],
        [
          '"start" notification fan-out p50/p99/max (ms) / got it',
          `${ms3(noticeFanout)} / ${fmtInt(a.startNoticeReceived)}`,
          "",
          "",
        ],
        ["socket progress frames/s (acked)", fmtNum(p.messagesPerSec), "", ""],
        ["socket progress updates/s (acked)", fmtNum(p.updatesPerSec), "", ""],
        ["socket ack latency p50/p99/max (ms)", ms3(p.ackLatencyMs), "", ""],
        ["socket error frames (by code)", fmtCounts(p.errorFrames), "", ""],
        ["sockets closed by the server (by code)", serverClosed ? fmtCounts(result.serverCloses) : "none", "none", status(targets[4])],
        ["lost updates (acked gems − D1)", fmtInt(audit.lostUpdates), targets[2].goal, status(targets[2])],
        ["duplicated updates (D1 − acked gems)", fmtInt(audit.duplicatedUpdates), targets[3].goal, status(targets[3])],
        ["peak memory: load process (RSS / maxRSS)", `${mib(result.memory.peakRssBytes)} / ${mib(result.memory.maxRssBytes)}`, "", ""],
        ["peak memory: server (workerd Σ / + wrangler)", `${mib(serverMem?.workerdPeak)} / ${mib(serverMem?.treePeak)}`, "", ""],
        ["server workerd Σ RSS: before / all connected", `${mib(serverMem?.marks.before)} / ${mib(serverMem?.marks.connected)}`, "", ""],
        "  socket detail",
        ["sockets via", target0.via, "", ""],
        ["server peak RSS by process", perProc || "n/a", "", ""],
        ["workerd open fds peak / limit", fdRow || "n/a", "", ""],
        [
          "workerd fds per socket; socket cap",
          `${Object.entries(capacity.perProcess).map(([l, e]) => `${l.replace("workerd ", "")} ${fmtNum(e.fdsPerSocket, 2)}`).join(", ")}; ${capacity.maxSockets < n ? fmtInt(capacity.maxSockets) : "none"}`,
          "",
          "",
        ],
        ...(capacity.maxSockets < n ? [["why the sockets were capped", capacity.why, "", ""]] : []),
        ["frames sent / acked; updates acked", `${fmtInt(p.framesSent)} / ${fmtInt(p.framesAcked)}; ${fmtInt(p.updatesApplied)}`, "", ""],
        ["other client-side anomalies", fmtCounts(anomalies), "", ""],
        ["frames received (by type)", fmtCounts(result.framesByType), "", ""],
        [
          "Worker log error lines: connect / activation / progress+close / drain",
          [
            errorsAt.connected - errorsAt.before,
            errorsAt.activated - errorsAt.connected,
            errorsAt.loadDone - errorsAt.activated,
            errorsAt.drained - errorsAt.loadDone,
          ].map(fmtInt).join(" / "),
          "",
          "",
        ],
        ["gems: acked / D1", `${fmtInt(p.ackedGems)} / ${fmtInt(d1Gems)}`, "equal", check(p.ackedGems === d1Gems)],
        ["players: acked / D1", `${fmtInt(p.playersAcked)} / ${fmtInt(totals.players)}`, "equal", check(p.playersAcked === totals.players)],
        ["updates: acked / shard counters", `${fmtInt(p.updatesApplied)} / ${fmtInt(ingest.updatesApplied)}`, "equal", check(p.updatesApplied === ingest.updatesApplied)],
        ["sockets closed cleanly at the end", `${fmtInt(result.close.closedCleanly)} / ${fmtInt(result.close.requested)} (${fmtCounts(result.close.codes)})`, "all", check(result.close.closedCleanly === result.close.requested)],
        ["outbox drained", drain.drained ? `yes, ${drain.waitedSec.toFixed(1)} s` : `no (${ingest.outboxPending} pending)`, "", ""],
      ],
      targets,
    };
  },
};
