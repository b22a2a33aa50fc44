// Phase B: progress ingest under load, then an end-to-end audit. The load process counts only what the server
// acknowledged (seqs under `applied` in 200 responses); after the shards' outboxes drain, D1's sums must hold every
// acknowledged update, and nothing beyond the updates whose outcome stayed unknown (see ../audit.mjs). A drain or a
// D1 read that cannot finish is reported as such, with the load's figures, rather than ending the bench.
import { adminApi } from "../admin.mjs";
import { auditSum, boundsCell, boundsCheck } from "../audit.mjs";
import { runLoad } from "../load-runner.mjs";
import { fmtCounts, fmtInt, fmtLatency, fmtNum, target } from "../stats.mjs";


export default {
  name: "progress",
  title: "Phase B: progress (POST /v1/events/:eventId/progress)",

  async run(ctx) {
    const { config } = ctx;
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
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
    ctx.measured.eventId = event.eventId;
    ctx.measured.step = "load";

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

    ctx.measured.load = load;
    ctx.measured.step = "drain";
    ctx.log(`waiting for the shards' outboxes to drain into D1 (≤ ${config.drainTimeoutSec} s)…`);
    const drain = await api.waitDrained(event.eventId, config.drainTimeoutSec * 1000, ctx.log);
    ctx.log(drain.drained ? `drained in ${drain.waitedSec.toFixed(1)} s` : `NOT drained after ${drain.waitedSec.toFixed(0)} s${drain.error ? ` (${drain.error})` : ""}`);
    ctx.measured.step = "totals";
    const t = await api.tryTotals(event.eventId);
    if (t.error) ctx.log(`D1 totals unavailable: ${t.error}`);
    const totals = t.totals ?? null;
    const ingest = drain.summary?.ingest ?? null;

    const d1Gems = totals ? (totals.totals.gems ?? 0) : null;
    const d1Score = totals ? (totals.totals.score ?? 0) : null;
    const gems = auditSum({ acked: load.ackedGems, unresolved: load.unresolvedGems, d1: d1Gems });
    const audit = {
      drained: drain.drained,
      drainWaitSec: drain.waitedSec,
      drainError: drain.error,
      totalsError: t.error ?? null,
      outboxPending: ingest?.outboxPending ?? null,
      d1Players: totals?.players ?? null,
      ackedPlayers: load.playersAcked,
      d1Gems,
      ackedGems: load.ackedGems,
      unresolvedGems: load.unresolvedGems,
      unresolvedAppliedGems: gems.unresolvedApplied,
      lostUpdates: gems.lost,
      duplicatedUpdates: gems.duplicated,
      d1Score,
      ackedScore: load.ackedScore,
      shardUpdatesApplied: ingest?.updatesApplied ?? null,
      shardRequests: ingest?.requests ?? null,
      d1Statements: ingest?.d1Statements ?? null,
      d1StatementsPerUpdate: ingest?.updatesApplied ? ingest.d1Statements / ingest.updatesApplied : null,
    };
    const echo = ctx.results.echo?.metrics;
    const ratio = echo?.requestsPerSec ? load.requestsPerSec / echo.requestsPerSec : null;
    const perRequest = load.requestsPerSec ? load.updatesPerSec / load.requestsPerSec : null;
    const check = (ok) => (ok ? "ok" : "MISMATCH");

    const targets = [
      target("progress req/s ÷ echo req/s", ratio, "≥ 0.7", ratio !== null && ratio >= 0.7),
      target("updates/s ÷ progress req/s", perRequest, "≥ 10", perRequest !== null && perRequest >= 10),
      target("lost updates", audit.lostUpdates, "= 0", drain.drained && audit.lostUpdates === 0),
      target("duplicated updates", audit.duplicatedUpdates, "= 0", drain.drained && audit.duplicatedUpdates === 0),
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
        ["duplicated updates (D1 − acked − unresolved gems)", fmtInt(audit.duplicatedUpdates), targets[3].goal, status(targets[3])],
        ["progress errors (non-200, by status)", fmtCounts(load.errors) + retryNote, "", ""],
        ["other client-side anomalies", fmtCounts(otherErrors), "", ""],
        "  audit detail",
        ["gems: acked ≤ D1 ≤ acked + unresolved", boundsCell(load.ackedGems, load.unresolvedGems, d1Gems), "within", boundsCheck(gems, drain.drained)],
        [
          "score (Σ max reach): acked / D1",
          `${fmtInt(load.ackedScore)} / ${fmtInt(d1Score)}`,
          load.unresolvedUpdates ? "≥ acked" : "equal",
          d1Score === null ? "n/a" : check(load.unresolvedUpdates ? d1Score >= load.ackedScore : load.ackedScore === d1Score),
        ],
        [
          "players: acked ≤ D1 ≤ acked + only-unresolved",
          boundsCell(load.playersAcked, load.playersOnlyUnresolved, audit.d1Players),
          "within",
          boundsCheck(auditSum({ acked: load.playersAcked, unresolved: load.playersOnlyUnresolved, d1: audit.d1Players }), drain.drained),
        ],
        [
          "updates: acked ≤ shard counters ≤ + unresolved",
          boundsCell(load.updatesApplied, load.unresolvedUpdates, audit.shardUpdatesApplied),
          "within",
          boundsCheck(auditSum({ acked: load.updatesApplied, unresolved: load.unresolvedUpdates, d1: audit.shardUpdatesApplied }), true),
        ],
        ["exact resends: all-duplicate / answered", `${fmtInt(load.resendsAllDuplicate)} / ${fmtInt(load.resends - load.resendsFailed)}`, "equal", check(load.resendsWrong === 0)],
        [
          "outbox drained",
          drain.drained ? `yes, ${drain.waitedSec.toFixed(1)} s` : `no after ${drain.waitedSec.toFixed(0)} s (${audit.outboxPending ?? "?"} pending${drain.error ? `; ${drain.error}` : ""})`,
          "",
          "",
        ],
        ...(t.error ? [["D1 totals", `unavailable: ${t.error}`, "", "NOT CHECKED"]] : []),
      ],
      targets,
    };
  },
};
