// Spawns a load process (load-http.mjs today; a WebSocket load module later) and returns the JSON it prints.
// The orchestrator never generates load itself, so its own work (polling, reporting) cannot skew a measurement.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const running = new Set();

/** Kills any load process still running (SIGINT, or a failure in the orchestrator). */
export function killLoads() {
  for (const child of running) child.kill("SIGKILL");
}

export function runLoad(module, config) {
  const script = fileURLToPath(new URL(module, import.meta.url));
  return new Promise((resolve, reject) => {
    // process.execPath: the same Node 24 that runs the orchestrator. Config goes by env: it carries a secret.
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, BENCH_LOAD_CONFIG: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    running.add(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      running.delete(child);
      const last = out.trim().split("\n").pop();
      if (code !== 0) return reject(new Error(`load process ${module} exited ${code ?? signal}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`load process ${module} printed no JSON result: ${out.slice(-500)}`));
      }
    });
  });
}

/**
 * Like runLoad, for a load that must step in lockstep with the orchestrator (the WebSocket phase): an IPC channel
 * carries { type } messages both ways, stdout still carries the one JSON result. The child starts under
 * `ulimit -n <hard limit>` (through bash, which then execs node in place, so the pid is node's): every socket is a
 * file descriptor and the soft limit is often far below what 10,000 sockets need.
 * Returns { pid, send(msg), next(type, timeoutMs), result }.
 */
export function startLoad(module, config) {
  const script = fileURLToPath(new URL(module, import.meta.url));
  const child = spawn("bash", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, script], {
    env: { ...process.env, BENCH_LOAD_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  running.add(child);
  const inbox = [];
  const waiters = [];
  let exitError = null;
  child.on("message", (msg) => {
    const i = waiters.findIndex((w) => w.type === msg?.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
    else inbox.push(msg);
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const result = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      running.delete(child);
      exitError = new Error(`load process ${module} exited ${code ?? signal}`);
      for (const w of waiters.splice(0)) w.reject(exitError);
      const last = out.trim().split("\n").pop();
      if (code !== 0) return reject(exitError);
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`load process ${module} printed no JSON result: ${out.slice(-500)}`));
      }
    });
  });
  result.catch(() => {}); // observed through next() or by the caller awaiting result
  const next = (type, timeoutMs) => {
    const i = inbox.findIndex((m) => m?.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
    if (exitError) return Promise.reject(exitError);
    return new Promise((resolve, reject) => {
      const w = { type, resolve, reject };
      waiters.push(w);
      setTimeout(() => {
        const j = waiters.indexOf(w);
        if (j >= 0) {
          waiters.splice(j, 1);
          reject(new Error(`load process ${module} sent no "${type}" within ${timeoutMs / 1000} s`));
        }
      }, timeoutMs).unref();
    });
  };
  return { pid: child.pid, send: (msg) => child.connected && child.send(msg), next, result };
}
