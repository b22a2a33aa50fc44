// Turning a create request into an instance: shared by the real create and its dry run so both judge the same input.
import type { Context } from "hono";
import { schedulerActor } from "../actors/stubs";
import { getTemplate } from "../db/templates";
import { instanceFromTemplate } from "../domain/instance";
import type { CreateEventBody } from "../domain/model";
import type { AppEnv } from "./auth";
import { problemsError, validationError } from "./errors";
import { newEventId } from "./ids";

/** Template lookup + CreateFromTemplate; 422 naming every problem when the template or the body does not fit. */
export async function buildInstance(c: Context<AppEnv>, body: CreateEventBody) {
  const template = await getTemplate(c.env.DB, body.templateId);
  if (!template) throw validationError([{ path: "templateId", message: `names template "${body.templateId}", which does not exist` }]);
  const settings = await schedulerActor(c.env).settings();
  const built = instanceFromTemplate(template, body, { eventId: newEventId(), now: Date.now() }, settings);
  if (!built.ok) throw problemsError(built.problems);
  return built.instance;
}
