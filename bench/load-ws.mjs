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
//   parent → load  { type: "abort", reason }     the orchestrator cannot go on: stop, close, report what was measured
//
// Config arrives in BENCH_LOAD_CONFIG (it holds the player-token secret). Every step is bounded by a deadline. A step
// that fails (the orchestrator aborts, a message never comes, the watchdog fires) ends the steps, not the process:
// the sockets are closed and the JSON result still carries everything measured so far, plus `stopped` { step,
// reason }. Only if even that overruns does the process exit without a result.
//
// This file runs those steps and assembles the result; the sockets (connection ramp, received frames, activation
// wait, close) are in ws-sockets.mjs, the progress frames and their acks in ws-progress.mjs.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { summarize } from "./stats.mjs";
import { createProgressDriver } from "./ws-progress.mjs";
import { createSockets } from "./ws-sockets.mjs";

const cfg = JSON.parse(process.env.BENCH_LOAD_CONFIG ?? "{}");
const log = (msg) => process.stderr.write(`  [load:ws] ${msg}\n`);
const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

const watchdogSec =
  cfg.connectBudgetSec + cfg.waitPatchSec + cfg.activationTimeoutSec + cfg.progressSeconds + cfg.ackGraceSec + cfg.closeTimeoutSec + 90;
setTimeout(() => {
  abort(`watchdog: the steps did not finish within ${watchdogSec} s`);
  setTimeout(() => {
    log("watchdog: no result 60 s after giving up; exiting without one");
    process.exit(3);
  }, 60_000).unref();
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
/** Set once the steps must stop; every wait below ends early with it. */
let aborted = null;
let onAbort = () => {};
const abortedPromise = new Promise((resolve) => (onAbort = resolve));
function abort(reason) {
  if (aborted) return;
  aborted = reason;
  log(`stopping: ${reason}`);
  onAbort(reason);
  for (const w of waiters.splice(0)) w.reject(new Error(`aborted: ${reason}`));
}
process.on("message", (msg) => {
  if (msg.type === "abort") return abort(`the orchestrator stopped the phase: ${msg.reason}`);
  const i = waiters.findIndex((w) => w.type === msg.type);
  if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  else inbox.push(msg);
});
function nextMessage(type, timeoutMs) {
  const i = inbox.findIndex((m) => m.type === type);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
  if (aborted) return Promise.reject(new Error(`aborted: ${aborted}`));
  return new Promise((resolve, reject) => {
    const w = { type, resolve, reject };
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

// ---- main ------------------------------------------------------------------------------------------------------

const isAborted = () => aborted !== null;
const progress = createProgressDriver({ cfg, log, abortedPromise, isAborted });
const sockets = createSockets({ cfg, log, tell, nextMessage, progress, abortedPromise, isAborted });
const { url, players, open, failures, failureSamples, serverCloses, frameErrors, badFrames, framesByType } = sockets;
const { stats } = progress;

const limits = fdLimit();
log(`${cfg.sockets} sockets to ${url} (${cfg.connectConcurrency} attempts at a time); open-files limit ${limits?.soft}/${limits?.hard}`);
// What each step measured; a step that fails leaves the later ones undefined, and the result says where it stopped.
let step = "connect";
let stopped = null;
let conn;
let connected = 0;
let patchedAt = null;
let activation;
let prog;
try {
  conn = await sockets.connectAll();
  connected = open().length;
  log(`${conn.connected}/${cfg.sockets} connected with snapshot in ${conn.elapsedSec.toFixed(1)} s; failures ${JSON.stringify(failures)}`);
  tell({ type: "connected", connected, attempted: conn.attempted, cap: conn.cap, failures, elapsedSec: conn.elapsedSec });

  // The orchestrator moves the start to now + 1 s; the fan-out is timed from the event's own transition record.
  step = "waiting for the start transition";
  ({ at: patchedAt } = await nextMessage("patched", cfg.waitPatchSec * 1000));
  step = "activation";
  const waitStart = performance.now();
  const { gaveUpAfterStartNotice } = await sockets.awaitActivation();
  if (aborted) throw new Error(`aborted: ${aborted}`);
  const socketsAtActivation = open();
  const activatedTimes = players.filter((p) => p.activatedAt !== null).map((p) => p.activatedAt);
  activation = {
    openAtActivation: socketsAtActivation.length,
    received: activatedTimes.length,
    missing: socketsAtActivation.filter((p) => p.activatedAt === null).length,
    // Raw receipt times (epoch ms): the orchestrator subtracts the event's own "active" transition time.
    receiptTimes: activatedTimes.map((t) => round(t, 2)),
    waitSec: round((performance.now() - waitStart) / 1000, 2),
    gaveUpAfterStartNotice,
  };
  log(`activation: ${activation.received} sockets got "activated", ${activation.missing} open sockets did not (waited ${activation.waitSec} s)`);
  tell({ type: "activated", received: activation.received, missing: activation.missing, gaveUpAfterStartNotice });

  step = "progress";
  prog = await progress.progressWindow(players);
  if (aborted) throw new Error(`aborted: ${aborted}`);
} catch (err) {
  stopped = { step, reason: aborted ?? String(err?.message ?? err) };
  log(`stopped during ${step}: ${stopped.reason}`);
  // Frames still in flight have an unknown outcome: reported, never counted as acked.
  for (const p of players) progress.dropInFlight(p);
}
// Counted only now: on a shard the "start" notification may follow the "activated" frame the wait ended on.
const startNoticeTimes = players.filter((p) => p.startNoticeAt !== null).map((p) => p.startNoticeAt);
const closeResult = await sockets.closeAll();
clearInterval(memTimer);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const result = {
  sockets: cfg.sockets,
  connectConcurrency: cfg.connectConcurrency,
  fdLimit: limits,
  stopped,
  connect: {
    attempted: conn?.attempted ?? null,
    cap: conn?.cap ?? null,
    capReason: conn?.capReason ?? null,
    connected: conn ? connected : open().length,
    failed: cfg.sockets - (conn ? conn.connected : open().length),
    failures,
    failureSamples,
    elapsedSec: conn ? round(conn.elapsedSec, 2) : null,
    perSec: conn ? round(conn.connected / conn.elapsedSec, 1) : null,
    openMs: summarize(players.filter((p) => p.connectMs !== null && p.snapshotMs !== null).map((p) => p.connectMs)),
    snapshotMs: summarize(players.filter((p) => p.snapshotMs !== null).map((p) => p.snapshotMs)),
  },
  activation: activation
    ? { patchedAt, ...activation, startNoticeReceived: startNoticeTimes.length, startNoticeReceiptTimes: startNoticeTimes.map((t) => round(t, 2)) }
    : null,
  progress: {
    ...(prog ?? {}),
    ran: prog !== undefined,
    framesSent: stats.framesSent,
    framesAcked: stats.framesAcked,
    updatesSent: stats.updatesSent,
    updatesApplied: stats.updatesApplied,
    messagesPerSec: prog ? prog.ackedInWindow / prog.windowSec : null,
    updatesPerSec: prog ? stats.updatesAckedInWindow / prog.windowSec : null,
    ackLatencyMs: summarize(stats.ackLatencies),
    refusedFrames: stats.refusedFrames,
    unexpectedDuplicates: stats.unexpectedDuplicates,
    reapplied: stats.reapplied,
    skippedBackpressure: stats.skippedBackpressure,
    sendErrors: stats.sendErrors,
    unresolvedFrames: stats.unresolvedFrames,
    unresolvedUpdates: stats.unresolvedUpdates,
    unresolvedGems: stats.unresolvedGems,
    errorFrames: frameErrors,
    ackedGems: players.reduce((s, p) => s + p.ackedGems, 0),
    playersAcked: players.filter((p) => p.ackedGems > 0).length,
    playersOnlyUnresolved: players.filter((p) => p.ackedGems === 0 && p.unresolved).length,
  },
  serverCloses,
  badFrames,
  framesByType,
  close: closeResult,
  memory: { peakRssBytes: peakRss, maxRssBytes: process.resourceUsage().maxRSS * 1024 },
};
// stdout to a pipe is asynchronous: exit only once the (large) result has been handed over in full.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
