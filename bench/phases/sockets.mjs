// Phase C: 10,000 WebSockets on the live channel (GET /v1/events/:eventId/live). A scheduled event with 16 shards;
// every simulated player opens one socket and waits for its snapshot; the start is then moved to now + 1 s, and the
// event object's alarm activates the event: every socket must get its event_state "activated" frame, timed from the
// event's own "active" transition record. Then the sockets send progress frames for 15 s; only seqs under `applied`
// in `ack` frames are counted, and after the shards' outboxes drain D1's gem total must hold every acked update and
// nothing beyond those whose ack never came (../audit.mjs).
// The sockets live in a separate load process (load-ws.mjs); this module drives the steps, samples the server
// processes' memory, and audits; sockets-report.mjs turns what it gathered into the table. A step that fails (the
// server runs out of descriptors, a call times out on a saturated box) stops the steps, not the phase: the load
// process is told to close its sockets and report, and the table shows what was measured and why it stopped.
import { adminApi, describeError } from "../admin.mjs";
import { startLoad } from "../load-runner.mjs";
import { fdInfo, groupProcesses, startServerMemWatch } from "../procmem.mjs";
import { fmtCounts, fmtInt, fmtNum } from "../stats.mjs";
import { report } from "./sockets-report.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
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
    ctx.measured.eventId = eventId;
    ctx.measured.step = "finding the Worker's own port";

    const target0 = await wsOrigin(ctx, config.socketsDirect);
    ctx.log(`event ${eventId} scheduled; ${fmtInt(n)} sockets via ${target0.via}, ${config.socketConnectConcurrency} attempts at a time…`);
    const memWatch = startServerMemWatch(ctx.serverPid, ctx.port, 500);
    memWatch.mark("before");
    /** Everything the steps gather; sockets-report.mjs makes the table from it, whatever is missing. */
    const s = { n, eventId, shardCount: event.shardCount, via: target0.via, errorsAt: { before: await logErrorLines(ctx) }, fdBefore: workerdFds(ctx), stopped: null };

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
      ackGraceSec: 120,
      ackIdleSec: 15,
      closeTimeoutSec: 15,
    });
    let step = "connection ramp (calibration)";
    try {
      const points = [];
      for (let i = 0; i < 2; i++) {
        const calib = await load.next("calibrate", 90_000);
        await sleep(300); // descriptors of attempts that just finished
        points.push({ connected: calib.connected, fds: workerdFds(ctx) });
        load.send({ type: "calibrated" });
      }
      s.capacity = socketCapacity(points[0], points[1]);
      load.send({ type: "cap", maxSockets: s.capacity.maxSockets, why: s.capacity.why });
      if (s.capacity.maxSockets < n) ctx.log(`capping at ${fmtInt(s.capacity.maxSockets)} sockets: ${s.capacity.why}`);
      step = "connection ramp";
      const connected = await load.next("connected", 150_000);
      memWatch.mark("connected");
      s.errorsAt.connected = await logErrorLines(ctx);
      ctx.log(`${fmtInt(connected.connected)}/${fmtInt(n)} sockets open with their snapshot in ${connected.elapsedSec.toFixed(1)} s; failures: ${fmtCounts(connected.failures)}`);

      // The start transition: the event object's alarm activates the event about a second later.
      step = "the start transition (PATCH startTime)";
      s.patchSentAt = Date.now();
      const patched = await api.call("PATCH", `/v1/admin/events/${eventId}`, { startTime: new Date(s.patchSentAt + 1000).toISOString(), reason: "bench: start now" });
      load.send({ type: "patched", at: s.patchSentAt });
      ctx.log(`start moved to ${patched.startTime}; waiting for the "activated" fan-out (≤ 60 s)…`);
      step = "the activation fan-out";
      const activated = await load.next("activated", 120_000);
      ctx.log(`"activated" reached ${fmtInt(activated.received)} sockets; ${fmtInt(activated.missing)} open sockets missed it`);
      s.errorsAt.activated = await logErrorLines(ctx);
      ctx.log(`sockets sending progress for ${config.socketProgressSeconds} s…`);
      step = "progress";
      s.T0 = await activeSince(api, eventId).catch((err) => {
        s.T0Error = describeError(err);
        return undefined;
      });
    } catch (err) {
      s.stopped = { step, reason: describeError(err) };
      ctx.log(`phase C stopped during ${step}: ${s.stopped.reason}; telling the load to close its sockets and report…`);
      s.fdsAtStop = workerdFds(ctx);
      load.send({ type: "abort", reason: `${step}: ${s.stopped.reason}` });
    }
    try {
      // Without a stop, the load's own deadlines bound this; after one, it only has to close its sockets.
      s.result = await (s.stopped ? Promise.race([load.result, sleep(90_000).then(() => Promise.reject(new Error("no result 90 s after the stop")))]) : load.result);
      if (s.result.stopped && !s.stopped) s.stopped = { step: s.result.stopped.step, reason: s.result.stopped.reason };
    } catch (err) {
      s.loadError = describeError(err);
      s.stopped ??= { step, reason: `the load process failed: ${s.loadError}` };
    } finally {
      s.serverMem = memWatch();
    }
    s.errorsAt.loadDone = await logErrorLines(ctx);
    const p = s.result?.progress;
    if (p?.ran) {
      ctx.log(
        `Phase C load done: ${fmtNum(p.messagesPerSec)} frames/s acked, ${fmtNum(p.updatesPerSec)} updates/s, ack p50/p99 ` +
          `${fmtNum(p.ackLatencyMs.p50, 0)}/${fmtNum(p.ackLatencyMs.p99, 0)} ms; errors: ${fmtCounts(p.errorFrames)}; server closes: ${fmtCounts(s.result.serverCloses)}`,
      );
    }
    if (p?.framesSent) {
      ctx.log(`waiting for the shards' outboxes to drain into D1 (≤ ${config.drainTimeoutSec} s)…`);
      s.drain = await api.waitDrained(eventId, config.drainTimeoutSec * 1000, ctx.log);
      ctx.log(s.drain.drained ? `drained in ${s.drain.waitedSec.toFixed(1)} s` : `NOT drained after ${s.drain.waitedSec.toFixed(0)} s${s.drain.error ? ` (${s.drain.error})` : ""}`);
      const t = await api.tryTotals(eventId);
      s.totals = t.totals ?? null;
      s.totalsError = t.error ?? null;
      s.errorsAt.drained = await logErrorLines(ctx);
    }
    return report(s);
  },
};

/** When the event really became active (T0), from its own transition record. */
async function activeSince(api, eventId) {
  for (let i = 0; i < 100; i++) {
    const view = await api.call("GET", `/v1/admin/events/${eventId}`);
    const t = view.transitions.find((x) => x.toState === "active");
    if (t) return Date.parse(t.at);
    await sleep(200);
  }
  throw new Error(`event ${eventId} never recorded an "active" transition`);
}
