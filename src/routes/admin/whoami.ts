// Ops: who the presented credential is. The console asks once after login to learn the role and hide what it may not
// do; the answer is decided by the same policy table that guards every admin route.
import { createRoute } from "@hono/zod-openapi";
import { capabilities } from "../../domain/access";
import { Caller } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { OPERATOR, errors, json, openApiApp } from "../../http/openapi";

export const whoamiRoutes = openApiApp<AppEnv>().openapi(
  createRoute({
    tags: ["API keys"],
    security: OPERATOR,
    method: "get",
    path: "/whoami",
    summary: "The caller's identity, role and capabilities",
    responses: { 200: json(Caller, "The caller"), ...errors(401, 403) },
  }),
  (c) => c.json({ actor: c.var.operator, role: c.var.role, can: capabilities(c.var.role) }, 200),
);
