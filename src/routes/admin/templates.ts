// Ops: the template library (the seed's Template Reuse System, step 1).
import { Hono } from "hono";
import { z } from "zod";
import { getTemplate, insertTemplate, listTemplates, updateTemplate } from "../../db/templates";
import { CreateTemplateBody, EventTier, EventType, UpdateTemplateBody } from "../../domain/model";
import type { AppEnv } from "../../http/auth";
import { ApiError, validationError } from "../../http/errors";
import { jsonBody, query } from "../../http/validate";

const ListQuery = z.strictObject({
  type: EventType.optional(),
  tier: EventTier.optional(),
  sort: z.enum(["usage", "engagement"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

const notFound = (id: string) => new ApiError(404, "template_not_found", `no template with id "${id}"`);

export const templateRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateTemplateBody);
    const created = await insertTemplate(c.env.DB, body, Date.now());
    if (!created) throw new ApiError(409, "template_exists", `template "${body.templateId}" already exists; use PUT to update it`);
    return c.json(created, 201);
  })
  .get("/", async (c) => {
    const q = query(c, ListQuery);
    // Ask for one extra row so a full last page does not promise a next one.
    const rows = await listTemplates(c.env.DB, { ...q, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    return c.json({ templates: rows.slice(0, q.limit), nextOffset: more ? q.offset + q.limit : null });
  })
  .get("/:templateId", async (c) => {
    const id = c.req.param("templateId");
    const template = await getTemplate(c.env.DB, id);
    if (!template) throw notFound(id);
    return c.json(template);
  })
  .put("/:templateId", async (c) => {
    const id = c.req.param("templateId");
    const body = await jsonBody(c, UpdateTemplateBody);
    if (body.templateId !== undefined && body.templateId !== id) {
      throw validationError([{ path: "templateId", message: `must be "${id}" (the template in the path) or left out: a template's id cannot change` }]);
    }
    const updated = await updateTemplate(c.env.DB, id, body, Date.now());
    if (!updated) throw notFound(id);
    return c.json(updated);
  });
