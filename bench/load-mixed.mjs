// The mixed load (phase D), its own process like the other loads: several events running at once with unequal
// participation, plus a burst of rapid state transitions on more events while progress keeps flowing. It logs on
// stderr and prints exactly one JSON result on stdout; config arrives in BENCH_LOAD_CONFIG (it holds secrets).
//
//   progress   `concurrency` loops; each request goes to a (player, event) participation picked at random, so an
//              event's share of the traffic is its share of the participants. A player has at most one request in
//              flight per event, and its seqs for that event only grow. Counted exactly as in load-http.mjs: acked =
//              seqs under `applied` (or under `duplicates` on a retry after a 5xx); 409 event_not_active is the
//              expected answer while an event is paused or over, and applies nothing.
//   burst      at `burst.atSec` into the window, every "commanded" event runs `burst.commands` (pause, resume, …,
//              end-now) back to back through the admin API; each command's send and reply times are kept.
//   observers  one socket per commanded or timed event, a player watching it: every event_state frame with the
//              time it arrived. Timed events (start and end a few seconds into the window) are also polled through
//              GET /v1/events/:id, noting when each state was first seen.
// The orchestrator (phases/mixed.mjs) matches frames and polls to the transitions and audits D1.
import { performance } from "node:perf_hooks";
import { makeClient } from "./http-client.mjs";
import { mintPlayerToken } from "./jwt.mjs";
import { countInto, summarize } from "./stats.mjs";

