// The p95 alert's input: Worker response times, kept per isolate as a histogram (fixed log-spaced buckets,
// src/domain/histogram.ts) for the current minute and written to D1 as ONE row when the isolate's first answer of a
// later minute goes out, with waitUntil, never on the response path. Every answer counts (no sampling, so no bias
// from isolates of different traffic), and the alert sums the isolates' rows. Not counted: live sockets (upgrades,
// 101), which are not responses, and /v1/admin, whose reports and exports are slow by nature and are not what players
// wait on. An isolate's last minute is lost when it is evicted before another answer: a quiet isolate adds little.
import type { MiddlewareHandler } from "hono";
import { insertResponseHistogram } from "../db/health";
import { record, type Histogram } from "../domain/histogram";
import { MINUTE_MS } from "../domain/time";
import type { AppEnv } from "./auth";

// Random values are not available at global scope in a Worker: the isolate's id is made on its first answer.
let isolate = "";
let minute = 0;
let histogram: Histogram = new Map();

export const sampleResponseTimes: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  await next();
  if (c.res.status === 101 || c.req.header("Upgrade")?.toLowerCase() === "websocket" || c.req.path.startsWith("/v1/admin")) return;
  const now = Date.now();
  const thisMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  if (thisMinute !== minute) {
    const [done, doneMinute] = [histogram, minute];
    histogram = new Map();
    minute = thisMinute;
    isolate ||= crypto.randomUUID();
    if (done.size > 0) {
      try {
        c.executionCtx.waitUntil(insertResponseHistogram(c.env.DB, isolate, doneMinute, done).catch(() => undefined));
      } catch {
        // No execution context (a direct app.fetch in a script): the minute is dropped, nothing else depends on it.
      }
    }
  }
  record(histogram, now - started);
};
