// Phase A, the baseline: a bare Worker → Durable Object RPC echo. It is the ceiling for any route that makes one DO
// call per request on this machine, so the progress route is judged against it rather than against a fixed number.
import { runLoad } from "../load-runner.mjs";
import { fmtCounts, fmtLatency, fmtNum } from "../stats.mjs";

export default {
  name: "echo",
  title: "Phase A: baseline echo (GET /v1/_bench/echo, Worker → DO RPC)",

  async run(ctx) {
    const { config } = ctx;
    ctx.log(`Phase A: echo for ${config.echoSeconds} s at ${config.concurrency} in flight…`);
    const load = await runLoad("./load-http.mjs", {
      scenario: "echo",
      baseUrl: ctx.baseUrl,
      concurrency: config.concurrency,
      seconds: config.echoSeconds,
      warmupSeconds: 1,
      maxRequests: 2_000_000,
    });
    ctx.log(`Phase A done: ${fmtNum(load.requestsPerSec)} req/s, p50/p95/p99 ${fmtLatency(load.latencyMs)} ms`);
    if (load.requests === 0) throw new Error("the echo phase completed no request");
    return {
      metrics: load,
      rows: [
        ["echo requests/s", fmtNum(load.requestsPerSec), "", ""],
        ["echo latency p50/p95/p99 (ms)", fmtLatency(load.latencyMs), "", ""],
        ["echo errors", fmtCounts({ ...load.errors, ...(load.mismatches ? { wrong_echo: load.mismatches } : {}) }), "", ""],
      ],
      targets: [],
    };
  },
};
