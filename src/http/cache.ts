// Conditional GETs for the cacheable reads (templates, event views, calendars and the ICS feed): an ETag from the body,
// 304 on a matching If-None-Match. Every such answer depends on who asks (a player's eligibility, an operator's
// credentials), so caches keep it private and must revalidate before reusing it.
import type { MiddlewareHandler } from "hono";
import { RETAINED_304_HEADERS, etag } from "hono/etag";

/** A 304 keeps its CORS headers: a browser game revalidating cross-origin could not read it otherwise. */
const tag = etag({ retainedHeaders: [...RETAINED_304_HEADERS, "access-control-allow-origin", "access-control-expose-headers"] });

export const revalidate: MiddlewareHandler = async (c, next) => {
  await tag(c, async () => {
    await next();
    if (c.res.status === 200 && !c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "private, no-cache");
  });
};
