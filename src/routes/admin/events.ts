// Ops: create events from templates, inspect them, drive the manual transitions, and read progress per event.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { eventActor, progressShardActor, schedulerActor } from "../../actors/stubs";
import type { OpsCommand } from "../../actors/contracts";
import { decodeCursor, listEvents, participation } from "../../db/instances";
import { progressTotals } from "../../db/progress";
import { recordTemplateUse } from "../../db/templates";
import { renderInstance } from "../../domain/instance";
import { CreateEventBody, EventState, EventTier, EventType, ReasonBody, RescheduleBody, ResumeBody } from "../../domain/model";
import { histogram } from "../../domain/progress";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError, unwrap, validationError } from "../../http/errors";
import { eventIdParam } from "../../http/ids";
import { buildInstance } from "../../http/instances";
import { shardCountOf, shardFor } from "../../http/shards";
import { jsonBody, query } from "../../http/validate";

const ListQuery = z.strictObject({
  state: EventState.optional(),
  type: EventType.optional(),
  tier: EventTier.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const render = (view: { instance: Parameters<typeof renderInstance>[0]; transitions: unknown[] }) => ({
  ...renderInstance(view.instance, Date.now()),
  transitions: view.transitions.map((t) => ({ ...(t as object), at: iso((t as { at: number }).at) })),
});

async function runCommand(c: Context<AppEnv>, cmd: OpsCommand) {
  const eventId = eventIdParam(c);
  const audit = { actor: c.var.operator, reason: null as string | null };
  if (cmd === "resume") {
    // Resuming may move endTime, which is a schedule change: it goes through the calendar like any other.
    const body = await jsonBody(c, ResumeBody, { optional: true });
    const endTime = body.endTime ? Date.parse(body.endTime) : undefined;
    const result = await schedulerActor(c.env).resume(eventId, endTime, { ...audit, reason: body.reason ?? null }, body);
    return c.json(render(unwrap(result)));
  }
  const body = await jsonBody(c, ReasonBody, { optional: true });
  // Pause, cancel and end-now only ever shrink or release a window; the event object tells the calendar after.
  const result = await eventActor(c.env, eventId).command(cmd, { ...audit, reason: body.reason ?? null });
  return c.json(render(unwrap(result)));
}

export const adminEventRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateEventBody);
    const instance = await buildInstance(c, body);
    // The scheduling rules are asked here, inside the calendar, which also creates the event object.
    const result = await schedulerActor(c.env).createEvent(instance, { actor: c.var.operator, reason: body.reason ?? null }, body);
    const view = unwrap(result);
    await recordTemplateUse(c.env.DB, instance.templateId, instance.createdAt);
    return c.json(render(view), 201);
  })
  .get("/", async (c) => {
    const q = query(c, ListQuery);
    if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) throw validationError([{ path: "to", message: "must be after from" }], 400);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (after === null) throw validationError([{ path: "cursor", message: "is not a cursor this API returned" }], 400);
    const page = await listEvents(
      c.env.DB,
      { state: q.state, type: q.type, tier: q.tier, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined },
      { limit: q.limit, after },
    );
    const now = Date.now();
    return c.json({ events: page.events.map((e) => renderInstance(e, now)), nextCursor: page.nextCursor });
  })
  .get("/:eventId", async (c) => {
    const eventId = eventIdParam(c);
    const view = await eventActor(c.env, eventId).get();
    if (!view) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
    const counts = await participation(c.env.DB, eventId);
    return c.json(render({ ...view, instance: { ...view.instance, ...counts } }));
  })
  .patch("/:eventId", async (c) => {
    const eventId = eventIdParam(c);
    const body = await jsonBody(c, RescheduleBody);
    const change = {
      startTime: body.startTime ? Date.parse(body.startTime) : undefined,
      endTime: body.endTime ? Date.parse(body.endTime) : undefined,
    };
    const result = await schedulerActor(c.env).reschedule(eventId, change, { actor: c.var.operator, reason: body.reason ?? null }, body);
    return c.json(render(unwrap(result)));
  })
  .post("/:eventId/pause", (c) => runCommand(c, "pause"))
  .post("/:eventId/resume", (c) => runCommand(c, "resume"))
  .post("/:eventId/cancel", (c) => runCommand(c, "cancel"))
  .post("/:eventId/end-now", (c) => runCommand(c, "end_now"))
  .post("/:eventId/retry-activation", (c) => runCommand(c, "retry_activation"))
  // Progress, as ops see it: one player's record, the shards' live summary, and D1's totals.
  .get("/:eventId/players/:playerId/progress", async (c) => {
    const eventId = eventIdParam(c);
    const playerId = c.req.param("playerId").slice(0, 64);
    const shard = await shardFor(c.env, eventId, playerId);
    return c.json(unwrap(await shard.getProgress(playerId)));
  })
  .get("/:eventId/progress/summary", async (c) => {
    const eventId = eventIdParam(c);
    const count = await shardCountOf(c.env, eventId);
    // The shards are the authority and answer in parallel; D1 may lag them by up to a drain.
    const shards = await Promise.all(Array.from({ length: count }, (_, n) => progressShardActor(c.env, eventId, n).summary()));
    const sum = (k: "participants" | "completions" | "outboxPending" | "flagsPending" | "updatesApplied" | "d1Statements" | "requests") =>
      shards.reduce((acc, s) => acc + s[k], 0);
    const buckets = histogram([], 10).map((b, i) => ({ ...b, count: shards.reduce((acc, s) => acc + s.completionValues[i].count, 0) }));
    return c.json({
      eventId,
      shardCount: count,
      participantCount: sum("participants"),
      completionCount: sum("completions"),
      completionHistogram: buckets,
      ingest: {
        requests: sum("requests"),
        updatesApplied: sum("updatesApplied"),
        d1Statements: sum("d1Statements"),
        outboxPending: sum("outboxPending"),
        flagsPending: sum("flagsPending"),
      },
    });
  })
  .get("/:eventId/progress/totals", async (c) => {
    const eventId = eventIdParam(c);
    return c.json({ eventId, ...(await progressTotals(c.env.DB, eventId)) });
  });
