// Phase D: the seed's mixed load. Five events run at once with unequal participation (the biggest has nine times
// the players of the smallest) while, on more events, a burst of rapid state transitions happens: ten events go
// pause → resume → pause → resume → end-now back to back, and four more start and end on their own clock a few
// seconds into the window. Progress keeps flowing to all of them (load-mixed.mjs, a separate process).
//
// Reported: each event's progress latency (p50/p99), whether the burst slows the steady events down (their p99
// during the burst ÷ outside it, both measured here), every transition's lateness (when a watching socket got its
// event_state frame, or a poll of GET /v1/events/:id first showed the state, after the command's reply or the
// scheduled instant), transitions no socket was told about, and the exactly-once audit of every event against D1.
import { adminApi } from "../admin.mjs";
import { auditSum } from "../audit.mjs";
import { runLoad } from "../load-runner.mjs";
import { fmtCounts, fmtInt, fmtNum, summarize, target } from "../stats.mjs";

const status = (t) => (t.met ? "met" : "MISSED");
const ms3 = (s) => (s && s.count ? `${fmtNum(s.p50, 0)} / ${fmtNum(s.p99, 0)} / ${fmtNum(s.max, 0)}` : "n/a");
const ms2 = (s) => (s && s.count ? `${fmtNum(s.p50, 1)} / ${fmtNum(s.p99, 1)}` : "n/a");

/** Participation of the five steady events, as shares of `mixedPlayers`, and their shard counts. */
const STEADY = [
  { share: 0.45, shardCount: 4 },
  { share: 0.25, shardCount: 2 },
  { share: 0.15, shardCount: 2 },
  { share: 0.1, shardCount: 1 },
  { share: 0.05, shardCount: 1 },
];
const COMMANDS = ["pause", "resume", "pause", "resume", "end-now"];
/** What a watching socket must be told after each command, and the state the command's reply must show. */
const EXPECTED = { pause: { change: "paused", state: "paused" }, resume: { change: "resumed", state: "active" }, "end-now": { change: "expired", state: "expired" } };

/** Each command, matched in order to the first later frame announcing its change. */
function matchCommands(e) {
  const frames = e.observer?.frames ?? [];
  let from = 0;
  return e.commands.map((c) => {
    const want = EXPECTED[c.command];
    let k = from;
    while (k < frames.length && frames[k].change !== want.change) k++;
    const seen = k < frames.length ? frames[k] : null;
    if (seen) from = k + 1;
    return { ...c, applied: c.status === 200 && c.state === want.state, seenAt: seen?.receivedAt ?? null };
  });
}

/** A timed event's two transitions, each with when the socket heard of it and when a poll first showed it. */
function matchTimed(e) {
  const frames = e.observer?.frames ?? [];
  const at = (change) => frames.find((f) => f.change === change)?.receivedAt ?? null;
  return [
    { eventId: e.eventId, transition: "activate", instant: Date.parse(e.startTime), socketAt: at("activated"), pollAt: e.poll?.firstSeen.active ?? null },
    { eventId: e.eventId, transition: "expire", instant: Date.parse(e.endTime), socketAt: at("expired"), pollAt: e.poll?.firstSeen.expired ?? null },
  ];
}

