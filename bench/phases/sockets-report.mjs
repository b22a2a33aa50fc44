// Phase C's table, metrics and targets, from whatever its steps gathered (see sockets.mjs). A phase that stopped
// early has gaps: each figure it could not measure shows as n/a, and the first row says where and why it stopped.
import { auditSum, boundsCell, boundsCheck } from "../audit.mjs";
import { fmtCounts, fmtInt, fmtNum, summarize, target } from "../stats.mjs";

const mib = (bytes) => (bytes ? `${fmtInt(bytes / 2 ** 20)} MiB` : "n/a");
const ms3 = (s) => (s && s.count ? `${fmtNum(s.p50, 0)} / ${fmtNum(s.p99, 0)} / ${fmtNum(s.max, 0)}` : "n/a");
const status = (t) => (t.met ? "met" : "MISSED");
const check = (ok) => (ok ? "ok" : "MISMATCH");
const diff = (a, b) => (a === undefined || b === undefined || a === null || b === null ? null : a - b);

export function report(s) {
  const { n, result, drain, totals } = s;
  const c = result?.connect ?? { connected: 0, failures: {}, snapshotMs: null };
  const a = result?.activation ?? null;
  const p = result?.progress ?? null;
  const T0 = s.T0;
  const fanout = a && T0 !== undefined ? summarize(a.receiptTimes.map((t) => t - T0)) : null;
  const noticeFanout = a && T0 !== undefined ? summarize(a.startNoticeReceiptTimes.map((t) => t - T0)) : null;
  const ingest = drain?.summary?.ingest ?? null;
  const d1Gems = totals ? (totals.totals.gems ?? 0) : null;
  const drained = drain?.drained ?? false;
  const gems = p ? auditSum({ acked: p.ackedGems, unresolved: p.unresolvedGems, d1: d1Gems }) : auditSum({ acked: 0, d1: null });
  const audit = {
    drained,
    drainWaitSec: drain?.waitedSec ?? null,
    drainError: drain?.error ?? null,
    totalsError: s.totalsError ?? null,
    outboxPending: ingest?.outboxPending ?? null,
    d1Gems,
    ackedGems: p?.ackedGems ?? null,
    unresolvedGems: p?.unresolvedGems ?? null,
    unresolvedAppliedGems: gems.unresolvedApplied,
    lostUpdates: gems.lost,
    duplicatedUpdates: gems.duplicated,
    d1Players: totals?.players ?? null,
    ackedPlayers: p?.playersAcked ?? null,
    shardUpdatesApplied: ingest?.updatesApplied ?? null,
    shardRequests: ingest?.requests ?? null,
  };
  const serverClosed = Object.values(result?.serverCloses ?? {}).reduce((sum, k) => sum + k, 0);
  const capacity = s.capacity ?? { maxSockets: 1e9, perProcess: {}, why: "" };
  const capped = capacity.maxSockets < n;

  const targets = [
    target("sockets connected", c.connected, `= ${fmtInt(n)}`, c.connected === n),
    target("sockets missing the activated frame", a?.missing ?? null, "= 0", a !== null && a.missing === 0 && a.received === c.connected && c.connected > 0),
    target("socket lost updates", audit.lostUpdates, "= 0", drained && audit.lostUpdates === 0),
    target("socket duplicated updates", audit.duplicatedUpdates, "= 0", drained && audit.duplicatedUpdates === 0),
    target("sockets closed by the server", serverClosed, "= 0", result !== undefined && serverClosed === 0),
  ];
  if (s.stopped) targets.push(target("phase sockets completes", `during ${s.stopped.step}: ${s.stopped.reason}`, "completes", false));

  const workerd = s.serverMem?.byLabel ?? {};
  const fdRow = Object.entries(workerd)
    .filter(([label]) => label.startsWith("workerd"))
    .map(([label, e]) => `${label.replace("workerd ", "")} ${fmtInt(e.maxOpenFds)}/${fmtInt(e.fdLimit)}`)
    .join(", ");
  const perProc = Object.entries(workerd)
    .map(([label, e]) => `${label} ${mib(e.peak)}`)
    .join(", ");
  const anomalies = p && {
    refused_frames: p.refusedFrames,
    unexpected_duplicates: p.unexpectedDuplicates,
    reapplied_seqs: p.reapplied,
    send_errors: p.sendErrors,
    unresolved_frames: p.unresolvedFrames,
    skipped_sends_2_in_flight: p.skippedBackpressure,
    unparseable_frames: result.badFrames.unparseable,
    unexpected_frames: result.badFrames.unexpectedType,
  };
  const e = s.errorsAt;
  const ackWait = p?.ran
    ? `${fmtInt(p.pendingAtEnd)} outstanding at the window's end; waited ${fmtNum(p.ackTailSec, 1)} s (${p.ackWaitEndedBy}); ${fmtInt(p.unansweredAtEnd)} never answered`
    : "n/a";
  const stoppedRows = s.stopped
    ? [
        ["phase stopped early", `during ${s.stopped.step}: ${s.stopped.reason}`, "completes", "MISSED"],
        ...(s.fdsAtStop
          ? [["workerd open fds when it stopped", Object.entries(s.fdsAtStop).map(([l, f]) => `${l.replace("workerd ", "")} ${fmtInt(f.open)}/${fmtInt(f.soft)}`).join(", ") || "no workerd running", "", ""]]
          : []),
      ]
    : [];

  return {
    metrics: {
      eventId: s.eventId,
      shardCount: s.shardCount,
      via: s.via,
      stopped: s.stopped,
      loadError: s.loadError ?? null,
      workerdFdsAtStop: s.fdsAtStop ?? null,
      T0: T0 === undefined ? null : new Date(T0).toISOString(),
      T0Error: s.T0Error ?? null,
      patchSentAt: s.patchSentAt ? new Date(s.patchSentAt).toISOString() : null,
      activationDelayMs: diff(T0, s.patchSentAt),
      fanoutMs: fanout,
      startNoticeFanoutMs: noticeFanout,
      load: result ? { ...result, activation: a && { ...a, receiptTimes: undefined, startNoticeReceiptTimes: undefined } } : null,
      audit,
      serverMemory: s.serverMem,
      serverFdsBefore: s.fdBefore,
      serverSocketCapacity: s.capacity ?? null,
      workerErrorLinesAt: e,
    },
    rows: [
      ...stoppedRows,
      ["sockets connected / failed", `${fmtInt(c.connected)} / ${fmtInt(n - c.connected)}`, `${fmtInt(n)} / 0`, status(targets[0])],
      ["connect failures (by reason)", fmtCounts(c.failures), "", ""],
      ["connect ramp (all sockets, s) / rate", c.elapsedSec ? `${fmtNum(c.elapsedSec, 1)} s / ${fmtInt(c.perSec)} per s` : "n/a", "", ""],
      ["connect → snapshot p50/p99/max (ms)", ms3(c.snapshotMs), "", ""],
      ["activated fan-out p50/p99/max (ms after T0)", ms3(fanout), "", ""],
      ["activated frames received / missing", a ? `${fmtInt(a.received)} / ${fmtInt(a.missing)}` : "n/a", "missing = 0", status(targets[1])],
      ["start moved → active (T0) (ms)", fmtInt(diff(T0, s.patchSentAt)), "≈ 1,000", ""],
      ['"start" notification fan-out p50/p99/max (ms) / got it', a ? `${ms3(noticeFanout)} / ${fmtInt(a.startNoticeReceived)}` : "n/a", "", ""],
      ["socket progress frames/s (acked)", fmtNum(p?.messagesPerSec), "", ""],
      ["socket progress updates/s (acked)", fmtNum(p?.updatesPerSec), "", ""],
      ["socket ack latency p50/p99/max (ms)", ms3(p?.ackLatencyMs), "", ""],
      ["acks after the window", ackWait, "", ""],
      ["socket error frames (by code)", p ? fmtCounts(p.errorFrames) : "n/a", "", ""],
      ["sockets closed by the server (by code)", serverClosed ? fmtCounts(result.serverCloses) : result ? "none" : "n/a", "none", status(targets[4])],
      ["lost updates (acked gems − D1)", fmtInt(audit.lostUpdates), targets[2].goal, status(targets[2])],
      ["duplicated updates (D1 − acked − unresolved gems)", fmtInt(audit.duplicatedUpdates), targets[3].goal, status(targets[3])],
      ["peak memory: load process (RSS / maxRSS)", result ? `${mib(result.memory.peakRssBytes)} / ${mib(result.memory.maxRssBytes)}` : "n/a", "", ""],
      ["peak memory: server (workerd Σ / + wrangler)", `${mib(s.serverMem?.workerdPeak)} / ${mib(s.serverMem?.treePeak)}`, "", ""],
      ["server workerd Σ RSS: before / all connected", `${mib(s.serverMem?.marks.before)} / ${mib(s.serverMem?.marks.connected)}`, "", ""],
      "  socket detail",
      ["sockets via", s.via, "", ""],
      ["server peak RSS by process", perProc || "n/a", "", ""],
      ["workerd open fds peak / limit", fdRow || "n/a", "", ""],
      [
        "workerd fds per socket; socket cap",
        `${Object.entries(capacity.perProcess).map(([l, x]) => `${l.replace("workerd ", "")} ${fmtNum(x.fdsPerSocket || 0, 2)}`).join(", ") || "n/a"}; ${capped ? fmtInt(capacity.maxSockets) : "none"}`,
        "",
        "",
      ],
      ...(capped ? [["why the sockets were capped", capacity.why, "", ""]] : []),
      ["frames sent / acked; updates acked", p ? `${fmtInt(p.framesSent)} / ${fmtInt(p.framesAcked)}; ${fmtInt(p.updatesApplied)}` : "n/a", "", ""],
      ["other client-side anomalies", anomalies ? fmtCounts(anomalies) : "n/a", "", ""],
      ["frames received (by type)", result ? fmtCounts(result.framesByType) : "n/a", "", ""],
      [
        "Worker log error lines: connect / activation / progress+close / drain",
        [diff(e.connected, e.before), diff(e.activated, e.connected), diff(e.loadDone, e.activated ?? e.connected ?? e.before), diff(e.drained, e.loadDone)]
          .map(fmtInt)
          .join(" / "),
        "",
        "",
      ],
      ["gems: acked ≤ D1 ≤ acked + unresolved", p ? boundsCell(p.ackedGems, p.unresolvedGems, d1Gems) : "n/a", "within", p?.framesSent ? boundsCheck(gems, drained) : "n/a"],
      [
        "players: acked ≤ D1 ≤ acked + only-unresolved",
        p ? boundsCell(p.playersAcked, p.playersOnlyUnresolved, audit.d1Players) : "n/a",
        "within",
        p?.framesSent ? boundsCheck(auditSum({ acked: p.playersAcked, unresolved: p.playersOnlyUnresolved, d1: audit.d1Players }), drained) : "n/a",
      ],
      [
        "updates: acked ≤ shard counters ≤ + unresolved",
        p ? boundsCell(p.updatesApplied, p.unresolvedUpdates, audit.shardUpdatesApplied) : "n/a",
        "within",
        p?.framesSent ? boundsCheck(auditSum({ acked: p.updatesApplied, unresolved: p.unresolvedUpdates, d1: audit.shardUpdatesApplied }), true) : "n/a",
      ],
      [
        "sockets closed cleanly at the end",
        result ? `${fmtInt(result.close.closedCleanly)} / ${fmtInt(result.close.requested)} (${fmtCounts(result.close.codes)})` : "n/a",
        "all",
        result ? check(result.close.closedCleanly === result.close.requested) : "n/a",
      ],
      [
        "outbox drained",
        !drain ? "n/a (no progress sent)" : drain.drained ? `yes, ${drain.waitedSec.toFixed(1)} s` : `no after ${drain.waitedSec.toFixed(0)} s (${audit.outboxPending ?? "?"} pending${drain.error ? `; ${drain.error}` : ""})`,
        "",
        "",
      ],
      ...(s.totalsError ? [["D1 totals", `unavailable: ${s.totalsError}`, "", "NOT CHECKED"]] : []),
      ...(s.T0Error ? [["T0 (the event's active transition)", `unavailable: ${s.T0Error}`, "", ""]] : []),
    ],
    targets,
  };
}
