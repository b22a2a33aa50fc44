// Server-side memory: the resident set of the processes wrangler dev started (its own node process and the workerd
// ones), read from /proc every `intervalMs` by the orchestrator. wrangler is spawned detached, so it leads a process
// group and every one of its children is in that group. Linux only; elsewhere it reports null.
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024, cmd };
  } catch {
    return null; // gone meanwhile
  }
}

/** The processes in the group led by `leaderPid`, labelled: wrangler (node), workerd (proxy), workerd (worker). */
export function groupProcesses(leaderPid, publicPort) {
  const procs = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (!p || p.pgrp !== leaderPid) continue;
    const exe = p.cmd[0]?.split("/").pop() ?? "?";
    let label = exe;
    if (exe === "workerd") {
      // wrangler dev runs two: a proxy on the public port that forwards every request, and the Worker itself.
      label = p.cmd.some((a) => a === `--socket-addr=entry=127.0.0.1:${publicPort}`) ? "workerd (dev proxy)" : "workerd (Worker)";
    } else if (exe === "node" || exe.startsWith("node")) label = "node (wrangler)";
    procs.push({ ...p, label });
  }
  return procs;
}

/** Open file descriptors and the open-files limit of a process (what caps the sockets it can hold). */
export function fdInfo(pid) {
  try {
    const open = readdirSync(`/proc/${pid}/fd`).length;
    const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map(Number);
    return { open, soft, hard };
  } catch {
    return null;
  }
}

/**
 * Starts sampling; the returned function stops it and gives peaks in bytes: { workerdPeak (sum of the workerd
 * processes' VmRSS at the worst sample), treePeak (the same plus wrangler's node), byLabel: { label: { peak, hwm,
 * maxOpenFds, fdLimit } }, marks }. `stop.mark(name)` records the workerd sum at a moment of the run (e.g. "all
 * sockets connected"), so a peak can be told apart from the steady cost of the sockets.
 */
export function startServerMemWatch(leaderPid, publicPort, intervalMs = 500) {
  if (os.platform() !== "linux" || !leaderPid) return Object.assign(() => null, { mark: () => {} });
  const byLabel = {};
  let workerdPeak = 0;
  let treePeak = 0;
  let samples = 0;
  let lastWorkerd = 0;
  const marks = {};
  const sample = (withFds = false) => {
    const procs = groupProcesses(leaderPid, publicPort);
    if (!procs.length) return;
    samples++;
    let workerd = 0;
    let tree = 0;
    for (const p of procs) {
      tree += p.rss;
      if (p.label.startsWith("workerd")) workerd += p.rss;
      const e = (byLabel[p.label] ??= { pid: p.pid, peak: 0, hwm: 0, maxOpenFds: 0, fdLimit: null });
      e.peak = Math.max(e.peak, p.rss);
      e.hwm = Math.max(e.hwm, p.hwm);
      if (withFds && p.label.startsWith("workerd")) {
        const fd = fdInfo(p.pid);
        if (fd) {
          e.maxOpenFds = Math.max(e.maxOpenFds, fd.open);
          e.fdLimit = fd.soft;
        }
      }
    }
    lastWorkerd = workerd;
    workerdPeak = Math.max(workerdPeak, workerd);
    treePeak = Math.max(treePeak, tree);
  };
  sample(true);
  let n = 0;
  const timer = setInterval(() => sample(++n % 2 === 0), intervalMs);
  const stop = () => {
    clearInterval(timer);
    sample(true);
    return { workerdPeak, treePeak, byLabel, marks, samples, intervalMs };
  };
  stop.mark = (name) => {
    sample(true);
    marks[name] = lastWorkerd;
  };
  return stop;
}