const cfg = JSON.parse(process.env.BENCH_LOAD_CONFIG ?? "{}");
const log = (msg) => process.stderr.write(`  [load:mixed] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock time with sub-millisecond resolution: transitions are timed against the server's own instants. */
const wallNow = () => performance.timeOrigin + performance.now();
const round = (v) => Math.round(v * 100) / 100;
setTimeout(() => {
  log("watchdog: the load did not finish in time, giving up");
  process.exit(3);
}, (cfg.seconds + cfg.settleSec + 120) * 1000).unref();

const tokens = new Map();
const token = (id) => tokens.get(id) ?? tokens.set(id, mintPlayerToken(cfg.playerSecret, id, 3600)).get(id);

const events = cfg.events.map((e) => ({
  ...e,
  path: `/v1/events/${e.eventId}/progress`,
  players: Array.from({ length: e.players }, (_, j) => ({ id: `${cfg.playerPrefix}${String(j).padStart(5, "0")}`, seq: 0, sent: j, maxAcked: 0, gems: 0, busy: false, unresolved: false })),
  s: {
    requests: 0,
    accepted: 0,
    latencies: [], // accepted requests (200), ms
    startedAt: [], // when each accepted request started, ms into the window (steady events: split by the burst)
    errors: {},
    refusedNotActive: 0,
    updatesApplied: 0,
    ackedOnRetry: 0,
    unresolvedUpdates: 0,
    unresolvedGems: 0,
    reapplied: 0,
    unexpectedDuplicates: 0,
  },
  observer: null,
  poll: null,
  commands: [],
}));
/** Every (event, player) participation once: a uniform pick over it gives each event its share of the traffic. */
const participations = events.flatMap((e) => e.players.map((p) => [e, p]));

// ---- progress ----------------------------------------------------------------------------------------------------

function pickFree() {
  for (let i = 0; i < 8; i++) {
    const [e, p] = participations[Math.floor(Math.random() * participations.length)];
    if (!p.busy) return [e, p];
  }
  return null;
}

async function progressOp(client, windowStart) {
  const picked = pickFree();
  if (!picked) return sleep(2);
  const [e, p] = picked;
  p.busy = true;
  const size = p.sent++ % 4 === 0 ? 1 : cfg.batchSize;
  const updates = Array.from({ length: size }, () => ({ objectiveId: "gems", amount: 1 + Math.floor(Math.random() * 10), seq: ++p.seq }));
  const payload = JSON.stringify({ updates });
  const headers = { authorization: `Bearer ${token(p.id)}`, "content-type": "application/json" };
  let res;
  let attempt = 0;
  for (; attempt < 3; attempt++) {
    const t0 = performance.now();
    e.s.requests++;
    try {
      res = await client.send("POST", e.path, headers, payload);
    } catch (err) {
      res = { status: 0, error: err.code ?? err.name ?? "error" };
    }
    if (res.status === 200) {
      e.s.latencies.push(performance.now() - t0);
      e.s.startedAt.push(t0 - windowStart);
    }
    if (res.status === 200 || (res.status >= 400 && res.status < 500)) break;
    countInto(e.s.errors, res.status ? String(res.status) : res.error);
  }
  p.busy = false;
  if (res.status === 409 && res.text.includes('"event_not_active"')) return void e.s.refusedNotActive++;
  if (res.status !== 200) {
    if (res.status >= 400 && res.status < 500) return void countInto(e.s.errors, String(res.status));
    // Outcome unknown: the server may have applied them (the audit allows for it).
    e.s.unresolvedUpdates += updates.length;
    for (const u of updates) e.s.unresolvedGems += u.amount;
    p.unresolved = true;
    return;
  }
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    return void countInto(e.s.errors, "unparseable_body");
  }
  e.s.accepted++;
  const applied = new Set(body.applied ?? []);
  const already = new Set(attempt > 0 ? (body.duplicates ?? []) : []);
  for (const u of updates) {
    const isApplied = applied.delete(u.seq);
    if (!isApplied && !already.has(u.seq)) continue;
    if (u.seq <= p.maxAcked) {
      if (isApplied) e.s.reapplied++;
      continue;
    }
    if (!isApplied) e.s.ackedOnRetry++;
    p.maxAcked = u.seq;
    p.gems += u.amount;
    e.s.updatesApplied++;
  }
  e.s.reapplied += applied.size;
  if (attempt === 0) e.s.unexpectedDuplicates += (body.duplicates ?? []).length;
}

// ---- the burst of commands -----------------------------------------------------------------------------------------

async function command(e, cmd) {
  const sentAt = wallNow();
  let status = 0;
  let body = null;
  try {
    const res = await fetch(`${cfg.baseUrl}/v1/admin/events/${e.eventId}/${cmd}`, {
      method: "POST",
      headers: { authorization: `Bearer ${cfg.adminToken}`, "content-type": "application/json", "x-operator": "bench" },
      body: JSON.stringify({ reason: "bench: transition burst" }),
      signal: AbortSignal.timeout(30_000),
    });
    status = res.status;
    body = await res.json().catch(() => null);
  } catch (err) {
    body = { error: { code: err.name ?? "error" } };
  }
  e.commands.push({ command: cmd, sentAt: round(sentAt), returnedAt: round(wallNow()), status, state: body?.state ?? null, error: body?.error?.code ?? null });
}

async function burst() {
  const [lo, hi] = cfg.burst.jitterMs;
  await Promise.all(
    events
      .filter((e) => e.kind === "commanded")
      .map(async (e) => {
        for (const cmd of cfg.burst.commands) {
          await sleep(lo + Math.random() * (hi - lo));
          await command(e, cmd);
        }
      }),
  );
}

// ---- observers -------------------------------------------------------------------------------------------------------

function observe(e, i) {
  const o = { connected: false, snapshotMs: null, frames: [], closes: [], error: null };
  e.observer = o;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const timer = setTimeout(() => {
      o.error = "no snapshot within the timeout";
      resolve();
    }, cfg.observerTimeoutMs);
    let ws;
    try {
      ws = new WebSocket(`${cfg.wsOrigin}/v1/events/${e.eventId}/live`, ["live-events.v1", token(`${cfg.watcherPrefix}${i}`)]);
    } catch (err) {
      o.error = String(err.message ?? err);
      clearTimeout(timer);
      return resolve();
    }
    o.ws = ws;
    ws.onmessage = (ev) => {
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (f.type !== "event_state") return;
      if (f.change === "snapshot" && !o.connected) {
        o.connected = true;
        o.snapshotMs = round(performance.now() - t0);
        clearTimeout(timer);
        resolve();
        return;
      }
      o.frames.push({ change: f.change, state: f.state, at: f.at, receivedAt: round(wallNow()) });
    };
    ws.onerror = (ev) => {
      o.error ??= String(ev?.message ?? ev?.error?.message ?? "error");
    };
    ws.onclose = (ev) => {
      o.closes.push({ code: ev.code, at: round(wallNow()) });
      clearTimeout(timer);
      resolve();
    };
  });
}

/** Polls a timed event until it is seen expired (or the deadline), noting when each state was first seen. */
async function poll(e, i, until) {
  const p = { firstSeen: {}, polls: 0, errors: {} };
  e.poll = p;
  const headers = { authorization: `Bearer ${token(`${cfg.watcherPrefix}${i}`)}` };
  while (!p.firstSeen.expired && wallNow() < until) {
    const started = performance.now();
    try {
      const res = await fetch(`${cfg.baseUrl}/v1/events/${e.eventId}`, { headers, signal: AbortSignal.timeout(10_000) });
      const body = await res.json().catch(() => null);
      p.polls++;
      if (res.ok && body?.state) p.firstSeen[body.state] ??= round(wallNow());
      else countInto(p.errors, String(res.status));
    } catch (err) {
      countInto(p.errors, err.name ?? "error");
    }
    await sleep(Math.max(0, cfg.pollIntervalMs - (performance.now() - started)));
  }
}

// ---- main --------------------------------------------------------------------------------------------------------------

const watched = events.filter((e) => e.kind !== "steady");
log(`${watched.length} observer sockets…`);
await Promise.all(watched.map((e, i) => observe(e, i)));
log(`${watched.filter((e) => e.observer.connected).length}/${watched.length} observers connected`);

const client = await makeClient(cfg.baseUrl, cfg.concurrency);
const windowStart = performance.now();
const windowEnd = windowStart + cfg.seconds * 1000;
const settleUntil = wallNow() + (cfg.seconds + cfg.settleSec) * 1000;
const pollers = events.filter((e) => e.kind === "timed").map((e) => poll(e, watched.indexOf(e), settleUntil));
let burstTimes = null;
const burstDone = sleep(cfg.burst.atSec * 1000).then(async () => {
  const started = performance.now();
  log(`burst: ${cfg.burst.commands.join(", ")} on ${events.filter((e) => e.kind === "commanded").length} events…`);
  await burst();
  burstTimes = { fromSec: round((started - windowStart) / 1000), toSec: round((performance.now() - windowStart) / 1000) };
  log(`burst done in ${(burstTimes.toSec - burstTimes.fromSec).toFixed(2)} s`);
});
const ticker = setInterval(() => {
  const n = events.reduce((sum, e) => sum + e.s.requests, 0);
  log(`${((performance.now() - windowStart) / 1000).toFixed(0)} s: ${n} requests`);
}, 5000);
await Promise.all(
  Array.from({ length: cfg.concurrency }, async () => {
    while (performance.now() < windowEnd) await progressOp(client, windowStart);
  }),
);
const elapsedSec = (performance.now() - windowStart) / 1000;
clearInterval(ticker);
await burstDone;
await Promise.all(pollers);
// Frames still owed for the last transitions (an expiry at the window's end) get until the settle deadline.
const expectExpired = (e) => e.kind !== "steady" && !e.observer.frames.some((f) => f.change === "expired") && e.observer.closes.length === 0;
while (watched.some((e) => e.observer.connected && expectExpired(e)) && wallNow() < settleUntil) await sleep(100);
for (const e of watched) {
  try {
    e.observer.ws?.close(1000, "bench done");
  } catch {
    // not open
  }
}
await client.close();

// Latency figures leave out the first `warmupSec`, while the connections open and each shard answers its first call.
const warm = (e) => e.s.latencies.filter((_, k) => e.s.startedAt[k] >= cfg.warmupSec * 1000);
const inBurst = (t) => burstTimes !== null && t >= burstTimes.fromSec * 1000 && t <= burstTimes.toSec * 1000;
const steadySplit = (during) =>
  summarize(events.filter((e) => e.kind === "steady").flatMap((e) => e.s.latencies.filter((_, k) => e.s.startedAt[k] >= cfg.warmupSec * 1000 && inBurst(e.s.startedAt[k]) === during)));
const result = {
  windowSec: cfg.seconds,
  warmupSec: cfg.warmupSec,
  elapsedSec: round(elapsedSec),
  burst: burstTimes,
  // All steady events' accepted requests together, started during the burst or outside it (after the warm-up).
  steadyDuringBurstMs: steadySplit(true),
  steadyOutsideBurstMs: steadySplit(false),
  events: events.map((e) => {
    const s = e.s;
    const acked = e.players.filter((p) => p.maxAcked > 0);
    return {
      eventId: e.eventId,
      kind: e.kind,
      players: e.players.length,
      shardCount: e.shardCount,
      startTime: e.startTime ?? null,
      endTime: e.endTime ?? null,
      requests: s.requests,
      accepted: s.accepted,
      acceptedPerSec: round(s.accepted / elapsedSec),
      latencyMs: summarize(warm(e)),
      coldLatencyMs: summarize(s.latencies.filter((_, k) => s.startedAt[k] < cfg.warmupSec * 1000)),
      errors: s.errors,
      refusedNotActive: s.refusedNotActive,
      updatesApplied: s.updatesApplied,
      ackedOnRetry: s.ackedOnRetry,
      unresolvedUpdates: s.unresolvedUpdates,
      unresolvedGems: s.unresolvedGems,
      reapplied: s.reapplied,
      unexpectedDuplicates: s.unexpectedDuplicates,
      ackedGems: acked.reduce((sum, p) => sum + p.gems, 0),
      playersAcked: acked.length,
      playersOnlyUnresolved: e.players.filter((p) => p.maxAcked === 0 && p.unresolved).length,
      commands: e.commands,
      observer: e.observer && { ...e.observer, ws: undefined },
      poll: e.poll,
    };
  }),
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
