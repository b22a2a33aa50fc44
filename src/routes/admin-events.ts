// Ops: create events from templates, inspect them, and drive the manual transitions.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { eventActor } from "../actors/stubs";
import type { OpsCommand } from "../actors/event-actor";
import { readConfig } from "../config";
import { decodeCursor, listEvents } from "../db/instances";
import { getTemplate, recordTemplateUse } from "../db/templates";
import { instanceFromTemplate, renderInstance } from "../domain/instance";
import { CreateEventBody, EventState, EventTier, EventType, ReasonBody, ResumeBody } from "../domain/model";
import type { AppEnv } from "../http/auth";
import { ApiError, formatPath, unwrap, validationError } from "../http/errors";
import { jsonBody, query } from "../http/validate";

export const EVENT_ID = /^evt_[a-z0-9]{8,40}$/;
export const newEventId = () => `evt_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

const ListQuery = z.strictObject({
  state: EventState.optional(),
  type: EventType.optional(),
  tier: EventTier.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export function eventIdParam(c: Context<AppEnv>): string {
  const id = (c.req.param as (k: string) => string | undefined)("eventId") ?? "";
  if (!EVENT_ID.test(id)) throw new ApiError(404, "event_not_found", `no event with id "${id.slice(0, 64)}"`);
  return id;
}

const render = (view: { instance: Parameters<typeof renderInstance>[0]; transitions: unknown[] }) => ({
  ...renderInstance(view.instance, Date.now()),
  transitions: view.transitions.map((t) => ({ ...(t as object), at: new Date((t as { at: number }).at).toISOString() })),
});

async function runCommand(c: Context<AppEnv>, cmd: OpsCommand) {
  const eventId = eventIdParam(c);
  // Only resume may move endTime; the other commands take just a reason, and an unknown field is refused.
  const body: { reason?: string; endTime?: string } = await jsonBody(c, cmd === "resume" ? ResumeBody : ReasonBody, { optional: true });
  const endTime = body.endTime ? Date.parse(body.endTime) : undefined;
  const result = await eventActor(c.env, eventId).command(cmd, { actor: c.var.operator, reason: body.reason ?? null }, { endTime });
  return c.json(render(unwrap(result)));
}

export const adminEventRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateEventBody);
    const template = await getTemplate(c.env.DB, body.templateId);
    if (!template) {
      throw validationError([{ path: "templateId", message: `names template "${body.templateId}", which does not exist` }]);
    }
    const now = Date.now();
    const built = instanceFromTemplate(template, body, { eventId: newEventId(), now }, readConfig(c.env));
    if (!built.ok) throw validationError(built.problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
    const result = await eventActor(c.env, built.instance.eventId).create(built.instance, {
      actor: c.var.operator,
      reason: body.reason ?? null,
    });
    const view = unwrap(result);
    await recordTemplateUse(c.env.DB, template.templateId, now);
    return c.json(render(view), 201);
  })
  .get("/", async (c) => {
    const q = query(c, ListQuery);
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
    return c.json(render(view));
  })
  .post("/:eventId/pause", (c) => runCommand(c, "pause"))
  .post("/:eventId/resume", (c) => runCommand(c, "resume"))
  .post("/:eventId/cancel", (c) => runCommand(c, "cancel"))
  .post("/:eventId/end-now", (c) => runCommand(c, "end_now"))
  .post("/:eventId/retry-activation", (c) => runCommand(c, "retry_activation"));

