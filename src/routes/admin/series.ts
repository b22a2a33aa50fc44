// Ops: recurring series (README "Series"). Each series is a SeriesActor; these routes check the input and call it.
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { seriesActor } from "../../actors/stubs";
import type { SeriesCommand } from "../../actors/contracts";
import { readConfig } from "../../config";
import { getTemplate } from "../../db/templates";
import { checkRule } from "../../domain/series";
import { decodeSeriesCursor, eventStates, listSeries } from "../../db/series";
import {
  CreateSeriesBody,
  EditSeriesBody,
  OCCURRENCE_LOOKBACK_DAYS,
  SeriesCommandBody,
  SeriesDetail,
  SeriesList,
  SeriesListQuery,
  SeriesPage,
  SeriesPageQuery,
  decodeOccurrenceCursor,
  encodeOccurrenceCursor,
  renderSeries,
  renderSummary,
} from "../../domain/series-views";
import { DAY_MS, iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError, unwrap, validationError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";

const SERIES_ID = /^ser_[a-f0-9]{16}$/;
const SeriesPath = z.object({ seriesId: z.string().meta({ example: "ser_0123456789abcdef" }) });
const ops = { tags: ["Series"], security: OPERATOR };

/** A junk id never addresses an object: 404 before any actor is touched. */
function checkSeriesId(id: string): string {
  if (!SERIES_ID.test(id)) throw new ApiError(404, "series_not_found", `no series with id "${id.slice(0, 64)}"`);
  return id;
}

const audit = (c: Context<AppEnv>, reason?: string) => ({ actor: c.var.operator, reason: reason ?? null });

const COMMANDS = [
  { path: "pause", cmd: "pause", summary: "Pause a series: occurrences not yet started are cancelled, running ones stay" },
  { path: "resume", cmd: "resume", summary: "Resume a paused series: the horizon is materialized again from now" },
  { path: "end", cmd: "end", summary: "End a series for good: occurrences not yet started are cancelled, running ones stay" },
] as const satisfies ReadonlyArray<{ path: string; cmd: SeriesCommand; summary: string }>;

const app = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/",
      summary: "List series, newest first: rule, status, next occurrence and counts (from D1)",
      request: { query: SeriesListQuery },
      responses: { 200: json(SeriesList, "A page of series"), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const after = q.cursor ? decodeSeriesCursor(q.cursor) : undefined;
      if (after === null) throw validationError([{ path: "cursor", message: "is not a cursor this API returned" }], 400);
      const page = await listSeries(c.env.DB, { status: q.status, templateId: q.templateId }, { limit: q.limit, after }, Date.now());
      return c.json({ series: page.series.map(renderSummary), nextCursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/",
      summary: "Create a recurring series from a template",
      request: { body: jsonRequest(CreateSeriesBody) },
      responses: { 201: json(SeriesDetail, "The series, its horizon materialized"), ...errors(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const checked = checkRule(body, readConfig(c.env).maxWindowDays);
      if (!checked.ok) throw validationError(checked.problems);
      if (!(await getTemplate(c.env.DB, body.templateId))) throw validationError([{ path: "templateId", message: `names template "${body.templateId}", which does not exist` }]);
      const seriesId = `ser_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
      const horizonDays = body.horizonDays ?? readConfig(c.env).seriesHorizonDays;
      const view = unwrap(await seriesActor(c.env, seriesId).create({ templateId: body.templateId, rule: checked.rule, onConflict: body.onConflict, horizonDays }, audit(c, body.reason)));
      return c.json(renderSeries(view), 201);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{seriesId}",
      summary: "A series and a page of its occurrences (event ids; scheduled, shifted with where from, skipped or cancelled with why)",
      request: { params: SeriesPath, query: SeriesPageQuery },
      responses: { 200: json(SeriesPage, "The series and a page of its occurrences"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const id = checkSeriesId(c.req.valid("param").seriesId);
      const q = c.req.valid("query");
      const after = q.cursor ? decodeOccurrenceCursor(q.cursor) : null;
      if (q.cursor && !after) throw validationError([{ path: "cursor", message: "is not a cursor this API returned" }], 400);
      const from = q.from ? Date.parse(q.from) : Date.now() - OCCURRENCE_LOOKBACK_DAYS * DAY_MS;
      const to = q.to ? Date.parse(q.to) : null;
      const view = await seriesActor(c.env, id).get({ from, to, after, limit: q.limit });
      if (!view) throw new ApiError(404, "series_not_found", `no series with id "${id}"`);
      const nextCursor = view.next ? encodeOccurrenceCursor(view.next) : null;
      // What became of each listed event (one read for the page): an event ended early shows it here.
      const states = await eventStates(c.env.DB, view.occurrences.flatMap((o) => (o.eventId ? [o.eventId] : [])));
      return c.json({ ...renderSeries(view, new Map([...states].map(([id, e]) => [id, e.state]))), from: iso(from), to: to === null ? null : iso(to), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "patch",
      path: "/{seriesId}",
      summary: "Edit this occurrence, this and following, or all",
      request: { params: SeriesPath, body: jsonRequest(EditSeriesBody) },
      responses: { 200: json(SeriesDetail, "The series after the edit"), ...errors(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const id = checkSeriesId(c.req.valid("param").seriesId);
      const body = c.req.valid("json");
      const view = unwrap(await seriesActor(c.env, id).edit({ scope: body.scope, occurrence: body.occurrence, changes: body.changes }, audit(c, body.reason)));
      return c.json(renderSeries(view), 200);
    },
  );

for (const { path, cmd, summary } of COMMANDS) {
  app.openapi(
    createRoute({
      ...ops,
      method: "post",
      path: `/{seriesId}/${path}`,
      summary,
      request: { params: SeriesPath, body: jsonRequest(SeriesCommandBody, { optional: true }) },
      responses: { 200: json(SeriesDetail, "The series after the command"), ...errors(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const id = checkSeriesId(c.req.valid("param").seriesId);
      const body = (c.req.valid("json") ?? {}) as { reason?: string };
      return c.json(renderSeries(unwrap(await seriesActor(c.env, id).command(cmd, audit(c, body.reason)))), 200);
    },
  );
}

export const adminSeriesRoutes = app;
