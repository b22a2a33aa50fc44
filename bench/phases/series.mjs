// Phase I: recurring-series expansion. The SeriesActor expands its plan on every materialization pass and every edit,
// so this is the cost of one expansion of a daily series over a year (365 occurrences) in America/New_York, with each
// wall-clock reading resolved to an instant by RFC 5545's rules, against a baseline: the same rule expanded by
// rrule-temporal alone in UTC (no zone resolution). src/domain/series.ts is bundled with esbuild and run here in Node
// (the same code the actor runs in workerd); it needs no Worker, so it runs whether the server is up or not.
import { build } from "esbuild";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmtNum, summarize } from "../stats.mjs";

const DAY = 86_400_000;
const root = fileURLToPath(new URL("../..", import.meta.url));

async function loadDomain() {
  const dir = await mkdtemp(join(os.tmpdir(), "bench-series-"));
  const out = join(dir, "series.mjs");
  await build({
    stdin: { contents: 'export * from "./src/domain/series.ts"; export { RRuleTemporal } from "rrule-temporal"; export { Temporal } from "temporal-polyfill";', resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    outfile: out,
    logLevel: "error",
  });
  return { mod: await import(pathToFileURL(out).href), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function time(fn, runs) {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return summarize(ms);
}

export default {
  name: "series",
  title: "Phase I: series expansion (a daily series over a year in America/New_York, ratio to a UTC-only baseline)",

  async run(ctx) {
    const runs = Number(process.env.BENCH_SERIES_RUNS ?? 50);
    const { mod, cleanup } = await loadDomain();
    try {
      const checked = mod.checkRule({ rrule: "FREQ=DAILY", dtstart: "2027-01-01T02:30", duration: "PT12H", timeZone: "America/New_York" });
      if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
      const from = Date.UTC(2027, 0, 1);
      const to = from + 365 * DAY;
      let count = 0;
      ctx.log(`Phase I: expanding a daily series over a year, ${runs} times…`);
      const series = time(() => (count = mod.expandRule(checked.rule, from, to).length), runs);
      const baseline = time(() => {
        const r = new mod.RRuleTemporal({ rruleString: "FREQ=DAILY", dtstart: mod.Temporal.ZonedDateTime.from("2027-01-01T02:30:00[UTC]") });
        return r.between(new Date(from), new Date(to), true).length;
      }, runs);
      if (count < 364) throw new Error(`a year of a daily series gave ${count} occurrences`);
      const ratio = series.p50 / baseline.p50;
      ctx.log(`Phase I done: ${fmtNum(series.p50)} ms per year-long expansion (${count} occurrences), ${ratio.toFixed(2)}× the UTC baseline`);
      return {
        metrics: { runs, occurrences: count, seriesMs: series, baselineMs: baseline, ratio },
        rows: [
          ["series: one year of a daily series, p50/p95 (ms)", `${fmtNum(series.p50)} / ${fmtNum(series.p95)}`, "", ""],
          ["series: baseline (UTC, library only), p50 (ms)", fmtNum(baseline.p50), "", ""],
          ["series: ratio to baseline (p50)", `${ratio.toFixed(2)}×`, "", ""],
        ],
        targets: [],
      };
    } finally {
      await cleanup();
    }
  },
};
