// scripts/start.mjs from the outside: the real `npm start` (npm → sh → node → wrangler → workerd), on a free port
// with its own throwaway local state, stopped with a signal at several points of its life. Whatever the moment, no
// process it started may outlive it. Processes are told apart by process group: each run is spawned detached, so
// npm leads a new group and everything under it belongs to that group (Linux: read from /proc).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const linux = process.platform === "linux";


/** The live (non-zombie) processes of a process group, with their command lines. */
function groupMembers(pgid) {
  const members = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) !== pgid || f[0] === "Z") continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      members.push({ pid: Number(name), cmd });
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

const groups = new Set();
const dirs = new Set();
after(() => {
  // Whatever a failed assertion left behind.
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts `npm start` (or `node scripts/start.mjs`) in a new process group on a free port with fresh local state. */
async function launch({ viaNpm = true, env = {} } = {}) {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "live-events-start-test-"));
  dirs.add(state);
  const startArgs = ["--port", String(port), "--persist-to", state];
  const [cmd, cmdArgs] = viaNpm ? ["npm", ["start", "--", ...startArgs]] : [process.execPath, ["scripts/start.mjs", ...startArgs]];
  const proc = spawn(cmd, cmdArgs, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // npm puts node_modules/.bin (wrangler, Node 24) first on PATH; a direct run gets the same.
    env: { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter), WRANGLER_SEND_METRICS: "false", ...env },
  });
  groups.add(proc.pid);
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  let status = null;
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve((status = { code, signal }))));
  const run = { proc, pgid: proc.pid, port, exited, output: () => output };
  /** Waits until the output says it is serving; fails at once if the script exits first. */
  run.serving = () =>
    until(
      "the server to be seeded and serving",
      () => {
        if (status) throw new Error(`start exited (${JSON.stringify(status)}) before serving:\n${output.slice(-3000)}`);
        return output.includes("is serving on");
      },
      75_000,
    );
  return run;
}

const serverProcesses = (pgid) => groupMembers(pgid).filter((m) => /wrangler|workerd|esbuild/.test(m.cmd));

/** kill -TERM the launched process, then every process of its group must be gone within `graceMs`. */
async function terminateAndExpectNothingLeft(run, graceMs = 20_000) {
  const before = serverProcesses(run.pgid);
  process.kill(run.proc.pid, "SIGTERM");
  await run.exited;
  try {
    await until("every process of the group to exit", () => groupMembers(run.pgid).length === 0, graceMs);
  } catch {
    assert.fail(`still running after SIGTERM:\n${groupMembers(run.pgid).map((m) => `  ${m.pid} ${m.cmd}`).join("\n")}\n--- output:\n${run.output().slice(-3000)}`);
  }
  return before;
}

async function healthy(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

describe("npm start", { skip: !linux && "reads process groups from /proc" }, () => {
  test("kill -TERM while serving stops wrangler and workerd, and the port closes", { timeout: 90_000 }, async () => {
    const run = await launch();
    await run.serving();
    assert.ok(await healthy(run.port), "GET /health answers while serving");
    // npm start lets a browser game on any origin call the player API: its preflight is answered, not refused.
    const preflight = await fetch(`http://127.0.0.1:${run.port}/v1/events/active`, {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    const before = await terminateAndExpectNothingLeft(run);
    assert.ok(before.some((m) => m.cmd.includes("workerd")), `workerd was running before: ${before.map((m) => m.cmd).join("; ")}`);
    assert.equal(await healthy(run.port), false, "nothing answers on the port afterwards");
  });

  test("kill -TERM during the migrations leaves nothing running", { timeout: 60_000 }, async () => {
    const run = await launch();
    await until("the migrations to start", () => serverProcesses(run.pgid).some((m) => m.cmd.includes("migrations")), 30_000);
    await terminateAndExpectNothingLeft(run);
    assert.doesNotMatch(run.output(), /is serving on/);
  });

  test("kill -TERM while wrangler dev is starting leaves nothing running", { timeout: 60_000 }, async () => {
    const run = await launch();
    await until("wrangler dev to start", () => serverProcesses(run.pgid).some((m) => / dev /.test(` ${m.cmd} `) && m.cmd.includes("wrangler")), 45_000);
    await terminateAndExpectNothingLeft(run);
  });

  test("kill -TERM of scripts/start.mjs itself: it exits 143 only once wrangler and workerd are gone", { timeout: 90_000 }, async () => {
    const run = await launch({ viaNpm: false });
    await run.serving();
    process.kill(run.proc.pid, "SIGTERM");
    const { code } = await run.exited;
    // Checked at the moment it exited, before anything else could clean up after it.
    const left = groupMembers(run.pgid);
    assert.deepEqual(left, [], `still running when start.mjs exited:\n${run.output().slice(-2000)}`);
    assert.equal(code, 143);
    assert.equal(await healthy(run.port), false);
  });

  test("without wrangler on PATH it says why and exits non-zero", { timeout: 30_000 }, async () => {
    // PATH holds nothing but the Node running this test: node is found, wrangler is not.
    const bin = mkdtempSync(join(tmpdir(), "live-events-start-test-bin-"));
    dirs.add(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    const run = await launch({ viaNpm: false, env: { PATH: bin } });
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.output(), /cannot run `wrangler`: it is not on PATH/);
    assert.match(run.output(), /npm install/);
  });
});
