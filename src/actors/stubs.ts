// How the Worker and the actors address each other. Names are stable ids, so any Worker anywhere reaches the same
// object, and each object knows its own name (ctx.id.name) instead of being told it in every call.
import { shardName } from "../domain/sharding";
import { DIRECTORY, boardName } from "../domain/leaderboard";
import { clanDirectoryName, clanName } from "../domain/clan";
import type { ClanEventActorRpc, EventActorRpc, LeaderboardActorRpc, PlayerInventoryActorRpc, PrivacyActorRpc, ProgressShardActorRpc, SchedulerActorRpc, SeriesActorRpc } from "./contracts";

// workers-types maps free-form JSON in RPC signatures (theme, details) to `never`; everything we send is
// structured-cloneable, so stubs are typed by the contracts instead.
type Namespace = { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): unknown };
const typed = <T>(ns: Namespace, name: string): T => ns.get(ns.idFromName(name)) as T;

export const eventActor = (env: Env, eventId: string) => typed<EventActorRpc>(env.EVENT_ACTOR as unknown as Namespace, eventId);

/** Scheduling decisions are low-traffic and must be serialized, so there is exactly one scheduler. */
export const schedulerActor = (env: Env) => typed<SchedulerActorRpc>(env.SCHEDULER_ACTOR as unknown as Namespace, "global");

export const progressShardActor = (env: Env, eventId: string, shardNo: number) =>
  typed<ProgressShardActorRpc>(env.PROGRESS_SHARD_ACTOR as unknown as Namespace, shardName(eventId, shardNo));

/** One inventory object per player: deliveries, the built-in ledger and the overflow inbox are serialized per player. */
export const playerInventoryActor = (env: Env, playerId: string) => typed<PlayerInventoryActorRpc>(env.PLAYER_INVENTORY_ACTOR as unknown as Namespace, playerId);

/** One board per (event, cohort); the event's directory (which player is in which cohort) is one more of the class. */
export const leaderboardActor = (env: Env, eventId: string, cohortId: string) =>
  typed<LeaderboardActorRpc>(env.LEADERBOARD_ACTOR as unknown as Namespace, boardName(eventId, cohortId));
export const boardDirectory = (env: Env, eventId: string) => leaderboardActor(env, eventId, DIRECTORY);

/** One object per (event, clan): its total, members' contributions and milestones; plus the event's clan directory. */
export const clanActor = (env: Env, eventId: string, clanId: string) => typed<ClanEventActorRpc>(env.CLAN_EVENT_ACTOR as unknown as Namespace, clanName(eventId, clanId));
export const clanDirectory = (env: Env, eventId: string) => typed<ClanEventActorRpc>(env.CLAN_EVENT_ACTOR as unknown as Namespace, clanDirectoryName(eventId));

/** One privacy object per player, named by their pseudonym (never the raw id): their export audit and erase job. */
export const privacyActor = (env: Env, pseudonym: string) => typed<PrivacyActorRpc>(env.PRIVACY_ACTOR as unknown as Namespace, pseudonym);

/** One object per recurring series, named by its id: the series' plan and the occurrences it has materialized. */
export const seriesActor = (env: Env, seriesId: string) => typed<SeriesActorRpc>(env.SERIES_ACTOR as unknown as Namespace, seriesId);
