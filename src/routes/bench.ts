// GET /v1/_bench/echo, only with ENABLE_BENCH_ROUTES=true: the bare Worker → Durable Object round trip that
// `npm run bench` compares the real routes against. No auth: it reads and writes nothing but a counter echo.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { progressShardActor } from "../actors/stubs";
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

export const benchRoutes = openApiApp<AppEnv>().openapi(route, async (c) => {
  if ((c.env.ENABLE_BENCH_ROUTES as string) !== "true") throw new ApiError(404, "not_found", "no such route");
  const n = Number(c.req.valid("query").n ?? 0) | 0;
  return c.json({ n: await progressShardActor(c.env, "evt_benchecho0", n % 16).echo(n) }, 200);
});
// The prefix is answered here in full, so nothing under it falls through to the player guard.
benchRoutes.all("*", (c) => {
  throw noRoute(c);
});
