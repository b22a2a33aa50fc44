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
