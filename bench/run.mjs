// `npm run bench`: starts the real Worker under wrangler dev, runs each phase's load from a separate process,
// prints one table and writes bench/results/latest.json. Exits 0 whenever the bench ran, targets met or not (the
// table says which); non-zero only if the bench itself could not run.
//
// Phases are modules in bench/phases/ with { name, title, run(ctx) → { metrics, rows, targets } }; a new one is a
// module plus an entry in PHASES. A phase that needs something running before the Worker starts (the auth phase's
// JWKS host) adds beforeServer() → { vars (for the Worker), stop(), … }, found by run() as ctx.prepared[name]. Tuning for quick local tries (defaults are the contract's numbers):
// BENCH_PHASES=echo,progress,sockets BENCH_ECHO_SECONDS BENCH_PROGRESS_SECONDS BENCH_PLAYERS BENCH_CONCURRENCY
// BENCH_SOCKETS (phase C's socket count) BENCH_SOCKET_SECONDS BENCH_WS_PROXY=1 (phase C's sockets through wrangler's dev proxy
// instead of straight to the Worker's workerd; see phases/sockets.mjs) BENCH_MIXED_SECONDS BENCH_MIXED_PLAYERS (phase D)
// BENCH_AUTH_SECONDS (per credential mode) BENCH_AUTH_BASELINE_SECONDS (its own echo when phase A is not run)
// BENCH_SERIES_RUNS (phase I's expansions) BENCH_LOCALTIME_REQUESTS BENCH_LOCALTIME_CREATES (phase J) BENCH_KEEP_TMP=1 (keeps the temp dir with wrangler.log and the local state).
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeError } from "./admin.mjs";
import analytics from "./phases/analytics.mjs";
import auth from "./phases/auth.mjs";
import clans from "./phases/clans.mjs";
import { startCpuWatch } from "./cpu.mjs";
import { killLoads } from "./load-runner.mjs";
import echo from "./phases/echo.mjs";
import leaderboard from "./phases/leaderboard.mjs";
import mixed from "./phases/mixed.mjs";
import personalization from "./phases/personalization.mjs";
import progress from "./phases/progress.mjs";
import series from "./phases/series.mjs";
import localtime from "./phases/localtime.mjs";
import sockets from "./phases/sockets.mjs";
import { startServer } from "./server.mjs";
import { formatTable } from "./stats.mjs";

// auth right after echo: its figures are ratios to the echo's, best measured while the server is in the same state.
const PHASES = [echo, auth, progress, sockets, mixed, leaderboard, clans, analytics, personalization, series, localtime];
const root = fileURLToPath(new URL("..", import.meta.url));
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const config = {
  concurrency: num("BENCH_CONCURRENCY", 50),
  echoSeconds: num("BENCH_ECHO_SECONDS", 15),
  progressSeconds: num("BENCH_PROGRESS_SECONDS", 20),
  players: num("BENCH_PLAYERS", 400),
  shardCount: 8,
  drainTimeoutSec: 60,
  sockets: num("BENCH_SOCKETS", 10_000),
  socketShards: 16,
  socketConnectConcurrency: 200,
  socketProgressSeconds: num("BENCH_SOCKET_SECONDS", 15),
  socketsDirect: process.env.BENCH_WS_PROXY !== "1",
  mixedSeconds: num("BENCH_MIXED_SECONDS", 20),
  mixedPlayers: num("BENCH_MIXED_PLAYERS", 400),
  mixedChurnPlayers: 6,
  mixedCommanded: 10,
  mixedTimed: 4,
  mixedBurstAtSec: 5,
  authSeconds: num("BENCH_AUTH_SECONDS", 8),
  authBaselineSeconds: num("BENCH_AUTH_BASELINE_SECONDS", 5),
};
const selected = (process.env.BENCH_PHASES ?? PHASES.map((p) => p.name).join(",")).split(",").map((s) => s.trim());

const t0 = Date.now();
const log = (msg) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

let server = null;
/** What phases started before the Worker (beforeServer), by phase name; stopped on the way out. */
const prepared = {};
let stopping = false;
/** The phases' results so far, for the record written if the bench itself fails. */
const partial = {};
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  killLoads();
  if (server) await server.stop();
  for (const p of Object.values(prepared)) await p.stop?.().catch(() => {});
  process.exit(code);
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`${sig}: stopping wrangler and the load…`);
    void shutdown(130);
  });
}

async function wranglerVersion() {
  const pkg = await readFile(new URL("../node_modules/wrangler/package.json", import.meta.url), "utf8").catch(() => null);
  return pkg ? JSON.parse(pkg).version : "unknown";
}

/**
 * Share of CPU time idle over `ms`, sampled before the Worker starts. The Worker, the load and the orchestrator all
 * share this machine's cores, so anything else busy (a test run, a build) skews every figure; the report says so.
 */
