// `npm start`: everything a fresh clone needs to serve on 127.0.0.1:8787.
// 1. .dev.vars from the committed example, 2. local D1 migrated, 3. wrangler dev (CORS open to any origin), 4. demo
// templates seeded, and demo events into an empty schedule (the console's calendar has something to show).
// Arguments go on to `wrangler dev`; `--port`, `--ip` and `--persist-to` are read here too, so the health check and
// the seeding reach the server that was asked for, and the migrations land in the database it serves.
//
// Stopping. SIGINT, SIGTERM or SIGHUP, or losing the parent process, stops wrangler and waits until it and everything
// it started (workerd, esbuild) are gone; only then does this process exit, 128 + the signal's number. Losing the
// parent matters because `npm start` is npm → `sh -c` → node: npm forwards a SIGTERM to the shell only, the shell
// dies without passing it on, and this process is left orphaned (its parent becomes pid 1 or a subreaper).
import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync } from "node:fs";
import { constants } from "node:os";
import { seedDemoEvents, seedDemoTemplates } from "./seed.mjs";

const args = process.argv.slice(2);
/** The value of `--name value` or `--name=value` among the arguments, if given. */
function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}
const port = option("port") ?? "8787";
const ip = option("ip") ?? "127.0.0.1";
const persistTo = option("persist-to");
const BASE = `http://${ip === "0.0.0.0" ? "127.0.0.1" : ip}:${port}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (msg) => console.error(`[start] ${msg}`);

// ---- the processes under this one --------------------------------------------------------------------------------

/** pid → { ppid, start (clock ticks since boot), zombie } of every process, from /proc (Linux); empty elsewhere. */
function processTable() {
  const table = new Map();
  let names = [];
  try {
    names = readdirSync("/proc");
  } catch {
    return table;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command may contain spaces and parentheses: fields are counted after its closing ")".
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), { ppid: Number(f[1]), start: f[19], zombie: f[0] === "Z" });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/**
 * Every process seen under this one since the stop began, by pid and start time (a pid reused later by someone
 * else's process has another start time). wrangler's children are re-parented once wrangler exits, so they must be
 * noted while it is still alive.
 */
const seen = new Map();
function noteDescendants() {
  const table = processTable();
  const stack = [process.pid];
  while (stack.length) {
    const parent = stack.pop();
    for (const [pid, p] of table) {
      if (p.ppid === parent && !seen.has(pid)) {
        seen.set(pid, p.start);
        stack.push(pid);
      }
    }
  }
}
/** The noted processes still running (zombies are dead: they only wait for their new parent to reap them). */
function survivors() {
  const table = processTable();
  return [...seen].filter(([pid, start]) => table.get(pid)?.start === start && !table.get(pid).zombie).map(([pid]) => pid);
}
function signalAll(pids, sig) {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

// ---- running wrangler ----------------------------------------------------------------------------------------------

let child = null; // the wrangler process running now: the migrations, then the dev server
let stopping = null;

/** Runs wrangler; resolves with its exit { code, signal }. A wrangler that cannot be started ends this script. */
function wrangler(wranglerArgs, options) {
  return new Promise((resolve) => {
    const proc = spawn("wrangler", wranglerArgs, { stdio: "inherit", ...options });
    child = proc;
    proc.on("error", (err) => {
      if (err.code === "ENOENT") {
        say("cannot run `wrangler`: it is not on PATH. Run `npm install`, then `npm start` (npm puts node_modules/.bin, with wrangler and Node 24, on PATH).");
      } else {
        say(`cannot run \`wrangler\`: ${err.message}`);
      }
      process.exit(1);
    });
    proc.on("exit", (code, signal) => resolve({ code, signal }));
  });
}
const running = () => child !== null && child.exitCode === null && child.signalCode === null;

