// The HTTP load generator. It runs as its own process (spawned by run.mjs) so that its CPU time, GC pauses and
// sockets are separate from the orchestrator; it prints progress on stderr and exactly one JSON result on stdout.
// Config arrives in the BENCH_LOAD_CONFIG environment variable (it holds the player-token secret, which must not
// show up in `ps`). Every loop is bounded by a request count and by a deadline, and a watchdog ends the process.
import { performance } from "node:perf_hooks";
import { makeClient, recorder } from "./http-client.mjs";
import { mintPlayerToken } from "./jwt.mjs";
import { pool, watchdog } from "./pool.mjs";
import { summarize } from "./stats.mjs";

const cfg = JSON.parse(process.env.BENCH_LOAD_CONFIG ?? "{}");
const log = (msg) => process.stderr.write(`  [load:${cfg.scenario}] ${msg}\n`);
watchdog(cfg.seconds + (cfg.warmupSeconds ?? 0) + 60, log);

// ---- scenarios ------------------------------------------------------------------------------------------------

async function echo(client) {
  const rec = recorder(client);
  let n = 0;
  let mismatches = 0;
  const op = async () => {
    const i = n++;
    const res = await rec.send("GET", `/v1/_bench/echo?n=${i}`);
    if (res.status === 200 && JSON.parse(res.text).n !== i) mismatches++;
  };
  // A short unmeasured warm-up: the first calls create the echo objects and open the sockets.
  rec.measuring = false;
  await pool(cfg.concurrency, cfg.warmupSeconds ?? 0, cfg.maxRequests, (_, loop) => op(loop), () => {});
  rec.measuring = true;
  const elapsed = await pool(cfg.concurrency, cfg.seconds, cfg.maxRequests, (_, loop) => op(loop), (t) => log(`${t.toFixed(0)} s: ${rec.requests} requests`));
  return { elapsedSec: elapsed, requests: rec.requests, requestsPerSec: rec.requests / elapsed, latencyMs: summarize(rec.latencies), errors: rec.errors, mismatches };
}

