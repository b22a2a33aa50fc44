// Ops: a board's cohorts and live standings, the final standings as projected to D1, removing or banning an entry
// (or clearing a flagged player, which releases a held rank reward) with a reason kept in the board's audit log, and
// force-finalizing an event's boards ahead of the lifecycle.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { boardDirectory, eventActor, leaderboardActor } from "../../actors/stubs";
import type { BoardInfo, EntryAction } from "../../actors/contracts";
import { listStandings } from "../../db/leaderboards";
import { GLOBAL_COHORT } from "../../domain/leaderboard";
import { iso } from "../../domain/time";
import { BoardPage, CohortList, EntryActionResult, FinalStandings, Finalization } from "../../domain/views";
import type { AppEnv } from "../../http/auth";
import { ApiError, unwrap } from "../../http/errors";
import { checkEventId } from "../../http/ids";
import { EventIdParam, OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";

const EventPath = z.object({ eventId: EventIdParam });
const EntryPath = z.object({ eventId: EventIdParam, playerId: z.string(), action: z.enum(["remove", "ban", "clear-flag"]) });
/** `global`, or `<group>-<n>`: a group is `all`, a level band `lv<k>` or a tier name. */
const CohortId = z.string().regex(/^(global|[a-z0-9][a-z0-9_-]{0,49}-\d{1,7})$/, "must be a cohort id from /leaderboard/cohorts");
const StandingsQuery = z.strictObject({
  cohort: CohortId.optional().meta({ description: "A cohort id from /leaderboard/cohorts; omit for a global board" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(300).optional(),
});
const FinalQuery = z.strictObject({
  cohort: CohortId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const RequiredReason = z.strictObject({ reason: z.string().trim().min(1).max(500) }).meta({ id: "RequiredReason" });

const ops = { tags: ["Leaderboards (ops)"], security: OPERATOR };

async function boardInfo(env: Env, rawEventId: string): Promise<BoardInfo> {
  const eventId = checkEventId(rawEventId);
  const view = await eventActor(env, eventId).get();
  if (!view) throw new ApiError(404, "event_not_found", `no event with id "${eventId}"`);
  const i = view.instance;
  if (!i.leaderboard) throw new ApiError(404, "leaderboard_not_found", "this event has no leaderboard");
  return { eventId, templateId: i.templateId, endTime: i.endTime, definition: i.leaderboard };
}

export const adminLeaderboardRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({ ...ops, method: "get", path: "/{eventId}/leaderboard/cohorts", summary: "The event's cohorts and how many players each holds", request: { params: EventPath }, responses: { 200: json(CohortList, "Cohorts"), ...errors(401, 403, 404) } }),
    async (c) => {
      const info = await boardInfo(c.env, c.req.valid("param").eventId);
      if (info.definition.cohortSize === 0) {
        // Shards place everyone on the global board without the directory: its size is the board's own count.
        const page = unwrap(await leaderboardActor(c.env, info.eventId, GLOBAL_COHORT).top(1, null));
        return c.json({ cohorts: [{ cohortId: GLOBAL_COHORT, members: page.total }] }, 200);
      }
      return c.json({ cohorts: await boardDirectory(c.env, info.eventId).cohorts() }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/leaderboard/standings",
      summary: "Live standings of one cohort (or the global board); 404 for a cohort the event does not have",
      request: { params: EventPath, query: StandingsQuery },
      responses: { 200: json(BoardPage, "A page of the board"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const info = await boardInfo(c.env, c.req.valid("param").eventId);
      const { cohort, limit, cursor } = c.req.valid("query");
      const cohortId = cohort ?? GLOBAL_COHORT;
      // Asking an unknown cohort's board would wake (and leave behind) an empty object: 404 instead.
      const known = info.definition.cohortSize === 0 ? cohortId === GLOBAL_COHORT : cohortId !== GLOBAL_COHORT && (await boardDirectory(c.env, info.eventId).hasCohort(cohortId));
      if (!known) throw new ApiError(404, "cohort_not_found", `this event's board has no cohort "${cohortId}"`);
      return c.json(unwrap(await leaderboardActor(c.env, info.eventId, cohortId).top(limit, cursor ?? null)), 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/{eventId}/leaderboard/final",
      summary: "Final standings as projected to D1 (leaderboard_standings)",
      request: { params: EventPath, query: FinalQuery },
      responses: { 200: json(FinalStandings, "Final standings by cohort and rank"), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const info = await boardInfo(c.env, c.req.valid("param").eventId);
      const { cohort, limit, offset } = c.req.valid("query");
      const rows = await listStandings(c.env.DB, info.eventId, cohort ?? null, limit + 1, offset);
      const standings = rows.slice(0, limit).map((r) => ({ ...r, held: r.held === 1, reachedAt: iso(r.reachedAt), finalizedAt: iso(r.finalizedAt) }));
      return c.json({ standings, nextOffset: rows.length > limit ? offset + limit : null }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{eventId}/leaderboard/entries/{playerId}/{action}",
      summary: "Remove or ban a player's entry, or clear a flagged player (releasing a held rank reward)",
      request: { params: EntryPath, body: jsonRequest(RequiredReason) },
      responses: { 200: json(EntryActionResult, "Done, and recorded in the board's audit log"), ...errors(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { eventId: raw, playerId, action } = c.req.valid("param");
      const info = await boardInfo(c.env, raw);
      const { reason } = c.req.valid("json");
      const cohortId = info.definition.cohortSize === 0 ? GLOBAL_COHORT : await boardDirectory(c.env, info.eventId).cohortOf(playerId);
      if (!cohortId) throw new ApiError(404, "entry_not_found", `player "${playerId.slice(0, 64)}" is on no board of this event`);
      const act = action.replace("-", "_") as EntryAction;
      unwrap(await leaderboardActor(c.env, info.eventId, cohortId).act(playerId, act, { actor: c.var.operator, reason }));
      return c.json({ playerId, action: act, cohortId }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/{eventId}/leaderboard/finalize",
      summary: "Finalize every board of an ended event now, after its shards push what they owe (idempotent: a final board stays as it was; 409 while the event still runs)",
      request: { params: EventPath, body: jsonRequest(RequiredReason) },
      responses: { 200: json(Finalization, "Each cohort's final summary"), ...errors(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const eventId = checkEventId(c.req.valid("param").eventId);
      const { reason } = c.req.valid("json");
      return c.json({ boards: unwrap(await eventActor(c.env, eventId).finalizeBoards(`${c.var.operator} (${reason})`)) }, 200);
    },
  );
