// The socket side of the WebSocket load (phase C), used by load-ws.mjs: one simulated player per socket, the
// connection ramp (with the orchestrator's calibration stops and cap), every frame the sockets receive, the wait for
// the "activated" fan-out, and the clean close. What the sockets send during the progress window, and the acks that
// answer it, belong to the progress driver (ws-progress.mjs), which this module hands those frames to.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { mintPlayerToken } from "./jwt.mjs";
import { countInto } from "./stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock time with sub-millisecond resolution: the server's timestamps are on the same machine's clock. */
const wallNow = () => performance.timeOrigin + performance.now();

/** One simulated player: one socket, its own seq counter and its own tally of what the server acknowledged. */
function makePlayer(cfg, i) {
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
function probeHandshake(url, p) {
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

/**
 * Makes the `cfg.sockets` players (tokens minted up front) and returns their sockets' steps and tallies:
 * { url, players, open, connectAll, awaitActivation, closeAll, failures, failureSamples, serverCloses, frameErrors,
 * badFrames, framesByType }. `tell` / `nextMessage` are the IPC channel to the orchestrator; `progress` is the
 * driver from ws-progress.mjs. Once `isAborted()`, no new connection is attempted and the waits end early.
 */
export function createSockets({ cfg, log, tell, nextMessage, progress, abortedPromise, isAborted }) {
  const url = `${cfg.wsOrigin}/v1/events/${cfg.eventId}/live`;
  const failures = {}; // connection attempts that never delivered a snapshot, by reason
  const serverCloses = {}; // sockets closed while we still wanted them (by close code)
  const frameErrors = {}; // error frames from the server, by code
  const failureSamples = []; // the first few failures, with details, for the report
  const badFrames = { unparseable: 0, unexpectedType: 0 };
  const framesByType = {}; // every frame received, by type (and change / notification type)
  let closing = false;
  /** Running counts, so the per-frame checks stay O(1) with 10,000 sockets. "open" = connected with its snapshot. */
  const live = { open: 0, openActivated: 0, openNoticed: 0 };

  const players = Array.from({ length: cfg.sockets }, (_, i) => makePlayer(cfg, i));
  const open = () => players.filter((p) => p.isOpen);

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
    } else if (f.type === "ack") {
      if (!progress.onAck(p, f)) badFrames.unexpectedType++;
    } else if (f.type === "error") {
      countInto(frameErrors, f.code);
      progress.onRefused(p, f);
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
          progress.onSocketLost(p);
        }
      };
    });
  }

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
          while (next < upTo && performance.now() < deadline && !isAborted()) {
            const p = players[next++];
            if (await connect(p)) ok++;
          }
        }),
      );
    let cap;
    let why;
    try {
      for (const [i, upTo] of cfg.calibrateAt.entries()) {
        await stage(Math.min(upTo, players.length));
        // Let the stragglers' descriptors settle before the orchestrator counts them.
        const pauseStart = performance.now();
        tell({ type: "calibrate", step: i, connected: ok, attempted: next });
        await nextMessage("calibrated", 30_000);
        paused += performance.now() - pauseStart;
      }
      const pauseStart = performance.now();
      let maxSockets;
      ({ maxSockets, why } = await nextMessage("cap", 30_000));
      paused += performance.now() - pauseStart;
      cap = Math.min(players.length, Math.max(next, maxSockets));
      if (cap < players.length) log(`the orchestrator capped the sockets at ${cap}: ${why}`);
      await stage(cap);
      if (isAborted()) throw new Error("aborted during the connection ramp");
    } finally {
      clearInterval(ticker);
    }
    const elapsed = (performance.now() - started - paused) / 1000;
    const overCap = players.length - cap;
    if (overCap) failures.not_attempted_server_fd_limit = overCap;
    const notAttempted = cap - next;
    if (notAttempted) failures.not_attempted_connect_budget = notAttempted;
    // Classify handshake refusals by replaying a few as raw upgrades (after the ramp, so they do not skew it).
    for (const s of failureSamples) {
      if (s.reason === "handshake_refused") s.probe = await probeHandshake(url, players.find((p) => p.id === s.player));
    }
    return { elapsedSec: elapsed, connected: ok, attempted: next, cap, capReason: cap < players.length ? why : null };
  }

  // ---- activation fan-out --------------------------------------------------------------------------------------

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

  /** Waits until every open socket saw change "activated" (bounded, see above); resolves { gaveUpAfterStartNotice }. */
  async function awaitActivation() {
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
        void abortedPromise.then(finish);
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
    return { gaveUpAfterStartNotice };
  }

  // ---- clean close ---------------------------------------------------------------------------------------------

  async function closeAll() {
    closing = true;
    const toClose = players.filter((p) => p.ws && p.ws.readyState <= 1);
    const started = performance.now();
    let closed = 0;
    const codes = {};
    await Promise.race([
      Promise.all(
        toClose.map(
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
    return { requested: toClose.length, closedCleanly: closed, codes, elapsedSec: (performance.now() - started) / 1000 };
  }

  return {
    url,
    players,
    open,
    connectAll,
    awaitActivation,
    closeAll,
    failures,
    failureSamples,
    serverCloses,
    frameErrors,
    badFrames,
    framesByType,
  };
}