async function progress(client) {
  const rec = recorder(client);
  const path = `/v1/events/${cfg.eventId}/progress`;
  const players = Array.from({ length: cfg.players }, (_, i) => {
    const id = `bench-p${String(i).padStart(5, "0")}`;
    const headers = { authorization: `Bearer ${mintPlayerToken(cfg.playerSecret, id, 3600)}`, "content-type": "application/json" };
    // sent starts at i so players open at different points of the mix: short runs are not skewed either way.
    return { id, headers, seq: 0, sent: i, maxAcked: 0, gems: 0, score: 0 };
  });
  // Each loop owns the players i ≡ w (mod concurrency) and serves them in turn, so a player never has two requests
  // in flight: seqs reach the server in order, as from one real client, and a high-water mark is a fair test.
  const owned = Array.from({ length: cfg.concurrency }, (_, w) => players.filter((_, i) => i % cfg.concurrency === w));
  const turn = new Array(cfg.concurrency).fill(0);
  const c = {
    updatesSent: 0,
    updatesApplied: 0,
    ackedOnRetry: 0,
    reapplied: 0,
    unexpectedDuplicates: 0,
    resends: 0,
    resendsAllDuplicate: 0,
    resendsWrong: 0,
    resendsFailed: 0,
    retries: 0,
    refused: 0,
    unresolvedUpdates: 0,
    unresolvedGems: 0,
    badBodies: 0,
  };

  const makeUpdates = (p) => {
    // One request in four carries a single update, three carry a 20-update batch: games batch client-side and flush
    // a lone update only when something must be seen at once (a milestone about to unlock).
    const size = p.sent++ % 4 === 0 ? 1 : cfg.batchSize;
    return Array.from({ length: size }, () =>
      Math.random() < cfg.scoreRate
        ? { objectiveId: "score", amount: 1 + Math.floor(Math.random() * 1_000_000), seq: ++p.seq }
        : { objectiveId: "gems", amount: 1 + Math.floor(Math.random() * 10), seq: ++p.seq },
    );
  };
  const parse = (res) => {
    try {
      return JSON.parse(res.text);
    } catch {
      c.badBodies++;
      return null;
    }
  };

  /**
   * Counts what the server acknowledged: seqs under `applied`, and, on a retry after an unknown outcome (5xx, lost
   * connection), seqs under `duplicates` too: the server says an earlier attempt applied them, which a correct
   * client takes as its ack. Each seq is counted once; a seq under `applied` a second time is the server applying
   * it twice, counted as `reapplied` and not summed, so the D1 audit shows it as duplicated.
   */
  const account = (p, updates, body, afterUnknownOutcome) => {
    const applied = new Set(body.applied ?? []);
    const already = new Set(afterUnknownOutcome ? (body.duplicates ?? []) : []);
    for (const u of updates) {
      const isApplied = applied.delete(u.seq);
      if (!isApplied && !already.has(u.seq)) continue;
      if (u.seq <= p.maxAcked) {
        if (isApplied) c.reapplied++;
        continue;
      }
      if (!isApplied) c.ackedOnRetry++;
      p.maxAcked = u.seq;
      c.updatesApplied++;
      if (u.objectiveId === "gems") p.gems += u.amount;
      else p.score = Math.max(p.score, u.amount);
    }
    c.reapplied += applied.size; // seqs this request never carried
    if (!afterUnknownOutcome) c.unexpectedDuplicates += (body.duplicates ?? []).length;
  };

  const op = async (w) => {
    const p = owned[w][turn[w]++ % owned[w].length];
    const updates = makeUpdates(p);
    const payload = JSON.stringify({ updates });
    c.updatesSent += updates.length;
    // A 5xx or a dropped connection leaves the outcome unknown, so the request is retried with the same seqs (what
    // a correct client does); 4xx means nothing was applied, so the updates are dropped and counted as refused.
    let res;
    let attempt = 0;
    for (; attempt < 3; attempt++) {
      if (attempt) c.retries++;
      res = await rec.send("POST", path, p.headers, payload);
      if (res.status === 200 || (res.status >= 400 && res.status < 500)) break;
    }
    if (res.status !== 200) {
      if (res.status >= 400 && res.status < 500) c.refused += updates.length;
      else {
        // Outcome unknown: the server may have applied them. The audit allows for them (acked ≤ D1 ≤ acked + these).
        c.unresolvedUpdates += updates.length;
        for (const u of updates) if (u.objectiveId === "gems") c.unresolvedGems += u.amount;
        p.unresolved = true;
      }
      return;
    }
    const body = parse(res);
    if (!body) return;
    account(p, updates, body, attempt > 0);
    // The deliberate exact resend: every seq must come back under `duplicates`, none under `applied`.
    if (Math.random() < cfg.resendRate) {
      c.resends++;
      const again = await rec.send("POST", path, p.headers, payload);
      const b = again.status === 200 ? parse(again) : null;
      if (!b) {
        c.resendsFailed++;
        return;
      }
      if ((b.applied ?? []).length === 0 && (b.duplicates ?? []).length === updates.length) c.resendsAllDuplicate++;
      else c.resendsWrong++;
      // Duplicates are the expected answer here, not an anomaly; anything under applied is a reapplication.
      account(p, updates, { applied: b.applied }, false);
    }
  };

  const elapsed = await pool(cfg.concurrency, cfg.seconds, cfg.maxRequests, (_, loop) => op(loop), (t) =>
    log(`${t.toFixed(0)} s: ${rec.requests} requests, ${c.updatesApplied} updates acked`),
  );
  const acked = players.filter((p) => p.maxAcked > 0);
  return {
    elapsedSec: elapsed,
    requests: rec.requests,
    requestsPerSec: rec.requests / elapsed,
    updatesPerSec: c.updatesApplied / elapsed,
    latencyMs: summarize(rec.latencies),
    errors: rec.errors,
    ...c,
    players: players.length,
    playersAcked: acked.length,
    // Players none of whose updates was acknowledged, but some of whose requests had an unknown outcome.
    playersOnlyUnresolved: players.filter((p) => p.maxAcked === 0 && p.unresolved).length,
    ackedGems: acked.reduce((s, p) => s + p.gems, 0),
    ackedScore: acked.reduce((s, p) => s + p.score, 0),
  };
}

// ---- main -----------------------------------------------------------------------------------------------------

const scenarios = { echo, progress };
if (!scenarios[cfg.scenario]) {
  log(`unknown scenario ${JSON.stringify(cfg.scenario)}`);
  process.exit(2);
}
const client = await makeClient(cfg.baseUrl, cfg.concurrency);
log(`${cfg.concurrency} concurrent requests over keep-alive (${client.kind}) for ${cfg.seconds} s`);
const result = await scenarios[cfg.scenario](client);
await client.close();
process.stdout.write(`${JSON.stringify({ scenario: cfg.scenario, client: client.kind, concurrency: cfg.concurrency, ...result })}\n`);
process.exit(0);