export default {
  name: "mixed",
  title: "Phase D: mixed load (5 events at once; transition burst on 14 more)",

  async run(ctx) {
    const { config } = ctx;
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    ctx.log(`Phase D: creating ${STEADY.length} steady, ${config.mixedCommanded} commanded and ${config.mixedTimed} timed events…`);
    await api.createTemplate("bench-mixed");
    const events = [];
    for (const [i, s] of STEADY.entries()) {
      const players = Math.max(1, Math.round(config.mixedPlayers * s.share));
      const e = await api.createActiveEvent({ templateId: "bench-mixed", shardCount: s.shardCount, expectedParticipants: s.shardCount * 2500 });
      events.push({ eventId: e.eventId, kind: "steady", label: `steady ${i + 1}`, players, shardCount: e.shardCount });
    }
    for (let i = 0; i < config.mixedCommanded; i++) {
      const e = await api.createActiveEvent({ templateId: "bench-mixed", shardCount: 1, expectedParticipants: 2500 });
      events.push({ eventId: e.eventId, kind: "commanded", players: config.mixedChurnPlayers, shardCount: 1 });
    }
    // Timed events start a few seconds into the window, one a second, and last six seconds each.
    const firstStart = Date.now() + 6000;
    for (let i = 0; i < config.mixedTimed; i++) {
      const startTime = new Date(firstStart + i * 1000).toISOString();
      const endTime = new Date(firstStart + i * 1000 + 6000).toISOString();
      const e = await api.call("POST", "/v1/admin/events", { templateId: "bench-mixed", startTime, endTime, shardCount: 1, expectedParticipants: 2500 });
      events.push({ eventId: e.eventId, kind: "timed", players: config.mixedChurnPlayers, shardCount: 1, startTime: e.startTime, endTime: e.endTime });
    }
    // Touch every steady shard once so none pays its first-call setup inside the window.
    for (const e of events.filter((x) => x.kind === "steady")) await api.summary(e.eventId);
    ctx.measured.events = events.map(({ eventId, kind }) => ({ eventId, kind }));
    ctx.measured.step = "load";

    ctx.log(`mixed load for ${config.mixedSeconds} s, ${config.concurrency} in flight; the burst starts ${config.mixedBurstAtSec} s in…`);
    const load = await runLoad("./load-mixed.mjs", {
      baseUrl: ctx.baseUrl,
      wsOrigin: ctx.baseUrl.replace(/^http/, "ws"),
      adminToken: ctx.adminToken,
      playerSecret: ctx.playerSecret,
      playerPrefix: "bench-mix-",
      watcherPrefix: "bench-mix-watch-",
      seconds: config.mixedSeconds,
      concurrency: config.concurrency,
      batchSize: 20,
      events,
      burst: { atSec: config.mixedBurstAtSec, commands: COMMANDS, jitterMs: [0, 50] },
      pollIntervalMs: 100,
      observerTimeoutMs: 15_000,
      warmupSec: 1,
      settleSec: 10,
    });
    ctx.measured.step = "drain";

    // The audit: every event's outbox drained, then its D1 gem total within acked ≤ D1 ≤ acked + unresolved.
    const deadline = Date.now() + config.drainTimeoutSec * 1000;
    ctx.log(`waiting for ${load.events.length} events' outboxes to drain into D1 (≤ ${config.drainTimeoutSec} s in all)…`);
    for (const e of load.events) {
      const drain = await api.waitDrained(e.eventId, Math.max(1000, deadline - Date.now()), ctx.log);
      const t = await api.tryTotals(e.eventId, 15_000);
      const d1 = t.totals ? (t.totals.totals.gems ?? 0) : null;
      e.audit = { drained: drain.drained, drainError: drain.error, totalsError: t.error ?? null, d1Gems: d1, ...auditSum({ acked: e.ackedGems, unresolved: e.unresolvedGems, d1 }) };
    }
    const notDrained = load.events.filter((e) => !e.audit.drained);
    ctx.log(notDrained.length ? `${notDrained.length} events NOT drained` : "all drained");
    return report(load, config);
  },
};

