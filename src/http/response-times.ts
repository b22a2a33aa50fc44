// The p95 alert's input: Worker response times, sampled per isolate and written to D1 in batches, never on the
// response path. Each isolate keeps a reservoir of at most SAMPLE_CAP durations per FLUSH_MS window (every request
// while traffic is light, a uniform sample when it is heavy) and hands it to D1 with waitUntil when the window has
// passed, so one isolate writes at most one D1 statement per window. Live sockets (101) are not responses.
import type { MiddlewareHandler } from "hono";
import { insertResponseSamples } from "../db/health";
import type { AppEnv } from "./auth";

const SAMPLE_CAP = 100;
const FLUSH_MS = 5_000;

let reservoir: { at: number; ms: number }[] = [];
let seen = 0;
let windowStart = 0;

function record(at: number, ms: number) {
  seen++;
  if (reservoir.length < SAMPLE_CAP) reservoir.push({ at, ms });
  else {
    // Algorithm R: every request of the window is equally likely to be kept.
    const j = Math.floor(Math.random() * seen);
    if (j < SAMPLE_CAP) reservoir[j] = { at, ms };
  }
}

export const sampleResponseTimes: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  await next();
  if (c.res.status === 101) return;
  const now = Date.now();
  if (windowStart === 0) windowStart = now;
  record(now, now - started);
  if (now - windowStart < FLUSH_MS) return;
  const batch = reservoir;
  reservoir = [];
  seen = 0;
  windowStart = now;
  try {
    c.executionCtx.waitUntil(insertResponseSamples(c.env.DB, batch).catch(() => undefined));
  } catch {
    // No execution context (a direct app.fetch in a script): the samples are dropped, nothing else depends on them.
  }
};
