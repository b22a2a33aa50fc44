// Where one player's data lives, as a list of sources, each able to export and erase its part. A new store of player
// data (telemetry's tables, say) is one more entry in SOURCES: the export, the erase job's steps and its report all
// follow from the list. Order matters for erasure: the shards go first (they push to boards and clans, and their
// pending pushes are cleaned before the boards and clans are), D1 last (the objects write behind to it).
import { DIRECTORY, GLOBAL_COHORT } from "../../domain/leaderboard";
import { shardOf, shardName } from "../../domain/sharding";
import { erasePlayerRecords, eventsStillWriting, playerEvents, playerRecords, type PlayerEvent } from "../../db/privacy";
import type { PlayerDataHolder, PlayerDataOp, PlayerDataPart } from "../contracts";
import { boardDirectory, clanActor, leaderboardActor, playerInventoryActor, progressShardActor } from "../stubs";

/** Which objects hold the player: decided once per job (the erasure of a shard removes what located their board). */
export type Plan = {
  events: PlayerEvent[];
  shards: Array<{ eventId: string; shardNo: number }>;
  boards: Array<{ eventId: string; cohortId: string }>;
  clans: Array<{ eventId: string; clanId: string }>;
};
export type PlayerContext = { env: Env; playerId: string; pseudonym: string; plan: Plan };

export type PrivacySource = {
  name: string;
  export(ctx: PlayerContext): Promise<Record<string, unknown[]>>;
  erase(ctx: PlayerContext): Promise<Record<string, number>>;
};

/**
 * Follows the player from D1 (the events they have rows in) to their shards, and from each shard to their board and
 * clans. For an erase (`probe`), the shards of events still writing are asked too, at once: progress not yet drained
 * to D1 (a player who joined a moment ago, a shard backing off) is only there, and a shard left out of the plan would
 * later drain the raw id. An export answers what D1 and the located objects hold.
 */
export async function locate(env: Env, playerId: string, probe = false): Promise<Plan> {
  const inD1 = await playerEvents(env.DB, playerId);
  const known = new Set(inD1.map((e) => e.eventId));
  const others = probe ? (await eventsStillWriting(env.DB)).filter((e) => !known.has(e.eventId)) : [];
  const shardOfEvent = (e: PlayerEvent) => ({ eventId: e.eventId, shardNo: shardOf(playerId, e.shardCount) });
  const found = await Promise.all(
    others.map(async (e) => {
      const { rows } = await progressShardActor(env, e.eventId, shardOfEvent(e).shardNo).playerData(playerId, { kind: "export" });
      return Object.values(rows).some((r) => r.length > 0) ? e : null;
    }),
  );
  const events = [...inD1, ...found.filter((e): e is PlayerEvent => e !== null)];
  const plan: Plan = { events, shards: [], boards: [], clans: [] };
  for (const e of events) {
    const shard = shardOfEvent(e);
    plan.shards.push(shard);
    const { links } = await progressShardActor(env, shard.eventId, shard.shardNo).playerData(playerId, { kind: "export" });
    if (e.board) {
      const cohortId = links?.cohortId ?? (e.cohortSize === 0 ? GLOBAL_COHORT : await boardDirectory(env, e.eventId).cohortOf(playerId));
      if (cohortId) plan.boards.push({ eventId: e.eventId, cohortId });
      // The directory remembers the player's cohort assignment.
      if (e.cohortSize > 0) plan.boards.push({ eventId: e.eventId, cohortId: DIRECTORY });
    }
    if (e.clan) for (const clanId of links?.clanIds ?? []) plan.clans.push({ eventId: e.eventId, clanId });
  }
  return plan;
}

/** Each holder's part, its tables keyed `<source>/<object>/<table>` (export) or summed per `<table>` (erase). */
async function across<T>(targets: T[], name: (t: T) => string, holder: (t: T) => PlayerDataHolder, ctx: PlayerContext, op: PlayerDataOp) {
  const parts: Array<[string, PlayerDataPart]> = [];
  // One object at a time: a player is in a handful of events, and a clan-heavy event's shard may name many clans.
  for (const t of targets) parts.push([name(t), await holder(t).playerData(ctx.playerId, op)]);
  return parts;
}

function objectSource<T>(name: string, targets: (plan: Plan) => T[], objectName: (t: T) => string, holder: (env: Env, t: T) => PlayerDataHolder): PrivacySource {
  return {
    name,
    async export(ctx) {
      const out: Record<string, unknown[]> = {};
      for (const [object, part] of await across(targets(ctx.plan), objectName, (t) => holder(ctx.env, t), ctx, { kind: "export" })) {
        for (const [table, rows] of Object.entries(part.rows)) out[`${name}/${object}/${table}`] = rows;
      }
      return out;
    },
    async erase(ctx) {
      const out: Record<string, number> = {};
      for (const [, part] of await across(targets(ctx.plan), objectName, (t) => holder(ctx.env, t), ctx, { kind: "erase", pseudonym: ctx.pseudonym })) {
        for (const [table, n] of Object.entries(part.touched)) out[table] = (out[table] ?? 0) + n;
      }
      return out;
    },
  };
}

export const SOURCES: readonly PrivacySource[] = [
  objectSource("shards", (p) => p.shards, (s) => shardName(s.eventId, s.shardNo), (env, s) => progressShardActor(env, s.eventId, s.shardNo)),
  objectSource("boards", (p) => p.boards, (b) => `${b.eventId}|${b.cohortId}`, (env, b) => leaderboardActor(env, b.eventId, b.cohortId)),
  objectSource("clans", (p) => p.clans, (c) => `${c.eventId}|c:${c.clanId}`, (env, c) => clanActor(env, c.eventId, c.clanId)),
  // The inventory object is the player's own, whatever events they played.
  {
    name: "inventory",
    async export(ctx) {
      const part = await playerInventoryActor(ctx.env, ctx.playerId).playerData(ctx.playerId, { kind: "export" });
      return Object.fromEntries(Object.entries(part.rows).map(([table, rows]) => [`inventory/${table}`, rows]));
    },
    async erase(ctx) {
      return (await playerInventoryActor(ctx.env, ctx.playerId).playerData(ctx.playerId, { kind: "erase", pseudonym: ctx.pseudonym })).touched;
    },
  },
  {
    name: "d1",
    async export(ctx) {
      const rows = await playerRecords(ctx.env.DB, ctx.playerId);
      return Object.fromEntries(Object.entries(rows).map(([table, r]) => [`d1/${table}`, r]));
    },
    erase: (ctx) => erasePlayerRecords(ctx.env.DB, ctx.playerId, ctx.pseudonym),
  },
];
