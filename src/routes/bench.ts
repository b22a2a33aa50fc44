// GET /v1/_bench/echo, only with ENABLE_BENCH_ROUTES=true: the bare Worker → Durable Object round trip that
// `npm run bench` compares the real routes against. No auth: it reads and writes nothing but a counter echo.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { leaderboardActor, progressShardActor } from "../actors/stubs";
import type { AppEnv } from "../http/auth";
import { ApiError, noRoute } from "../http/errors";
import { errors, json, openApiApp } from "../http/openapi";

const route = createRoute({
  tags: ["Operations"],
  method: "get",
  path: "/echo",
  summary: "Bench baseline: one Worker → Durable Object round trip (404 unless ENABLE_BENCH_ROUTES=true)",
  // Anything goes: the bench measures the round trip, not validation.
  request: { query: z.object({ n: z.string().optional().meta({ description: "Echoed back as an integer (0 when not one)" }) }) },
  responses: { 200: json(z.object({ n: z.number().int() }).meta({ id: "BenchEcho" }), "The echo"), ...errors(404) },
});

export const benchRoutes = openApiApp<AppEnv>();
// Off means absent: checked before any query validation, so a disabled bench route answers 404, never a 400.
benchRoutes.use("*", async (c, next) => {
  if ((c.env.ENABLE_BENCH_ROUTES as string) !== "true") throw new ApiError(404, "not_found", "no such route");
  await next();
});
benchRoutes.openapi(route, async (c) => {
  const n = Number(c.req.valid("query").n ?? 0) | 0;
  return c.json({ n: await progressShardActor(c.env, "evt_benchecho0", n % 16).echo(n) }, 200);
});
const boardRoute = createRoute({
  tags: ["Operations"],
  method: "get",
  path: "/leaderboard",
  summary: "Bench: load n synthetic entries into one board object, or time reads inside it (404 unless ENABLE_BENCH_ROUTES=true)",
  request: {
    query: z.object({
      op: z.enum(["load", "probe"]),
      n: z.coerce.number().int().min(1).max(2_000_000).default(1_000_000),
      batches: z.coerce.number().int().min(1).max(1000).default(200),
    }),
  },
  responses: { 200: json(z.record(z.string(), z.union([z.number(), z.boolean()])).meta({ id: "BenchBoard" }), "Load or probe figures"), ...errors(400, 404) },
});

benchRoutes.openapi(boardRoute, async (c) => {
  const { op, n, batches } = c.req.valid("query");
  // One object name the real routes never use. Its entries stay in its SQLite until the next load replaces them.
  const board = leaderboardActor(c.env, "evt_benchboard0", "bench");
  return c.json(op === "load" ? await board.benchLoad(n) : await board.benchProbe(batches), 200);
});

// The prefix is answered here in full, so nothing under it falls through to the player guard.
benchRoutes.all("*", (c) => {
  throw noRoute(c);
});
