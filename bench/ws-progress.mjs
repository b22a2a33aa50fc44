// The progress-frame driver of the WebSocket load (phase C), used by load-ws.mjs: during the window every open socket
// sends "progress" frames, and each ack is matched to the frame it answers, so the orchestrator can audit the gems
// the server acknowledged against what reached D1. The sockets themselves (and the frames they receive) belong to
// ws-sockets.mjs, which hands this driver the acks, the refusals and the sockets lost with frames in flight.
import { performance } from "node:perf_hooks";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Returns { stats, onAck, onRefused, onSocketLost, dropInFlight, progressWindow }. Works on the players of ws-sockets.mjs: their
 * `ws`, `seq`, `inFlight` (frame id → { sentAt, updates, gems }) and `ackedGems`.
 */
export function createProgressDriver({ cfg, log, abortedPromise, isAborted }) {
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
    unresolvedUpdates: 0,
    unresolvedGems: 0,
    ackLatencies: [],
    framesAckedInWindow: 0, // acks received before the window closed: the throughput figures
    updatesAckedInWindow: 0,
  };
  /** Frames in flight over all sockets: a running count, so the per-frame checks stay O(1) with 10,000 sockets. */
  let pending = 0;
  let settledWaiter = null;
  function onSettled() {
    if (settledWaiter && pending === 0) settledWaiter();
  }

  /** Handles an "ack" frame; false if it answers no frame of ours (the caller counts it as unexpected). */
  function onAck(p, f) {
    const sent = p.inFlight.get(f.id);
    if (!sent) return false;
    p.inFlight.delete(f.id);
    pending--;
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
    return true;
  }

  /** Handles an "error" frame that may answer one of our frames. */
  function onRefused(p, f) {
    if (f.id === undefined || !p.inFlight.has(f.id)) return;
    // A refused frame applied nothing (the server validates the whole batch first): not counted as acked.
    p.inFlight.delete(f.id);
    pending--;
    stats.refusedFrames++;
    onSettled();
  }

  /** Reports the frames still in flight on `p` as unresolved and forgets them. */
  function dropInFlight(p) {
    if (p.inFlight.size) p.unresolved = true;
    for (const f of p.inFlight.values()) {
      stats.unresolvedGems += f.gems;
      stats.unresolvedUpdates += f.updates.length;
    }
    stats.unresolvedFrames += p.inFlight.size;
    pending -= p.inFlight.size;
    p.inFlight.clear();
  }

  /** A socket the server closed while we still wanted it. */
  function onSocketLost(p) {
    if (p.inFlight.size) {
      // Outcome unknown for these frames: the server may have applied them before closing.
      dropInFlight(p);
      onSettled();
    }
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
    pending++;
    stats.framesSent++;
    stats.updatesSent += n;
  }

  /** Runs the window over the players open now, then waits (bounded) for the acks still owed. */
  async function progressWindow(players) {
    const active = players.filter((p) => p.isOpen);
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
      () => log(`${((performance.now() - windowStart) / 1000).toFixed(0)} s: ${stats.framesSent} frames sent, ${stats.framesAcked} acked, ${pending} in flight`),
      5000,
    );
    await Promise.race([sleep(cfg.progressSeconds * 1000), abortedPromise]);
    for (const t of timers) clearTimeout(t);
    clearInterval(ticker);
    const sentInWindow = stats.framesSent;
    const ackedInWindow = stats.framesAckedInWindow;
    // Wait for the acks still owed: their outcome decides the audit. A saturated server answers a backlog of
    // thousands of frames only at its own pace, so the wait goes on while acks keep coming (up to ackGraceSec) and
    // gives up once none came for ackIdleSec: from then on it would only be waiting on frames it may never answer.
    const graceStart = performance.now();
    const pendingAtEnd = pending;
    let ackWaitEndedBy = pending ? null : "nothing outstanding";
    if (pending > 0 && !isAborted()) {
      log(`window over; waiting for ${pending} outstanding acks while they keep coming (≤ ${cfg.ackGraceSec} s, ≤ ${cfg.ackIdleSec} s without one)…`);
      ackWaitEndedBy = await new Promise((resolve) => {
        let lastAcked = stats.framesAcked;
        let lastAckAt = performance.now();
        const poll = setInterval(() => {
          const now = performance.now();
          if (stats.framesAcked !== lastAcked) {
            lastAcked = stats.framesAcked;
            lastAckAt = now;
          }
          if (now - graceStart > cfg.ackGraceSec * 1000) finish(`the ${cfg.ackGraceSec} s limit`);
          else if (now - lastAckAt > cfg.ackIdleSec * 1000) finish(`${cfg.ackIdleSec} s without an ack`);
        }, 250);
        const progressLog = setInterval(() => log(`${pending} acks still outstanding…`), 5000);
        const finish = (why) => {
          clearInterval(poll);
          clearInterval(progressLog);
          settledWaiter = null;
          resolve(why);
        };
        settledWaiter = () => finish("every ack arrived");
        void abortedPromise.then(() => finish("the phase was stopped"));
      });
      log(`ack wait over after ${((performance.now() - graceStart) / 1000).toFixed(1)} s (${ackWaitEndedBy}); ${pending} still outstanding`);
    }
    const ackTailSec = (performance.now() - graceStart) / 1000;
    const unansweredAtEnd = pending;
    // What is still unanswered has an unknown outcome (it may yet be applied): reported, never counted as acked.
    for (const p of players) dropInFlight(p);
    return { windowSec: cfg.progressSeconds, sentInWindow, ackedInWindow, ackTailSec, pendingAtEnd, unansweredAtEnd, ackWaitEndedBy, sockets: active.length };
  }

  return { stats, onAck, onRefused, onSocketLost, dropInFlight, progressWindow };
}
