// Starts and stops the Worker under test. It is the bundle `wrangler deploy` would ship: built once with
// `wrangler deploy --dry-run`, then served by `wrangler dev --no-bundle`. Serving a frozen bundle and config also
// means edits others make to src/ or wrangler.toml during a run cannot reload the Worker mid-measurement.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** Runs a wrangler subcommand to completion; its output is only shown if it fails (it is noisy otherwise). */
function wrangler(args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    // By name, resolved through PATH (see startServer), as npm scripts do.
    const child = spawn("wrangler", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} exited ${code}:\n${out.slice(-3000)}`)),
    );
  });
}

/** The preferred port if it is free, else any free one the OS hands out. */
function freePort(preferred) {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(null));
      srv.listen(port, "127.0.0.1", () => {
        const { port: got } = srv.address();
        srv.close(() => resolve(got));
      });
    });
  return tryPort(preferred).then((p) => p ?? tryPort(0));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Bundles src/ as `wrangler deploy` would and keeps a copy of the wrangler.toml it was built with, so the Worker
 * served matches one consistent (bundle, config) pair even while others edit the project. If the config changed
 * during the build, the pair may not match: build again.
 */
async function buildSnapshot(root, dir, env, log) {
  const config = join(root, "wrangler.toml");
  for (let attempt = 1; attempt <= 3; attempt++) {
    const before = await readFile(config, "utf8");
    await wrangler(["deploy", "--dry-run", "--outdir", join(dir, "bundle")], { cwd: root, env });
    if ((await readFile(config, "utf8")) === before) {
      // [assets] directory is relative to the config: the console's files travel with the snapshot.
      await cp(join(root, "public"), join(dir, "public"), { recursive: true });
      return writeFile(join(dir, "wrangler.toml"), before);
    }
    log("wrangler.toml changed during the build; building again…");
  }
  throw new Error("wrangler.toml kept changing during the build");
}

/**
 * Builds, migrates a fresh local D1 and serves the Worker. Returns { baseUrl, pid, stop(), logTail() }; pid leads
 * the process group of wrangler and its workerd children (the server side's memory is sampled from it).
 * `secrets` go through a temp env file (mode 0600) rather than the command line, where `ps` would show them.
 */
export async function startServer({ root, vars, secrets, preferredPort = 8799, log }) {
  const dir = await mkdtemp(join(tmpdir(), "live-events-bench-"));
  const persist = join(dir, "state");
  // npm run already puts node_modules/.bin (wrangler, Node 24) first on PATH; doing it again here keeps a direct
  // `node bench/run.mjs` working too. CI=true stops `d1 migrations apply` from prompting.
  const PATH = [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter);
  const env = { ...process.env, PATH, CI: "true", WRANGLER_SEND_METRICS: "false" };
  let child = null;
  let exited = null;

  const stop = async () => {
    if (child && exited === null) {
      // detached ⇒ wrangler leads its own process group; signalling the group also reaches its workerd children.
      const killGroup = (sig) => {
        try {
          process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      killGroup("SIGTERM");
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) killGroup("SIGKILL");
    }
    if (!process.env.BENCH_KEEP_TMP) await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  // Last resort if the orchestrator dies without running stop(): the exit hook must be synchronous.
  process.on("exit", () => {
    if (child && exited === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  try {
    log("building the deploy bundle (wrangler deploy --dry-run)…");
    await buildSnapshot(root, dir, env, log);
    log("applying D1 migrations to a fresh local database…");
    await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], { cwd: root, env });

    const envFile = join(dir, "secrets.env");
    await writeFile(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
    const port = await freePort(preferredPort);
    const args = [
      "dev",
      join(dir, "bundle", "index.js"),
      "--no-bundle",
      // The config snapshot taken with the bundle (explicit: with a script argument wrangler would otherwise look
      // next to the script). wrangler dev reloads the Worker when its config file changes, resetting every Durable
      // Object mid-run; nobody edits the copy. Its relative paths (main, migrations_dir) are not used by dev here.
      "--config",
      join(dir, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persist,
      "--env-file",
      envFile,
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      // Per-request logging would cost throughput; errors (including the Worker's console.error) still show.
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
    ];
    log(`starting wrangler dev on 127.0.0.1:${port}…`);
    const logPath = join(dir, "wrangler.log");
    const logStream = createWriteStream(logPath);
    // Through bash, which raises the open-files soft limit to the hard one and then execs wrangler in its place (same
    // pid, still the group leader): every WebSocket costs workerd descriptors, and a soft limit of 1,024 would cap
    // phase C at a few hundred sockets. Where soft = hard already, this changes nothing.
    child = spawn("bash", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', "wrangler", ...args], {
      cwd: dir,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(logStream);
    child.stderr.pipe(logStream);
    child.on("exit", (code, signal) => (exited = { code, signal }));
    child.on("error", (err) => (exited = { code: null, signal: null, error: err }));

    const baseUrl = `http://127.0.0.1:${port}`;
    const logTail = async (chars = 4000) => (await readFile(logPath, "utf8").catch(() => "")).slice(-chars);
    const started = Date.now();
    for (;;) {
      if (exited) throw new Error(`wrangler dev exited early (${JSON.stringify(exited)}):\n${await logTail()}`);
      if (Date.now() - started > 60_000) throw new Error(`wrangler dev did not answer GET /health within 60 s:\n${await logTail()}`);
      try {
        if ((await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    log(`Worker ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${baseUrl}`);
    return { baseUrl, port, dir, pid: child.pid, stop, logTail, isAlive: () => exited === null };
  } catch (err) {
    await stop();
    throw err;
  }
}
