// How much of the machine the bench did not get. On a 2-core box shared with other work (test runs, type checks),
// a phase's figures mean little unless we know whether something else was competing for the CPUs meanwhile; this
// measures it from /proc (Linux) as machine busy time minus the busy time of this process tree.
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/** utime + stime + cutime + cstime (ticks) and ppid of a process; a reaped child's time is in its parent's cu/cs. */
function procTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields are counted after its closing ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function treeTicks(rootPid) {
  const procs = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const t = procTimes(name);
    if (t) procs.set(Number(name), t);
  }
  const children = new Map();
  for (const [pid, t] of procs) children.set(t.ppid, [...(children.get(t.ppid) ?? []), pid]);
  let ticks = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    ticks += procs.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/** Machine-wide busy and total ticks from /proc/stat's first line (all CPUs). */
function machineTicks() {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - v[3] - v[4], total };
}

/**
 * Starts a measurement; the returned function ends it and gives shares of total machine capacity (0..1):
 * { ours, foreign, idle }. Returns null-yielding functions off Linux, where /proc is missing.
 */
export function startCpuWatch() {
  if (os.platform() !== "linux") return () => null;
  try {
    const m0 = machineTicks();
    const o0 = treeTicks(process.pid);
    return () => {
      const m1 = machineTicks();
      const o1 = treeTicks(process.pid);
      const total = Math.max(1, m1.total - m0.total);
      const busy = m1.busy - m0.busy;
      const ours = Math.min(busy, o1 - o0);
      const r = (x) => Math.round((x / total) * 1000) / 1000;
      return { ours: r(ours), foreign: r(Math.max(0, busy - ours)), idle: r(total - busy) };
    };
  } catch {
    return () => null;
  }
}
