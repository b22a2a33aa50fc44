// The WebSocket load generator (phase C). Like load-http.mjs it is its own process, spawned by the orchestrator, so
// its CPU time, GC pauses and 10,000 sockets are kept apart from the orchestrator; it logs on stderr and prints
// exactly one JSON result on stdout. Unlike the HTTP load it has steps the orchestrator must interleave with (the
// start transition happens between "connected" and "activated"), so it also talks over the Node IPC channel:
//
//   load → parent  { type: "connected", … }      every attempt finished (snapshot received, or failed)
//   parent → load  { type: "patched", at }        the start was moved to now + 1 s
//   load → parent  { type: "activated", … }       every open socket saw change "activated", or the timeout passed
//   (then the progress window, the wait for outstanding acks, the clean close, and the JSON result on stdout)
//
// Config arrives in BENCH_LOAD_CONFIG (it holds the player-token secret). Every step is bounded by a deadline, and
// a watchdog ends the process if the whole thing overruns.
import { readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { mintPlayerToken } from "./jwt.mjs";
import { countInto, summarize } from "./stats.mjs";

const cfg = JSON.parse(process.env.BENCH_LOAD_CONFIG ?? "{}");
const log = (msg) => process.stderr.write(`  [load:ws] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock time with sub-millisecond resolution: the server's timestamps are on the same machine's clock. */
const wallNow = () => performance.timeOrigin + performance.now();

const watchdogSec =
  cfg.connectBudgetSec + cfg.waitPatchSec + cfg.activationTimeoutSec + cfg.progressSeconds + cfg.ackGraceSec + cfg.closeTimeoutSec + 90;
setTimeout(() => {
  log(`watchdog: the load did not finish within ${watchdogSec} s, giving up`);
  process.exit(3);
}, watchdogSec * 1000).unref();

// ---- memory and file-descriptor facts about this process ------------------------------------------------------

let peakRss = process.memoryUsage().rss;
const memTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 500);

function fdLimit() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5);
    return { soft: Number(soft) || soft, hard: Number(hard) || hard };
  } catch {
    return null;
  }
}

// ---- IPC with the orchestrator ---------------------------------------------------------------------------------

const inbox = [];
const waiters = [];
process.on("message", (msg) => {
  const i = waiters.findIndex((w) => w.type === msg.type);
  if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  else inbox.push(msg);
});
function nextMessage(type, timeoutMs) {
  const i = inbox.findIndex((m) => m.type === type);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
  return new Promise((resolve, reject) => {
    const w = { type, resolve };
    waiters.push(w);
    setTimeout(() => {
      const j = waiters.indexOf(w);
      if (j >= 0) {
        waiters.splice(j, 1);
        reject(new Error(`no "${type}" message from the orchestrator within ${timeoutMs / 1000} s`));
      }
    }, timeoutMs).unref();
  });
}
const tell = (msg) => process.send?.(msg);
if (!process.send) {
  log("must be spawned with an IPC channel (bench/load-runner.mjs startLoad)");
  process.exit(2);
}

// ---- sockets ---------------------------------------------------------------------------------------------------

const url = `${cfg.wsOrigin}/v1/events/${cfg.eventId}/live`;
const failures = {}; // connection attempts that never delivered a snapshot, by reason
const serverCloses = {}; // sockets closed while we still wanted them (by close code)
const frameErrors = {}; // error frames from the server, by code
const failureSamples = []; // the first few failures, with details, for the report
const badFrames = { unparseable: 0, unexpectedType: 0 };
const framesByType = {}; // every frame received, by type (and change / notification type)
let closing = false;
let patchedAt = null;
/** Running counts, so the per-frame checks stay O(1) with 10,000 sockets. "open" = connected with its snapshot. */
const live = { open: 0, openActivated: 0, openNoticed: 0, inFlight: 0 };

/** One simulated player: one socket, its own seq counter and its own tally of what the server acknowledged. */
function makePlayer(i) {
  const id = `${cfg.playerPrefix}${String(i).padStart(5, "0")}`;
  return {
    i,
    id,
    token: mintPlayerToken(cfg.playerSecret, id, 3600),
    ws: null,
    connectMs: null, // attempt start → open (101 received)
    snapshotMs: null, // attempt start → snapshot frame
    activatedAt: null, // wall-clock receipt of change "activated"
    startNoticeAt: null, // wall-clock receipt of the "start" notification, which the server sends at activation too
    seq: 0,
    inFlight: new Map(), // frame id → { sentAt, updates }
    ackedGems: 0,
    closedByServer: null,
    isOpen: false,
  };
}

function classifyError(ev) {
  const err = ev?.error;
  const code = err?.cause?.code ?? err?.code;
  if (code) return code;
  const msg = ev?.message ?? err?.message ?? "";
  if (/non-101|network error/i.test(msg)) return "handshake_refused";
  return msg ? msg.slice(0, 60) : "error";
}

/**
 * The WHATWG WebSocket hides why a handshake failed ("network error or non-101 status code"), so the first few such
 * failures are replayed as a raw HTTP upgrade to learn the status and body the Worker answered.
 */
function probeHandshake(p) {
  return new Promise((resolve) => {
    const u = new URL(url.replace(/^ws/, "http"));
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": Buffer.from(String(Math.random()).slice(0, 16).padEnd(16, "x")).toString("base64"),
        "Sec-WebSocket-Protocol": `live-events.v1, ${p.token}`,
      },
      timeout: 10_000,
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve("101 on retry");
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(`${res.statusCode} ${body.slice(0, 200)}`));
    });
    req.on("timeout", () => req.destroy(new Error("probe timeout")));
    req.on("error", (e) => resolve(`probe error ${e.code ?? e.message}`));
    req.end();
  });
}

function onFrame(p, data) {
  let f;
  try {
    f = JSON.parse(data);
  } catch {
    badFrames.unparseable++;
    return;
  }
  countInto(framesByType, f.type === "event_state" ? `event_state:${f.change}` : f.type === "notification" ? `notification:${f.notificationType}` : f.type);
  if (f.type === "event_state") {
    if (f.change === "snapshot") p.onSnapshot?.(f);
    else if (f.change === "activated" && p.activatedAt === null) {
      p.activatedAt = wallNow();
      if (p.isOpen) live.openActivated++;
      onActivated();
    }
  } else if (f.type === "ack") onAck(p, f);
  else if (f.type === "error") {
    countInto(frameErrors, f.code);
    if (f.id !== undefined && p.inFlight.has(f.id)) {
      // A refused frame applied nothing (the server validates the whole batch first): not counted as acked.
      p.inFlight.delete(f.id);
      live.inFlight--;
      stats.refusedFrames++;
      onSettled();
    }
  } else if (f.type === "notification" && f.notificationType === "start") {
    if (p.startNoticeAt === null) {
      p.startNoticeAt = wallNow();
      if (p.isOpen) live.openNoticed++;
      onStartNotice();
    }
  } else if (f.type === "notification" || f.type === "milestone" || f.type === "pong") {
    // expected traffic (the "start" notification arrives at activation), not measured here
  } else badFrames.unexpectedType++;
}

/** Opens one socket and resolves when its snapshot frame arrived (true) or the attempt failed (false). */
function connect(p) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    const done = (ok, reason, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!ok) {
        countInto(failures, reason);
        if (failureSamples.length < 5) failureSamples.push({ player: p.id, reason, detail: detail ?? null, afterMs: Math.round(performance.now() - t0) });
        try {
          ws.close();
        } catch {
          // not open
        }
        p.ws = null;
      }
      resolve(ok);
    };
    const timer = setTimeout(() => done(false, p.connectMs === null ? "connect_timeout" : "snapshot_timeout"), cfg.connectTimeoutMs);
    let ws;
    try {
      ws = new WebSocket(url, ["live-events.v1", p.token]);
    } catch (err) {
      done(false, err.code ?? err.name ?? "constructor_error", String(err.message ?? err));
      return;
    }
    p.ws = ws;
    p.onSnapshot = () => {
      p.snapshotMs = performance.now() - t0;
      p.onSnapshot = null;
      p.isOpen = true;
      live.open++;
      done(true);
    };
    ws.onopen = () => {
      p.connectMs = performance.now() - t0;
      if (ws.protocol !== "live-events.v1") badFrames.unexpectedType++; // the server must echo the subprotocol
    };
    ws.onmessage = (ev) => onFrame(p, ev.data);
    ws.onerror = (ev) => {
      if (!settled) done(false, classifyError(ev), ev?.error?.message ?? ev?.message);
    };
    ws.onclose = (ev) => {
      if (!settled) return done(false, `closed_${ev.code}`, ev.reason);
      if (!closing && p.ws === ws) {
        p.closedByServer = ev.code;
        countInto(serverCloses, String(ev.code));
        p.ws = null;
        p.isOpen = false;
        live.open--;
        if (p.activatedAt !== null) live.openActivated--;
        if (p.startNoticeAt !== null) live.openNoticed--;
        onActivated();
        onStartNotice();
        if (p.inFlight.size) {
          // Outcome unknown for these frames: the server may have applied them before closing.
          for (const f of p.inFlight.values()) stats.unresolvedGems += f.gems;
          stats.unresolvedFrames += p.inFlight.size;
          live.inFlight -= p.inFlight.size;
          p.inFlight.clear();
          onSettled();
        }
      }
    };
  });
}

const players = Array.from({ length: cfg.sockets }, (_, i) => makePlayer(i));
const open = () => players.filter((p) => p.isOpen);

/**
 * Opens the sockets `connectConcurrency` attempts at a time, in stages: up to each count in `calibrateAt` (the
 * orchestrator reads the server's descriptor counts at each stop; two stops give the marginal cost of one socket,
 * free of one-off costs like a shard's storage files), then, once it has answered with a cap, the rest up to that
 * cap. A workerd process that runs out of file descriptors does not refuse the next connection, it dies,
 * taking every socket with it; the cap keeps the server under its limit. Players past the cap are not attempted and
 * are reported as such.
 */
async function connectAll() {
  const started = performance.now();
  const deadline = started + cfg.connectBudgetSec * 1000;
  let next = 0;
  let ok = 0;
  let paused = 0;
  const ticker = setInterval(
    () => log(`${((performance.now() - started - paused) / 1000).toFixed(0)} s: ${ok} connected, ${next - ok} failed or in progress…`),
    5000,
  );
  const stage = (upTo) =>
    Promise.all(
      Array.from({ length: cfg.connectConcurrency }, async () => {
        while (next < upTo && performance.now() < deadline) {
          const p = players[next++];
          if (await connect(p)) ok++;
        }
      }),
    );
  for (const [i, upTo] of cfg.calibrateAt.entries()) {
    await stage(Math.min(upTo, players.length));
    // Let the stragglers' descriptors settle before the orchestrator counts them.
    const pauseStart = performance.now();
    tell({ type: "calibrate", step: i, connected: ok, attempted: next });
    await nextMessage("calibrated", 30_000);
    paused += performance.now() - pauseStart;
  }
  const pauseStart = performance.now();
  const { maxSockets, why } = await nextMessage("cap", 30_000);
  paused += performance.now() - pauseStart;
  const cap = Math.min(players.length, Math.max(next, maxSockets));
  if (cap < players.length) log(`the orchestrator capped the sockets at ${cap}: ${why}`);
  await stage(cap);
  clearInterval(ticker);
  const elapsed = (performance.now() - started - paused) / 1000;
  const overCap = players.length - cap;
  if (overCap) failures.not_attempted_server_fd_limit = overCap;
  const notAttempted = cap - next;
  if (notAttempted) failures.not_attempted_connect_budget = notAttempted;
  // Classify handshake refusals by replaying a few as raw upgrades (after the ramp, so they do not skew it).
  for (const s of failureSamples) {
    if (s.reason === "handshake_refused") s.probe = await probeHandshake(players.find((p) => p.id === s.player));
  }
  return { elapsedSec: elapsed, connected: ok, attempted: next, cap, capReason: cap < players.length ? why : null };
}

// ---- activation fan-out ----------------------------------------------------------------------------------------

let activationWaiter = null;
function onActivated() {
  if (activationWaiter && live.openActivated >= live.open) activationWaiter();
}
/**
 * The server sends the "start" notification and then, in the same alarm run, the "activated" state frame. Once
 * every open socket has the notification, `activatedGraceSec` more is ample for the frames still owed; waiting out
 * the full timeout past that would only stretch the bench. Reported as such (gaveUpAfterStartNotice).
 */
let startNoticeAllAt = null;
function onStartNotice() {
  if (startNoticeAllAt === null && live.open > 0 && live.openNoticed >= live.open) startNoticeAllAt = performance.now();
}

// ---- progress over the sockets ---------------------------------------------------------------------------------

const stats = {
  framesSent: 0,
  framesAcked: 0,
  updatesSent: 0,
  updatesApplied: 0,
  refusedFrames: 0,
  unexpectedDuplicates: 0,
  reapplied: 0,
  skippedBackpressure: 0,
  sendErrors: 0,
  unresolvedFrames: 0,
  unresolvedGems: 0,
  ackLatencies: [],
  framesAckedInWindow: 0, // acks received before the window closed: the throughput figures
  updatesAckedInWindow: 0,
};
let settledWaiter = null;
const pendingFrames = () => live.inFlight;
function onSettled() {
  if (settledWaiter && pendingFrames() === 0) settledWaiter();
}

function onAck(p, f) {
  const sent = p.inFlight.get(f.id);
  if (!sent) {
    badFrames.unexpectedType++;
    return;
  }
  p.inFlight.delete(f.id);
  live.inFlight--;
  const now = performance.now();
  stats.framesAcked++;
  stats.ackLatencies.push(now - sent.sentAt);
  const inWindow = now <= windowEnd;
  if (inWindow) stats.framesAckedInWindow++;
  const applied = new Set(f.progress?.applied ?? []);
  for (const u of sent.updates) {
    if (!applied.delete(u.seq)) continue;
    stats.updatesApplied++;
    if (inWindow) stats.updatesAckedInWindow++;
    p.ackedGems += u.amount;
  }
  stats.reapplied += applied.size; // seqs this frame never carried
  // Every seq is fresh (one socket, increasing seqs, one frame in flight at a time unless backpressure allowed two):
  // a duplicate here means the server skipped an update it had not applied before.
  stats.unexpectedDuplicates += (f.progress?.duplicates ?? []).length;
  onSettled();
}

let windowStart = 0;
let windowEnd = Infinity;
function sendFrame(p) {
  if (!p.ws || p.ws.readyState !== 1) return;
  if (p.inFlight.size >= cfg.maxInFlightPerSocket) {
    stats.skippedBackpressure++;
    return;
  }
  const n = cfg.updatesPerFrame[0] + Math.floor(Math.random() * (cfg.updatesPerFrame[1] - cfg.updatesPerFrame[0] + 1));
  const updates = Array.from({ length: n }, () => ({ objectiveId: "gems", amount: 1 + Math.floor(Math.random() * 10), seq: ++p.seq }));
  const id = p.seq; // the frame's last seq: unique per socket
  try {
    p.ws.send(JSON.stringify({ type: "progress", id, updates }));
  } catch {
    stats.sendErrors++;
    return;
  }
  p.inFlight.set(id, { sentAt: performance.now(), updates, gems: updates.reduce((s, u) => s + u.amount, 0) });
  live.inFlight++;
  stats.framesSent++;
  stats.updatesSent += n;
}

async function progressWindow() {
  const active = open();
  windowStart = performance.now();
  windowEnd = windowStart + cfg.progressSeconds * 1000;
  const [lo, hi] = cfg.frameIntervalMs;
  const timers = [];
  // Each socket on its own random period and phase, so sends spread evenly instead of arriving in waves.
  for (const p of active) {
    const period = lo + Math.random() * (hi - lo);
    const schedule = (at) => {
      if (at >= windowEnd) return;
      timers.push(
        setTimeout(() => {
          sendFrame(p);
          schedule(at + period);
        }, Math.max(0, at - performance.now())),
      );
    };
    schedule(windowStart + Math.random() * period);
  }
  const ticker = setInterval(
    () => log(`${((performance.now() - windowStart) / 1000).toFixed(0)} s: ${stats.framesSent} frames sent, ${stats.framesAcked} acked, ${pendingFrames()} in flight`),
    5000,
  );
  await sleep(cfg.progressSeconds * 1000);
  for (const t of timers) clearTimeout(t);
  clearInterval(ticker);
  const sentInWindow = stats.framesSent;
  const ackedInWindow = stats.framesAckedInWindow;
  // Wait for the acks still owed: their outcome decides the audit.
  const graceStart = performance.now();
  if (pendingFrames() > 0) {
    log(`window over; waiting ≤ ${cfg.ackGraceSec} s for ${pendingFrames()} outstanding acks…`);
    await new Promise((resolve) => {
      settledWaiter = resolve;
      setTimeout(resolve, cfg.ackGraceSec * 1000);
    });
    settledWaiter = null;
  }
  const ackTailSec = (performance.now() - graceStart) / 1000;
  // What is still unanswered has an unknown outcome (it may yet be applied): reported, never counted as acked.
  for (const p of players) {
    for (const f of p.inFlight.values()) stats.unresolvedGems += f.gems;
    stats.unresolvedFrames += p.inFlight.size;
    live.inFlight -= p.inFlight.size;
    p.inFlight.clear();
  }
  return { windowSec: cfg.progressSeconds, sentInWindow, ackedInWindow, ackTailSec, sockets: active.length };
}

// ---- clean close -----------------------------------------------------------------------------------------------

async function closeAll() {
  closing = true;
  const live = players.filter((p) => p.ws && p.ws.readyState <= 1);
  const started = performance.now();
  let closed = 0;
  const codes = {};
  await Promise.race([
    Promise.all(
      live.map(
        (p) =>
          new Promise((resolve) => {
            const ws = p.ws;
            ws.onclose = (ev) => {
              closed++;
              countInto(codes, String(ev.code));
              resolve();
            };
            try {
              ws.close(1000, "bench done");
            } catch {
              resolve();
            }
          }),
      ),
    ),
    sleep(cfg.closeTimeoutSec * 1000),
  ]);
  return { requested: live.length, closedCleanly: closed, codes, elapsedSec: (performance.now() - started) / 1000 };
}

// ---- main ------------------------------------------------------------------------------------------------------

const limits = fdLimit();
log(`${cfg.sockets} sockets to ${url} (${cfg.connectConcurrency} attempts at a time); open-files limit ${limits?.soft}/${limits?.hard}`);
const conn = await connectAll();
const connected = open().length;
log(`${conn.connected}/${cfg.sockets} connected with snapshot in ${conn.elapsedSec.toFixed(1)} s; failures ${JSON.stringify(failures)}`);
tell({ type: "connected", connected, attempted: conn.attempted, cap: conn.cap, failures, elapsedSec: conn.elapsedSec });

// The orchestrator moves the start to now + 1 s; the fan-out is timed from the event's own transition record.
const patched = await nextMessage("patched", cfg.waitPatchSec * 1000);
patchedAt = patched.at;
const waitStart = performance.now();
const stillOpen = open();
let gaveUpAfterStartNotice = false;
if (stillOpen.some((p) => p.activatedAt === null)) {
  await new Promise((resolve) => {
    const finish = () => {
      clearTimeout(hardStop);
      clearInterval(poll);
      resolve();
    };
    const hardStop = setTimeout(finish, cfg.activationTimeoutSec * 1000);
    const poll = setInterval(() => {
      if (startNoticeAllAt !== null && performance.now() - startNoticeAllAt > cfg.activatedGraceSec * 1000) {
        gaveUpAfterStartNotice = true;
        finish();
      }
    }, 250);
    activationWaiter = finish;
  });
  activationWaiter = null;
}
const activationWaitSec = (performance.now() - waitStart) / 1000;
const socketsAtActivation = open();
const activatedTimes = players.filter((p) => p.activatedAt !== null).map((p) => p.activatedAt);
const missingActivated = socketsAtActivation.filter((p) => p.activatedAt === null).length;
log(`activation: ${activatedTimes.length} sockets got "activated", ${missingActivated} open sockets did not (waited ${((performance.now() - waitStart) / 1000).toFixed(1)} s)`);
tell({ type: "activated", received: activatedTimes.length, missing: missingActivated, gaveUpAfterStartNotice });

const prog = await progressWindow();
// Counted only now: on a shard the "start" notification may follow the "activated" frame the wait ended on.
const startNoticeTimes = players.filter((p) => p.startNoticeAt !== null).map((p) => p.startNoticeAt);
const closeResult = await closeAll();
clearInterval(memTimer);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const result = {
  sockets: cfg.sockets,
  connectConcurrency: cfg.connectConcurrency,
  fdLimit: limits,
  connect: {
    attempted: conn.attempted,
    cap: conn.cap,
    capReason: conn.capReason,
    connected,
    failed: cfg.sockets - conn.connected,
    failures,
    failureSamples,
    elapsedSec: round(conn.elapsedSec, 2),
    perSec: round(conn.connected / conn.elapsedSec, 1),
    openMs: summarize(players.filter((p) => p.connectMs !== null && p.snapshotMs !== null).map((p) => p.connectMs)),
    snapshotMs: summarize(players.filter((p) => p.snapshotMs !== null).map((p) => p.snapshotMs)),
  },
  activation: {
    patchedAt,
    openAtActivation: socketsAtActivation.length,
    received: activatedTimes.length,
    missing: missingActivated,
    // Raw receipt times (epoch ms): the orchestrator subtracts the event's own "active" transition time.
    receiptTimes: activatedTimes.map((t) => round(t, 2)),
    waitSec: round(activationWaitSec, 2),
    gaveUpAfterStartNotice,
    startNoticeReceived: startNoticeTimes.length,
    startNoticeReceiptTimes: startNoticeTimes.map((t) => round(t, 2)),
  },
  progress: {
    ...prog,
    framesSent: stats.framesSent,
    framesAcked: stats.framesAcked,
    updatesSent: stats.updatesSent,
    updatesApplied: stats.updatesApplied,
    messagesPerSec: prog.ackedInWindow / prog.windowSec,
    updatesPerSec: stats.updatesAckedInWindow / prog.windowSec,
    ackLatencyMs: summarize(stats.ackLatencies),
    refusedFrames: stats.refusedFrames,
    unexpectedDuplicates: stats.unexpectedDuplicates,
    reapplied: stats.reapplied,
    skippedBackpressure: stats.skippedBackpressure,
    sendErrors: stats.sendErrors,
    unresolvedFrames: stats.unresolvedFrames,
    unresolvedGems: stats.unresolvedGems,
    errorFrames: frameErrors,
    ackedGems: players.reduce((s, p) => s + p.ackedGems, 0),
    playersAcked: players.filter((p) => p.ackedGems > 0).length,
  },
  serverCloses,
  badFrames,
  framesByType,
  close: closeResult,
  memory: { peakRssBytes: peakRss, maxRssBytes: process.resourceUsage().maxRSS * 1024 },
};
// stdout to a pipe is asynchronous: exit only once the (large) result has been handed over in full.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
