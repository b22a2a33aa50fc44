// GET /v1/_bench/echo, only with ENABLE_BENCH_ROUTES=true: the bare Worker → Durable Object round trip that
// `npm run bench` compares the real routes against. No auth: it reads and writes nothing but a counter echo.
import { Hono } from "hono";
import { progressShardActor } from "../actors/stubs";
import type { AppEnv } from "../http/auth";
import { ApiError, noRoute } from "../http/errors";

export const benchRoutes = new Hono<AppEnv>()
  .get("/echo", async (c) => {
    if ((c.env.ENABLE_BENCH_ROUTES as string) !== "true") throw new ApiError(404, "not_found", "no such route");
    const n = Number(c.req.query("n") ?? 0) | 0;
    return c.json({ n: await progressShardActor(c.env, "evt_benchecho0", n % 16).echo(n) });
  })
  // The prefix is answered here in full, so nothing under it falls through to the player guard.
  .all("*", (c) => {
    throw noRoute(c);
  });