function report(load, config) {
  const evs = load.events;
  const steady = evs.filter((e) => e.kind === "steady");
  const commanded = evs.filter((e) => e.kind === "commanded");
  const timed = evs.filter((e) => e.kind === "timed");
  const churn = [...commanded, ...timed];

  // Transitions.
  const cmds = commanded.flatMap(matchCommands);
  const cmdLate = cmds.filter((c) => c.seenAt !== null).map((c) => Math.max(0, c.seenAt - c.returnedAt));
  const beforeReply = cmds.filter((c) => c.seenAt !== null && c.seenAt < c.returnedAt).length;
  const cmdRoundTrip = summarize(cmds.map((c) => c.returnedAt - c.sentAt));
  const cmdFromSend = summarize(cmds.filter((c) => c.seenAt !== null).map((c) => c.seenAt - c.sentAt));
  const timedT = timed.flatMap(matchTimed);
  const socketLate = timedT.filter((t) => t.socketAt !== null).map((t) => t.socketAt - t.instant);
  const pollLate = timedT.filter((t) => t.pollAt !== null).map((t) => t.pollAt - t.instant);
  const timedFirst = timedT.flatMap((t) => {
    const seen = [t.socketAt, t.pollAt].filter((x) => x !== null);
    return seen.length ? [Math.min(...seen) - t.instant] : [];
  });
  // Whichever way a transition was first seen; a frame that beat the command's reply counts as 0.
  const allLate = summarize([...cmdLate, ...timedFirst].map((x) => Math.max(0, x)));
  const missing = cmds.filter((c) => c.applied && c.seenAt === null).length + timedT.filter((t) => t.socketAt === null).length;
  const observed = churn.filter((e) => e.observer?.connected).length;

  // Progress per event.
  const p99s = steady.map((e) => e.latencyMs.p99).filter((x) => x !== null);
  const fairness = p99s.length ? Math.max(...p99s) / Math.min(...p99s) : null;
  const during = load.steadyDuringBurstMs;
  const outside = load.steadyOutsideBurstMs;
  const burstRatio = during.count && outside.count ? during.p99 / outside.p99 : null;
  const churnAccepted = churn.reduce((s, e) => s + e.accepted, 0);
  const churnRefused = churn.reduce((s, e) => s + e.refusedNotActive, 0);
  const churnP = summarize(churn.flatMap((e) => (e.latencyMs.count ? [e.latencyMs.p99] : [])));

  // Audit.
  const sum = (f) => evs.reduce((s, e) => s + (f(e) ?? 0), 0);
  const allDrained = evs.every((e) => e.audit.drained);
  const haveTotals = evs.every((e) => e.audit.d1Gems !== null);
  const lost = haveTotals ? sum((e) => e.audit.lost) : null;
  const duplicated = haveTotals ? sum((e) => e.audit.duplicated) : null;
  const outOfBounds = evs.filter((e) => e.audit.within === false);
  const errors = {};
  for (const e of evs) for (const [k, n] of Object.entries(e.errors)) errors[k] = (errors[k] ?? 0) + n;
  const anomalies = { reapplied_seqs: sum((e) => e.reapplied), unexpected_duplicates: sum((e) => e.unexpectedDuplicates), unresolved_updates: sum((e) => e.unresolvedUpdates) };

  const applied = cmds.filter((c) => c.applied).length;
  const targets = [
    target("commands answered with the expected state", applied, `= ${cmds.length}`, cmds.length > 0 && applied === cmds.length),
    target("transitions no watching socket was told of", missing, "= 0", observed === churn.length && missing === 0),
    target("transition lateness p99 (first seen)", allLate.p99, "≤ 2,000 ms", allLate.count > 0 && allLate.p99 <= 2000),
    target("mixed lost updates", lost, "= 0", allDrained && lost === 0),
    target("mixed duplicated updates", duplicated, "= 0", allDrained && duplicated === 0),
  ];

  const rows = [
    ...steady.map((e, i) => [
      `steady ${i + 1}: ${e.players} players, ${e.shardCount} shard${e.shardCount > 1 ? "s" : ""}: req/s; p50 / p99 (ms)`,
      `${fmtNum(e.acceptedPerSec)}; ${ms2(e.latencyMs)}${Object.keys(e.errors).length ? `; errors ${fmtCounts(e.errors)}` : ""}`,
      "",
      "",
    ]),
    ["steady events: worst p99 ÷ best p99", fmtNum(fairness, 2), "", ""],
    [`steady: the first ${load.warmupSec} s, left out above (connections opening): worst p99 (ms)`, fmtNum(Math.max(0, ...steady.map((e) => e.coldLatencyMs.p99 ?? 0)), 1), "", ""],
    [
      "steady events' p99 during the burst ÷ outside it",
      burstRatio === null ? "n/a" : `${fmtNum(burstRatio, 2)} (${fmtNum(during.p99, 0)} ms over ${fmtInt(during.count)} requests / ${fmtNum(outside.p99, 0)} ms over ${fmtInt(outside.count)})`,
      "",
      "",
    ],
    [`churn events (${churn.length}): accepted req/s; worst p99 (ms); refused while not active`, `${fmtNum(churnAccepted / load.elapsedSec)}; ${fmtNum(churnP.max, 1)}; ${fmtInt(churnRefused)}`, "", ""],
    [`commands answered with the expected state (${commanded.length} events × ${COMMANDS.length})`, `${fmtInt(applied)} / ${fmtInt(cmds.length)}`, targets[0].goal, status(targets[0])],
    ["command round trip p50/p99/max (ms)", ms3(cmdRoundTrip), "", ""],
    ["commanded: socket frame after the reply p50/p99/max (ms)", `${ms3(summarize(cmdLate))}${beforeReply ? ` (${beforeReply} of ${cmdLate.length} came before the reply: 0)` : ""}`, "", ""],
    ["commanded: socket frame after the command was sent p50/p99/max (ms)", ms3(cmdFromSend), "", ""],
    ["timed: socket frame after the instant p50/p99/max (ms)", ms3(summarize(socketLate)), "", ""],
    ["timed: poll shows it after the instant p50/p99/max (ms, 100 ms polls)", ms3(summarize(pollLate)), "", ""],
    ["transition lateness, first seen, p50/p99/max (ms)", ms3(allLate), targets[2].goal, status(targets[2])],
    ["transitions no watching socket was told of", `${fmtInt(missing)} of ${fmtInt(cmds.filter((c) => c.applied).length + timedT.length)}`, targets[1].goal, status(targets[1])],
    ["lost updates (Σ acked gems − D1)", fmtInt(lost), targets[3].goal, status(targets[3])],
    ["duplicated updates (Σ D1 − acked − unresolved)", fmtInt(duplicated), targets[4].goal, status(targets[4])],
    "  mixed detail",
    ["watching sockets connected", `${observed} / ${churn.length}`, "", ""],
    ["events within acked ≤ D1 ≤ acked + unresolved", `${evs.length - outOfBounds.length} / ${evs.length}${outOfBounds.length ? ` (outside: ${outOfBounds.map((e) => e.eventId).join(", ")})` : ""}`, "all", outOfBounds.length ? "MISMATCH" : haveTotals ? "ok" : "NOT CHECKED"],
    ["gems: Σ acked / Σ D1 / Σ unresolved", `${fmtInt(sum((e) => e.ackedGems))} / ${haveTotals ? fmtInt(sum((e) => e.audit.d1Gems)) : "n/a"} / ${fmtInt(sum((e) => e.unresolvedGems))}`, "", ""],
    ["outboxes drained", `${evs.filter((e) => e.audit.drained).length} / ${evs.length}`, "all", allDrained ? "ok" : "NOT DRAINED"],
    ["progress errors (by status)", fmtCounts(errors), "", ""],
    ["other client-side anomalies", fmtCounts(anomalies), "", ""],
    ["burst window (s into the load)", load.burst ? `${fmtNum(load.burst.fromSec, 2)} – ${fmtNum(load.burst.toSec, 2)}` : "n/a", "", ""],
  ];
  return {
    metrics: {
      windowSec: load.windowSec,
      burst: load.burst,
      fairnessP99Ratio: fairness,
      burstP99Ratio: burstRatio,
      transitions: { commands: cmds, timed: timedT, lateness: allLate, commandedLatenessMs: summarize(cmdLate), commandedFromSendMs: cmdFromSend, timedSocketMs: summarize(socketLate), timedPollMs: summarize(pollLate), missing },
      audit: { allDrained, lost, duplicated, outOfBounds: outOfBounds.map((e) => e.eventId) },
      events: evs.map((e) => ({ ...e, observer: e.observer && { ...e.observer, frames: e.observer.frames.length } })),
    },
    rows,
    targets,
  };
}
