// Ops: create events from templates, inspect them, drive the manual transitions, and read progress per event.
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { eventActor, progressShardActor, schedulerActor, seriesActor } from "../../actors/stubs";
import type { EventView, OpsCommand } from "../../actors/contracts";
import { decodeCursor, listEvents, participation } from "../../db/instances";
import { progressTotals } from "../../db/progress";
import { seriesLinks } from "../../db/series";
import { recordTemplateUse } from "../../db/templates";
import { renderInstance } from "../../domain/instance";
import { CreateEventBody, EventState, EventTier, EventType, ReasonBody, RescheduleBody, ResumeBody } from "../../domain/model";
import { histogram } from "../../domain/progress";
import { iso } from "../../domain/time";
import { EventDetail, EventPage, PlayerProgress, ProgressSummary, ProgressTotals } from "../../domain/views";
import { requireEventBodyRole, type AppEnv } from "../../http/auth";
import { revalidate } from "../../http/cache";
import { ApiError, unwrap, validationError } from "../../http/errors";
import { checkEventId } from "../../http/ids";
import { buildInstance } from "../../http/instances";
import { EventIdParam, OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { shardCountOf, shardFor } from "../../http/shards";

const ListQuery = z.strictObject({
  state: EventState.optional(),
  type: EventType.optional(),
  tier: EventTier.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
const EventPath = z.object({ eventId: EventIdParam });
const PlayerPath = z.object({ eventId: EventIdParam, playerId: z.string() });

const render = (view: Pick<EventView, "instance" | "transitions">) => ({
  ...renderInstance(view.instance, Date.now()),
  transitions: view.transitions.map((t) => ({ ...t, at: iso(t.at) })),
});

const ops = { tags: ["Events (ops)"], security: OPERATOR };
const NOT_MODIFIED = { 304: { description: "Not modified (If-None-Match)" } };

/** The manual transitions; each takes an optional body (a reason; resume may also move endTime). */
const COMMANDS = [
  { path: "pause", cmd: "pause", summary: "Pause a running event" },
  { path: "resume", cmd: "resume", summary: "Resume a paused event (optionally with a new endTime)" },
  { path: "cancel", cmd: "cancel", summary: "Cancel a scheduled event" },
  { path: "end-now", cmd: "end_now", summary: "End a running event now" },
  { path: "retry-activation", cmd: "retry_activation", summary: "Retry an activation that failed" },
] as const satisfies ReadonlyArray<{ path: string; cmd: OpsCommand; summary: string }>;

const commandRoute = (path: string, summary: string, body: typeof ReasonBody | typeof ResumeBody) =>
  createRoute({
    ...ops,
    method: "post",
    path: `/{eventId}/${path}`,
    summary,
    request: { params: EventPath, body: jsonRequest(body, { optional: true }) },
    responses: { 200: json(EventDetail, "The event after the transition"), ...errors(400, 401, 403, 404, 409, 413, 422) },
  });

async function runCommand(c: Context<AppEnv>, cmd: OpsCommand, eventId: string, body: { reason?: string; endTime?: string; force?: boolean }) {
  requireEventBodyRole(c, body);
  const audit = { actor: c.var.operator, reason: body.reason ?? null };
  if (cmd === "resume") {
    // Resuming may move endTime, which is a schedule change: it goes through the calendar like any other.
    const endTime = body.endTime ? Date.parse(body.endTime) : undefined;
    return render(unwrap(await schedulerActor(c.env).resume(eventId, endTime, audit, body)));
  }
  // Pause, cancel and end-now only ever shrink or release a window; the event object tells the calendar after.
  const view = unwrap(await eventActor(c.env, eventId).command(cmd, audit));
  if (cmd === "cancel") await tellSeries(c.env, eventId, view.revision, audit);
  return render(view);
}

/**
 * A cancelled event that is a series occurrence: its series records it at once (and never makes it again). Best effort:
 * the cancel has happened; should this fail, the series' next pass reads the state from D1 (actors/series/outside.ts).
 */
async function tellSeries(env: Env, eventId: string, revision: number, audit: { actor: string; reason: string | null }) {
  try {
    const link = (await seriesLinks(env.DB, [eventId])).get(eventId);
    if (link) await seriesActor(env, link.seriesId).eventCancelled(eventId, revision, audit);
  } catch (err) {
    console.error(JSON.stringify({ msg: "series not told of a cancelled occurrence", eventId, error: String(err) }));
  }
}

const app = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/",
      summary: "Create an event from a template",
      request: { body: jsonRequest(CreateEventBody) },
      responses: { 201: json(EventDetail, "The scheduled (or, with startTime now, active) event"), ...errors(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      requireEventBodyRole(c, body);
      const instance = await buildInstance(c, body);
      // The scheduling rules are asked here, inside the calendar, which also creates the event object.
      const result = await schedulerActor(c.env).createEvent(instance, { actor: c.var.operator, reason: body.reason ?? null }, body);
      const view = unwrap(result);
      // Best effort: the event exists now, and a failed usage counter must not turn its creation into an error a
      // client would retry (making a second event). The counter only orders the template list.
      await recordTemplateUse(c.env.DB, instance.templateId, instance.createdAt).catch((err) =>
        console.error(JSON.stringify({ msg: "template usage not recorded", templateId: instance.templateId, eventId: instance.eventId, error: String(err) })),
      );
      return c.json(render(view), 201);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/",
      summary: "List events (filtered, paginated by cursor)",
      middleware: [revalidate],
      request: { query: ListQuery },
      responses: { 200: json(EventPage, "One page of events"), ...NOT_MODIFIED, ...errors(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) throw validationError([{ path: "to", message: "must be after from" }], 400);
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      if (after === null) throw validationError([{ path: "cursor", message: "is not a cursor this API returned" }], 400);
      const page = await listEvents(
        c.env.DB,
        { state: q.state, type: q.type, tier: q.tier, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined },
        { limit: q.limit, after },
      );
      const now = Date.now();
      return c.json({ events: page.events.map((e) => renderInstance(e, now)), nextCursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}",
      summary: "Read an event with its transition log",
      middleware: [revalidate],
      request: { params: EventPath },
      responses: { 200: json(EventDetail, "The event"), ...NOT_MODIFIED, ...errors(401, 403, 404) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const view = await eventActor(c.env, eventId).get();
      if (!view) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
      const counts = await participation(c.env.DB, eventId);
      return c.json(render({ ...view, instance: { ...view.instance, ...counts } }), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "patch",
      path: "/{eventId}",
      summary: "Reschedule an event",
      request: { params: EventPath, body: jsonRequest(RescheduleBody) },
      responses: { 200: json(EventDetail, "The rescheduled event"), ...errors(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const body = c.req.valid("json");
      requireEventBodyRole(c, body);
      const change = {
        startTime: body.startTime ? Date.parse(body.startTime) : undefined,
        endTime: body.endTime ? Date.parse(body.endTime) : undefined,
      };
      const result = await schedulerActor(c.env).reschedule(eventId, change, { actor: c.var.operator, reason: body.reason ?? null }, body);
      return c.json(render(unwrap(result)), 200);
    },
  )
  // Progress, as ops see it: one player's record, the shards' live summary, and D1's totals.
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/players/{playerId}/progress",
      summary: "One player's progress in an event",
      request: { params: PlayerPath },
      responses: { 200: json(PlayerProgress, "The player's progress"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const { eventId, playerId } = c.req.valid("param");
      const shard = await shardFor(c.env, checkEventId(eventId), playerId.slice(0, 64));
      return c.json(unwrap(await shard.getProgress(playerId.slice(0, 64))), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/progress/summary",
      summary: "Live progress summary across the event's shards",
      request: { params: EventPath },
      responses: { 200: json(ProgressSummary, "Participation, completion and ingest counters"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const count = await shardCountOf(c.env, eventId);
      // The shards are the authority and answer in parallel; D1 may lag them by up to a drain.
      const shards = await Promise.all(Array.from({ length: count }, (_, n) => progressShardActor(c.env, eventId, n).summary()));
      const sum = (k: "participants" | "completions" | "outboxPending" | "flagsPending" | "updatesApplied" | "d1Statements" | "requests") =>
        shards.reduce((acc, s) => acc + s[k], 0);
      const buckets = histogram([], 10).map((b, i) => ({ ...b, count: shards.reduce((acc, s) => acc + s.completionValues[i].count, 0) }));
      return c.json(
        {
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
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/progress/totals",
      summary: "Progress totals per objective, from D1",
      request: { params: EventPath },
      responses: { 200: json(ProgressTotals, "Players and per-objective sums"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      return c.json({ eventId, ...(await progressTotals(c.env.DB, eventId)) }, 200);
    },
  );

for (const { path, cmd, summary } of COMMANDS) {
  app.openapi(commandRoute(path, summary, cmd === "resume" ? ResumeBody : ReasonBody), async (c) =>
    c.json(await runCommand(c, cmd, checkEventId(c.req.valid("param").eventId), c.req.valid("json")), 200),
  );
}

export const adminEventRoutes = app;