async function idleShare(ms = 1000) {
  const snap = () =>
    os.cpus().reduce(
      (acc, { times: t }) => ({ idle: acc.idle + t.idle, total: acc.total + t.user + t.nice + t.sys + t.idle + t.irq }),
      { idle: 0, total: 0 },
    );
  const a = snap();
  await new Promise((r) => setTimeout(r, ms));
  const b = snap();
  return (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/** A phase that threw: what it had measured, where and why it stopped; a missed target says it did not complete. */
function stoppedEarly(phase, measured, err) {
  const { step, rows = [], ...metrics } = measured;
  const reason = describeError(err);
  return {
    metrics: { ...metrics, stopped: { step, reason, stack: String(err?.stack ?? "").split("\n").slice(0, 8).join("\n") } },
    rows: [...rows, ["phase stopped early", `during ${step}: ${reason}`, "completes", "MISSED"]],
    targets: [{ name: `phase ${phase.name} completes`, value: `during ${step}: ${reason}`, goal: "completes", met: false }],
  };
}

function notRun(phase, why) {
  return {
    title: phase.title,
    metrics: { notRun: why },
    rows: [["not run", why, "", ""]],
    targets: [{ name: `phase ${phase.name} completes`, value: `not run: ${why}`, goal: "completes", met: false }],
  };
}

async function main() {
  const unknown = selected.filter((n) => !PHASES.some((p) => p.name === n));
  if (unknown.length) throw new Error(`unknown phase(s) ${unknown.join(", ")}; known: ${PHASES.map((p) => p.name).join(", ")}`);
  // Fresh throwaway secrets each run: the bench never needs, or leaks, the developer's .dev.vars.
  const adminToken = randomBytes(24).toString("hex");
  const playerSecret = randomBytes(32).toString("hex");
  const idleBefore = await idleShare();
  log(`CPU idle before start: ${(idleBefore * 100).toFixed(0)}% (load average ${os.loadavg()[0].toFixed(2)})`);
  // A phase whose beforeServer fails is reported as not run; the others go ahead.
  const vars = { ENABLE_BENCH_ROUTES: "true" };
  for (const phase of PHASES.filter((p) => p.beforeServer && selected.includes(p.name))) {
    try {
      prepared[phase.name] = await phase.beforeServer({ config, log });
      Object.assign(vars, prepared[phase.name].vars);
    } catch (err) {
      prepared[phase.name] = { error: `before the Worker started: ${describeError(err)}` };
    }
  }
  server = await startServer({
    root,
    vars,
    secrets: { ADMIN_TOKEN: adminToken, PLAYER_TOKEN_SECRET: playerSecret },
    log,
  });

  const ctx = { baseUrl: server.baseUrl, port: server.port, serverPid: server.pid, serverLogPath: join(server.dir, "wrangler.log"), adminToken, playerSecret, config, log, results: partial, prepared, serverAlive: () => server?.isAlive() ?? false };
  let serverDied = null;
  for (const phase of PHASES.filter((p) => selected.includes(p.name))) {
    if (serverDied || prepared[phase.name]?.error) {
      ctx.results[phase.name] = notRun(phase, serverDied ?? prepared[phase.name].error);
      continue;
    }
    const cpuWatch = startCpuWatch();
    // What the phase has measured so far and which step it is on: if it throws, that is what gets reported.
    ctx.measured = { step: "setup" };
    let result;
    try {
      result = await phase.run(ctx);
    } catch (err) {
      if (stopping) throw err;
      log(`phase ${phase.name} stopped during ${ctx.measured.step}: ${describeError(err)}`);
      killLoads(); // a load process of the stopped phase may still be waiting for its next step
      result = stoppedEarly(phase, ctx.measured, err);
    }
    const cpu = cpuWatch();
    const pct = (x) => `${Math.round(x * 100)}%`;
    if (cpu) result.rows.push(["CPU: bench / other processes / idle", `${pct(cpu.ours)} / ${pct(cpu.foreign)} / ${pct(cpu.idle)}`, "", ""]);
    if (cpu?.foreign > 0.1) log(`WARNING: other processes took ${pct(cpu.foreign)} of the CPUs during phase ${phase.name}; its figures are skewed`);
    if (!server.isAlive()) {
      serverDied = `wrangler dev exited during phase ${phase.name}`;
      log(`${serverDied}; the remaining phases are not run`);
      result.rows.push(["server", serverDied, "stays up", "MISSED"]);
      result.targets.push({ name: `server stays up (${phase.name})`, value: serverDied, goal: "stays up", met: false });
      result.metrics = { ...result.metrics, serverDied, serverLogTail: await server.logTail(4000) };
    }
    ctx.results[phase.name] = { title: phase.title, ...result, metrics: { ...result.metrics, cpu } };
  }

  // The Worker's own console.error lines (drain failures, unhandled errors) are part of the verdict too.
  // The whole log: 10,000 sockets can leave thousands of lines, and a tail would undercount them.
  const workerLog = await server.logTail(Infinity);
  const workerErrorLines = workerLog.split("\n").filter((l) => /ERROR|✘/.test(l));
  const distinctErrors = {};
  for (const l of workerErrorLines) {
    // eslint-disable-next-line no-control-regex
    const key = l.replace(/\x1b\[[0-9;]*m/g, "").trim().slice(0, 160);
    distinctErrors[key] = (distinctErrors[key] ?? 0) + 1;
  }
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    wrangler: await wranglerVersion(),
    idleBeforeStart: Math.round(idleBefore * 1000) / 1000,
    loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
  await server.stop();
  server = null;

  const rows = [];
  const targets = [];
  for (const r of Object.values(ctx.results)) {
    rows.push(r.title, ...r.rows);
    targets.push(...r.targets);
  }
  rows.push("Worker log", ["Worker error lines logged", String(workerErrorLines.length), "", ""]);
  const table = formatTable(["metric", "value", "target", "status"], rows);
  const metTargets = targets.filter((t) => t.met).length;

  console.log("");
  console.log(`live-events bench, ${new Date().toISOString()}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, wrangler ${machine.wrangler}`);
  console.log(`${config.concurrency} in flight; echo ${config.echoSeconds} s; progress ${config.players} players × ${config.progressSeconds} s on ${config.shardCount} shards`);
  if (ctx.results.sockets?.metrics.via) console.log(`sockets: ${config.sockets} WebSockets on ${config.socketShards} shards, ${config.socketConnectConcurrency} connects at a time, progress ${config.socketProgressSeconds} s; via ${ctx.results.sockets.metrics.via}`);
  if (ctx.results.mixed) console.log(`mixed: ${config.mixedPlayers} players on 5 events × ${config.mixedSeconds} s; ${config.mixedCommanded} events paused/resumed/ended ${config.mixedBurstAtSec} s in, ${config.mixedTimed} starting and ending on their own`);
  const contended = Object.entries(ctx.results).filter(([, r]) => r.metrics.cpu?.foreign > 0.1);
  if (contended.length) {
    console.log(`WARNING: other processes used > 10% of the CPUs during ${contended.map(([n]) => n).join(", ")}: figures are skewed; rerun on an idle machine`);
  }
  if (idleBefore < 0.8) {
    console.log(`WARNING: the CPUs were only ${(idleBefore * 100).toFixed(0)}% idle before the bench started: something else is running, figures are skewed`);
  }
  console.log("");
  console.log(table);
  console.log("");
  console.log(`targets met: ${metTargets}/${targets.length}${targets.length - metTargets ? ` (missed: ${targets.filter((t) => !t.met).map((t) => t.name).join("; ")})` : ""}`);
  if (workerErrorLines.length) {
    const top = Object.entries(distinctErrors).sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(`Worker error lines by message (${Object.keys(distinctErrors).length} distinct):\n${top.map(([m, k]) => `  ${k}× ${m}`).join("\n")}`);
  }

  const json = {
    timestamp: new Date().toISOString(),
    durationSec: (Date.now() - t0) / 1000,
    machine,
    config,
    phases: Object.fromEntries(Object.entries(ctx.results).map(([name, r]) => [name, r.metrics])),
    targets,
    // Phases during which other processes took > 10% of the CPUs: their figures (and ratios built on them) are skewed.
    contendedPhases: contended.map(([n]) => n),
    workerErrorLines: workerErrorLines.slice(0, 50),
    workerErrorsByMessage: distinctErrors,
    table,
  };
  await mkdir(resultsDir, { recursive: true });
  await writeFile(new URL("./results/latest.json", import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote bench/results/latest.json; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

try {
  await main();
  await shutdown(0);
} catch (err) {
  // After SIGINT the killed load rejects too; that is the interruption, not a second failure worth printing.
  if (!stopping) {
    console.error(`\nbench failed: ${err.stack ?? err}`);
    const logTail = server ? await server.logTail(3000) : "";
    if (server) console.error(`\nwrangler log tail:\n${logTail}`);
    // Still a record of the run: why it could not go on, and whatever the phases had measured.
    const json = { timestamp: new Date().toISOString(), durationSec: (Date.now() - t0) / 1000, failed: describeError(err), stack: String(err?.stack ?? ""), config, phases: partial, wranglerLogTail: logTail };
    await mkdir(resultsDir, { recursive: true }).catch(() => {});
    await writeFile(new URL("./results/latest.json", import.meta.url), `${JSON.stringify(json, null, 2)}\n`).catch(() => {});
    console.error("wrote bench/results/latest.json (the failure and what was measured before it)");
    await shutdown(1);
  }
}
