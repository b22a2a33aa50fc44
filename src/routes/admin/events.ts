// Ops: create events from templates, inspect them, and drive the manual transitions.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { eventActor, schedulerActor } from "../actors/stubs";
import type { OpsCommand } from "../actors/contracts";
import { decodeCursor, listEvents, participation } from "../db/instances";
import { getTemplate, recordTemplateUse } from "../db/templates";
import { instanceFromTemplate, renderInstance } from "../domain/instance";
import { CreateEventBody, EventState, EventTier, EventType, ReasonBody, RescheduleBody, ResumeBody } from "../domain/model";
import type { AppEnv } from "../http/auth";
import { ApiError, unwrap, validationError } from "../http/errors";
import { formatPath } from "../lib/result";
import { eventIdParam, newEventId } from "../http/ids";
import { jsonBody, query } from "../http/validate";

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
  transitions: view.transitions.map((t) => ({ ...(t as object), at: new Date((t as { at: number }).at).toISOString() })),
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

/** Template lookup + CreateFromTemplate, shared by the real create and its dry run so both judge the same input. */
export async function buildInstance(c: Context<AppEnv>, body: CreateEventBody) {
  const template = await getTemplate(c.env.DB, body.templateId);
  if (!template) throw validationError([{ path: "templateId", message: `names template "${body.templateId}", which does not exist` }]);
  const settings = await schedulerActor(c.env).settings();
  const built = instanceFromTemplate(template, body, { eventId: newEventId(), now: Date.now() }, settings);
  if (!built.ok) throw validationError(built.problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
  return built.instance;
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
  .post("/:eventId/retry-activation", (c) => runCommand(c, "retry_activation"));