/** Stops wrangler and everything under it, waits for them to be gone, then exits 128 + the signal's number. */
async function stop(signal, why) {
  if (stopping) {
    // A second Ctrl-C: no more waiting.
    say(`${why} again: killing what is left`);
    noteDescendants();
    signalAll(survivors(), "SIGKILL");
    process.exit(128 + constants.signals[stopping]);
  }
  stopping = signal;
  say(`${why}: stopping wrangler and waiting for it and its workerd processes to exit…`);
  // Frozen while they are noted, none can start a process that outlives its parent unseen.
  const frozen = new Set();
  for (let fresh = [null]; fresh.length; ) {
    noteDescendants();
    fresh = survivors().filter((pid) => !frozen.has(pid));
    signalAll(fresh, "SIGSTOP");
    for (const pid of fresh) frozen.add(pid);
  }
  // wrangler's launcher passes SIGINT and SIGTERM on to the CLI, which shuts workerd down; it knows no other signal.
  if (running()) child.kill(signal === "SIGINT" ? "SIGINT" : "SIGTERM");
  signalAll(frozen, "SIGCONT");
  for (let waited = 0; running() && waited < 10_000; waited += 100) {
    await sleep(100);
    noteDescendants();
  }
  // Anything wrangler left behind (it was killed itself, or stopped mid-start before it could clean up).
  let left = survivors();
  if (left.length) signalAll(left, "SIGTERM");
  for (let waited = 0; left.length && waited < 5_000; waited += 100) {
    await sleep(100);
    left = survivors();
  }
  if (left.length) {
    say(`still running after SIGTERM: ${left.join(", ")}; sending SIGKILL`);
    signalAll(left, "SIGKILL");
  }
  process.exit(128 + constants.signals[signal]);
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => void stop(sig, sig));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) void stop("SIGTERM", `the parent process (${parent}) is gone`);
}, 250).unref();

// ---- the steps ------------------------------------------------------------------------------------------------------

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
} else {
  // A .dev.vars made before a secret was added (RECEIPT_SIGNING_KEY, say): take the example's dev value for each name
  // it lacks, so an existing checkout keeps starting. Values already there are never touched.
  const names = (text) => new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const have = names(readFileSync(".dev.vars", "utf8"));
  const missing = readFileSync(".dev.vars.example", "utf8").split("\n").filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l) && !have.has(l.split("=")[0]));
  if (missing.length) {
    appendFileSync(".dev.vars", `\n# Added by npm start from .dev.vars.example (dev-only values):\n${missing.join("\n")}\n`);
    console.log(`added to .dev.vars from .dev.vars.example: ${missing.map((l) => l.split("=")[0]).join(", ")}`);
  }
}

const persist = persistTo ? ["--persist-to", persistTo] : [];
// CI=true: `d1 migrations apply` would otherwise ask for confirmation.
const migrated = await wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist], { env: { ...process.env, CI: "true" } });
if (stopping) await new Promise(() => {}); // stop() exits
if (migrated.code !== 0) {
  say(`applying the D1 migrations failed (wrangler exited ${migrated.code ?? migrated.signal}); not starting the server`);
  process.exit(migrated.code || 1);
}

// Locally any origin may call the player API, so a browser game served from its own dev server works at once. Production
// allows none until CORS_ORIGINS is set; a `--var CORS_ORIGINS:…` given here wins.
const corsArgs = args.some((a) => a.startsWith("CORS_ORIGINS:")) ? [] : ["--var", "CORS_ORIGINS:*"];
const devArgs = ["dev", ...(option("ip") ? [] : ["--ip", ip]), ...(option("port") ? [] : ["--port", port]), ...corsArgs, ...args];
const served = wrangler(devArgs);
void served.then(({ code, signal }) => {
  if (stopping) return; // stop() exits once everything is gone
  say(`wrangler dev exited (${code ?? signal})`);
  process.exit(code ?? 1);
});

const adminToken = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim();
let healthy = false;
for (let i = 0; i < 120 && !healthy && !stopping && running(); i++) {
  await sleep(500);
  try {
    healthy = (await fetch(`${BASE}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    // not listening yet
  }
}
if (stopping || !running()) await new Promise(() => {}); // stop() or the exit handler above ends the process
if (!healthy) {
  say(`${BASE}/health did not answer within 60 s; the demo templates were not seeded (wrangler dev keeps running)`);
} else {
  try {
    const seeded = await seedDemoTemplates(BASE, adminToken);
    console.log(`demo templates ready: ${seeded.join(", ")}`);
    const events = await seedDemoEvents(BASE, adminToken);
    if (events.length) console.log(`demo events scheduled: ${events.join(", ")}`);
    console.log(`live-events is serving on ${BASE}  (admin token: see .dev.vars; player token: npm run token -- <playerId>)`);
    console.log(`ops console: ${BASE}/console/  (sign in with an operator key, or locally the ADMIN_TOKEN)`);
  } catch (err) {
    console.error(`seeding demo templates failed: ${err.message}`);
  }
}
