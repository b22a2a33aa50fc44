// Headers every answer carries: CORS for browser games (origins from config, answered before any auth so a preflight
// is never a 401) and the hardening set of hono/secure-headers. A WebSocket upgrade gets neither: CORS does not apply
// to sockets, and the shard's 101 response is handed back untouched.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { readConfig } from "../config";

const isUpgrade = (req: { header(name: string): string | undefined }) => req.header("Upgrade")?.toLowerCase() === "websocket";

const CORS_OPTIONS = {
  // DELETE: an ops console revokes keys (DELETE /v1/admin/keys/{keyId}).
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
  exposeHeaders: ["ETag", "Retry-After", "Idempotent-Replayed"],
  maxAge: 600,
};
/** One cors() per list of origins; a deployment has at most two (player and admin). */
const corsByOrigins = new Map<string, MiddlewareHandler>();

/**
 * CORS for an allowed Origin only: any other origin (or none) gets no Access-Control-* header at all and goes on to
 * the routes as if CORS did not exist, so a refused preflight is the route's own 401 or 404.
 */
export const corsForConfig: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const origin = c.req.header("Origin");
  if (!origin || isUpgrade(c.req)) return next();
  const config = readConfig(c.env);
  const admin = c.req.path === "/v1/admin" || c.req.path.startsWith("/v1/admin/");
  const allowed = admin ? config.adminCorsOrigins : config.corsOrigins;
  const any = allowed.includes("*");
  if (!any && !allowed.includes(origin)) {
    // The answer depends on Origin whenever the list is not "*": a shared cache must not hand this CORS-less copy to
    // an allowed origin (or the reverse).
    if (allowed.length > 0) c.header("Vary", "Origin", { append: true });
    return next();
  }
  const key = any ? "*" : allowed.join(",");
  let handler = corsByOrigins.get(key);
  if (!handler) {
    handler = cors({ ...CORS_OPTIONS, origin: any ? "*" : allowed });
    corsByOrigins.set(key, handler);
  }
  return handler(c, next);
};

/** An API answer is data, never a page: nothing in it may load or be framed. */
const apiHeaders = secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } });
/** The /docs page is Scalar's, loaded from jsDelivr: just enough for it to render and call this origin. */
const docsHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
    styleSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net", "https://fonts.scalar.com"],
    fontSrc: ["'self'", "data:", "https://cdn.jsdelivr.net", "https://fonts.scalar.com"],
    imgSrc: ["'self'", "data:", "https:"],
    connectSrc: ["'self'"],
    workerSrc: ["'self'", "blob:"],
    frameAncestors: ["'none'"],
  },
});

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  if (isUpgrade(c.req)) return next();
  return (c.req.path === "/docs" ? docsHeaders : apiHeaders)(c, next);
};
