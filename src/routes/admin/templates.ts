// Ops: the template library (the seed's Template Reuse System, step 1).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { getTemplate, insertTemplate, listTemplateVersions, listTemplates, updateTemplate } from "../../db/templates";
import { CreateTemplateBody, EventTier, EventType, UpdateTemplateBody } from "../../domain/model";
import { Template, TemplatePage, TemplateVersions } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { revalidate } from "../../http/cache";
import { ApiError, validationError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";

const ListQuery = z.strictObject({
  type: EventType.optional(),
  tier: EventTier.optional(),
  sort: z.enum(["usage", "engagement", "completion", "rppu"]).optional().meta({ description: "usage: most used; engagement, completion, rppu: best template performance first (README Analytics)." }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
const TemplateIdParam = z.object({ templateId: z.string().meta({ example: "winter-festival" }) });
const VersionsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

const notFound = (id: string) => new ApiError(404, "template_not_found", `no template with id "${id}"`);
const ops = { tags: ["Templates"], security: OPERATOR };

export const templateRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/",
      summary: "Create a template",
      request: { body: jsonRequest(CreateTemplateBody) },
      responses: { 201: json(Template, "The template, version 1"), ...errors(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const created = await insertTemplate(c.env.DB, body, Date.now(), c.var.operator);
      if (!created) throw new ApiError(409, "template_exists", `template "${body.templateId}" already exists; use PUT to update it`);
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/",
      summary: "List templates",
      middleware: [revalidate],
      request: { query: ListQuery },
      responses: { 200: json(TemplatePage, "One page of templates"), 304: { description: "Not modified (If-None-Match)" }, ...errors(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      // Ask for one extra row so a full last page does not promise a next one.
      const rows = await listTemplates(c.env.DB, { ...q, limit: q.limit + 1 });
      const more = rows.length > q.limit;
      return c.json({ templates: rows.slice(0, q.limit), nextOffset: more ? q.offset + q.limit : null }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{templateId}",
      summary: "Read a template",
      middleware: [revalidate],
      request: { params: TemplateIdParam },
      responses: { 200: json(Template, "The template"), 304: { description: "Not modified (If-None-Match)" }, ...errors(401, 403, 404) },
    }),
    async (c) => {
      const id = c.req.valid("param").templateId;
      const template = await getTemplate(c.env.DB, id);
      if (!template) throw notFound(id);
      return c.json(template, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "put",
      path: "/{templateId}",
      summary: "Update a template (a new version)",
      request: { params: TemplateIdParam, body: jsonRequest(UpdateTemplateBody) },
      responses: { 200: json(Template, "The template, version + 1"), ...errors(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const id = c.req.valid("param").templateId;
      const body = c.req.valid("json");
      if (body.templateId !== undefined && body.templateId !== id) {
        throw validationError([{ path: "templateId", message: `must be "${id}" (the template in the path) or left out: a template's id cannot change` }]);
      }
      const updated = await updateTemplate(c.env.DB, id, body, Date.now(), c.var.operator);
      if (!updated) {
        const current = await getTemplate(c.env.DB, id);
        if (!current) throw notFound(id);
        throw new ApiError(409, "version_conflict", `template "${id}" is at v${current.version}, not v${body.expectedVersion}: someone saved it since; reload, reapply your edit and save again`, {
          expectedVersion: body.expectedVersion,
          currentVersion: current.version,
          savedBy: (await listTemplateVersions(c.env.DB, id, 1))[0]?.savedBy ?? null,
        });
      }
      return c.json(updated, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{templateId}/versions",
      summary: "A template's saved versions, newest first (for history and diffs)",
      request: { params: TemplateIdParam, query: VersionsQuery },
      responses: { 200: json(TemplateVersions, "The versions"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const id = c.req.valid("param").templateId;
      const versions = await listTemplateVersions(c.env.DB, id, c.req.valid("query").limit);
      // A template always has at least the version it was created as; none means there is no such template.
      if (versions.length === 0 && !(await getTemplate(c.env.DB, id))) throw notFound(id);
      return c.json({ templateId: id, versions }, 200);
    },
  );
