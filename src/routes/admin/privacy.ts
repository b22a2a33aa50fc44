// Ops: a player's data export, their erasure (a tracked job; see src/actors/privacy/), and the job's progress. Each
// request is recorded, with who asked and why, in the audit log of the player's privacy object.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { privacyActor } from "../../actors/stubs";
import { PlayerExport, PrivacyJob } from "../../domain/privacy-views";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { privacySalt, pseudonym } from "../../lib/pseudonym";

const PlayerPath = z.object({ playerId: z.string().min(1).max(64).meta({ description: "The player id, as their tokens carry it in `sub`" }) });
const JobPath = z.object({ jobId: z.string().meta({ description: "erase_ + 32 hex, from the erase answer", example: "erase_0123456789abcdef0123456789abcdef" }) });
const ExportBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }).meta({ id: "PrivacyExportRequest" });
const EraseBody = z.strictObject({ reason: z.string().trim().min(1).max(500) }).meta({ id: "PrivacyEraseRequest" });

const ops = { tags: ["Privacy (ops)"], security: OPERATOR };

const holder = async (env: Env, playerId: string) => privacyActor(env, await pseudonym(privacySalt(env), playerId));

export const adminPrivacyRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/players/{playerId}/export",
      summary: "Everything held about one player, from D1 and every object that holds them (admin)",
      request: { params: PlayerPath, body: jsonRequest(ExportBody, { optional: true }) },
      responses: { 200: json(PlayerExport, "The player's rows, by source and table"), ...errors(400, 401, 403, 413, 422, 503) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      const { reason } = c.req.valid("json");
      const stub = await holder(c.env, playerId);
      return c.json(await stub.exportPlayer(playerId, { actor: c.var.operator, reason: reason ?? null }), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/players/{playerId}/erase",
      summary: "Erase one player everywhere: a tracked job, idempotent (admin)",
      request: { params: PlayerPath, body: jsonRequest(EraseBody) },
      responses: { 202: json(PrivacyJob, "The job, as it stands after its first step; follow it at GET /v1/admin/privacy/jobs/{jobId}"), ...errors(400, 401, 403, 413, 422, 503) },
    }),
    async (c) => {
      const { playerId } = c.req.valid("param");
      const { reason } = c.req.valid("json");
      const stub = await holder(c.env, playerId);
      return c.json(await stub.erase(playerId, { actor: c.var.operator, reason }), 202);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/privacy/jobs/{jobId}",
      summary: "An erase job: its state, each step, and the rows it touched per source and table (admin)",
      request: { params: JobPath },
      responses: { 200: json(PrivacyJob, "The job"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const { jobId } = c.req.valid("param");
      const m = /^erase_([0-9a-f]{32})$/.exec(jobId);
      if (!m) throw new ApiError(400, "invalid_job_id", "jobId must be erase_ followed by 32 hex characters");
      const job = await privacyActor(c.env, `anon_${m[1]}`).job();
      if (!job) throw new ApiError(404, "job_not_found", `no erase job "${jobId}"`);
      return c.json(job, 200);
    },
  );
