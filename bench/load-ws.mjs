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

// ---- main ------------------------------------------------------------------------------------------------------

const progress = createProgressDriver({ cfg, log });
const sockets = createSockets({ cfg, log, tell, nextMessage, progress });
const { url, players, open, failures, failureSamples, serverCloses, frameErrors, badFrames, framesByType } = sockets;
const { stats } = progress;

const limits = fdLimit();
log(`${cfg.sockets} sockets to ${url} (${cfg.connectConcurrency} attempts at a time); open-files limit ${limits?.soft}/${limits?.hard}`);
const conn = await sockets.connectAll();
const connected = open().length;
log(`${conn.connected}/${cfg.sockets} connected with snapshot in ${conn.elapsedSec.toFixed(1)} s; failures ${JSON.stringify(failures)}`);
tell({ type: "connected", connected, attempted: conn.attempted, cap: conn.cap, failures, elapsedSec: conn.elapsedSec });

// The orchestrator moves the start to now + 1 s; the fan-out is timed from the event's own transition record.
const { at: patchedAt } = await nextMessage("patched", cfg.waitPatchSec * 1000);
const waitStart = performance.now();
const { gaveUpAfterStartNotice } = await sockets.awaitActivation();
const activationWaitSec = (performance.now() - waitStart) / 1000;
const socketsAtActivation = open();
const activatedTimes = players.filter((p) => p.activatedAt !== null).map((p) => p.activatedAt);
const missingActivated = socketsAtActivation.filter((p) => p.activatedAt === null).length;
log(`activation: ${activatedTimes.length} sockets got "activated", ${missingActivated} open sockets did not (waited ${((performance.now() - waitStart) / 1000).toFixed(1)} s)`);
tell({ type: "activated", received: activatedTimes.length, missing: missingActivated, gaveUpAfterStartNotice });

const prog = await progress.progressWindow(players);
// Counted only now: on a shard the "start" notification may follow the "activated" frame the wait ended on.
const startNoticeTimes = players.filter((p) => p.startNoticeAt !== null).map((p) => p.startNoticeAt);
const closeResult = await sockets.closeAll();
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
