// Phase B: progress ingest under load, then an end-to-end audit. The load process counts only what the server
// acknowledged (seqs under `applied` in 200 responses); after the shards' outboxes drain, D1's sums must equal those
// acknowledgements exactly: anything short is a lost update, anything over a duplicated one.
import { adminApi } from "../admin.mjs";
import { runLoad } from "../load-runner.mjs";
import { fmtCounts, fmtInt, fmtLatency, fmtNum } from "../stats.mjs";

const target = (name, value, goal, met) => ({ name, value, goal, met });

export default {
  name: "progress",
  title: "Phase B: progress (POST /v1/events/:eventId/progress)",

  async run(ctx) {
    const { config } = ctx;
    const api = adminApi(ctx.baseUrl, ctx.adminToken);
    ctx.log("Phase B: creating the bench template and an event starting now…");
    await api.createTemplate("bench-progress");
    const event = await api.createActiveEvent({
      templateId: "bench-progress",
      shardCount: config.shardCount,
      // Consistent with shardCount under the sizing rule (ceil(n × 0.1 / 250)), though shardCount is what decides.
      expectedParticipants: config.shardCount * 2500,
    });
    if (event.shardCount !== config.shardCount) throw new Error(`asked for ${config.shardCount} shards, the event has ${event.shardCount}`);
    // Touch every shard once so none pays its first-call setup (fetching the event) inside the measured window.
    await api.summary(event.eventId);
    ctx.log(`event ${event.eventId} is active with ${event.shardCount} shards; ${config.players} players for ${config.progressSeconds} s…`);

    const load = await runLoad("./load-http.mjs", {
      scenario: "progress",
      baseUrl: ctx.baseUrl,
      eventId: event.eventId,
      playerSecret: ctx.playerSecret,
      players: config.players,
      concurrency: config.concurrency,
      seconds: config.progressSeconds,
      maxRequests: 2_000_000,
      batchSize: 20,
      scoreRate: 0.05,
      resendRate: 0.05,
    });
    ctx.log(
      `Phase B load done: ${fmtNum(load.requestsPerSec)} req/s, ${fmtNum(load.updatesPerSec)} updates/s, ` +
        `p50/p95/p99 ${fmtLatency(load.latencyMs)} ms, errors: ${fmtCounts(load.errors)}`,
    );

    ctx.log("waiting for the shards' outboxes to drain into D1 (≤ 60 s)…");
    const drain = await api.waitDrained(event.eventId, config.drainTimeoutSec * 1000, ctx.log);
    ctx.log(drain.drained ? `drained in ${drain.waitedSec.toFixed(1)} s` : `NOT drained after ${drain.waitedSec.toFixed(0)} s`);
    const totals = await api.totals(event.eventId);
    const ingest = drain.summary.ingest;

    const d1Gems = totals.totals.gems ?? 0;
    const d1Score = totals.totals.score ?? 0;
    const audit = {
      drained: drain.drained,
      drainWaitSec: drain.waitedSec,
      outboxPending: ingest.outboxPending,
      d1Players: totals.players,
      ackedPlayers: load.playersAcked,
      d1Gems,
      ackedGems: load.ackedGems,
      lostUpdates: Math.max(0, load.ackedGems - d1Gems),
      duplicatedUpdates: Math.max(0, d1Gems - load.ackedGems),
      d1Score,
      ackedScore: load.ackedScore,
      shardUpdatesApplied: ingest.updatesApplied,
      shardRequests: ingest.requests,
      d1Statements: ingest.d1Statements,
      d1StatementsPerUpdate: ingest.updatesApplied ? ingest.d1Statements / ingest.updatesApplied : null,
    };
    const echo = ctx.results.echo?.metrics;
    const ratio = echo?.requestsPerSec ? load.requestsPerSec / echo.requestsPerSec : null;
    const perRequest = load.requestsPerSec ? load.updatesPerSec / load.requestsPerSec : null;
    const check = (ok) => (ok ? "ok" : "MISMATCH");

    const targets = [
      target("progress req/s ÷ echo req/s", ratio, "≥ 0.7", ratio !== null && ratio >= 0.7),
      target("updates/s ÷ progress req/s", perRequest, "≥ 10", perRequest !== null && perRequest >= 10),
      target("lost updates", audit.lostUpdates, "= 0", drain.drained && audit.lostUpdates === 0),
      target("duplicated updates", audit.duplicatedUpdates, "= 0", audit.duplicatedUpdates === 0),
    ];
    const status = (t) => (t.met ? "met" : "MISSED");
    const otherErrors = {
      refused_updates: load.refused,
      unresolved_updates: load.unresolvedUpdates,
      reapplied_seqs: load.reapplied,
      unexpected_duplicates: load.unexpectedDuplicates,
      resends_not_all_duplicate: load.resendsWrong,
      unparseable_bodies: load.badBodies,
    };
    const retryNote = load.retries ? ` (${fmtInt(load.retries)} retries after 5xx; ${fmtInt(load.ackedOnRetry)} acked as duplicates on retry)` : "";
    return {
      metrics: { eventId: event.eventId, shardCount: event.shardCount, load, audit, ratio, updatesPerRequest: perRequest },
      rows: [
        ["progress requests/s", fmtNum(load.requestsPerSec), "", ""],
        ["progress updates/s (acked)", fmtNum(load.updatesPerSec), "", ""],
        ["updates/s ÷ requests/s", fmtNum(perRequest, 3), targets[1].goal, status(targets[1])],
        ["progress latency p50/p95/p99 (ms)", fmtLatency(load.latencyMs), "", ""],
        ["ratio progress ÷ echo req/s", fmtNum(ratio, 3), targets[0].goal, status(targets[0])],
        ["D1 statements per update", fmtNum(audit.d1StatementsPerUpdate, 4), "", ""],
        ["lost updates (acked gems − D1)", fmtInt(audit.lostUpdates), targets[2].goal, status(targets[2])],
        ["duplicated updates (D1 − acked gems)", fmtInt(audit.duplicatedUpdates), targets[3].goal, status(targets[3])],
        ["progress errors (non-200, by status)", fmtCounts(load.errors) + retryNote, "", ""],
        ["other client-side anomalies", fmtCounts(otherErrors), "", ""],
        "  audit detail",
        ["gems: acked / D1", `${fmtInt(load.ackedGems)} / ${fmtInt(d1Gems)}`, "equal", check(load.ackedGems === d1Gems)],
        ["score (Σ max reach): acked / D1", `${fmtInt(load.ackedScore)} / ${fmtInt(d1Score)}`, "equal", check(load.ackedScore === d1Score)],
        ["players: acked / D1", `${fmtInt(load.playersAcked)} / ${fmtInt(totals.players)}`, "equal", check(load.playersAcked === totals.players)],
        ["updates: acked / shard counters", `${fmtInt(load.updatesApplied)} / ${fmtInt(ingest.updatesApplied)}`, "equal", check(load.updatesApplied === ingest.updatesApplied)],
        ["exact resends: all-duplicate / answered", `${fmtInt(load.resendsAllDuplicate)} / ${fmtInt(load.resends - load.resendsFailed)}`, "equal", check(load.resendsWrong === 0)],
        ["outbox drained", drain.drained ? `yes, ${drain.waitedSec.toFixed(1)} s` : `no (${ingest.outboxPending} pending)`, "", ""],
      ],
      targets,
    };
  },
};
