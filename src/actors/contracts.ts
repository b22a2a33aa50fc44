// What the actors say to each other and what the Worker says to them: every cross-actor type and one RPC interface
// per Durable Object class. Classes `implements` their interface and stubs are typed by it, so no actor imports
// another actor's class (no import cycles) and the Worker sees exactly the surface it may call.
import type { AdjustedView } from "../domain/adaptive";
import type { z } from "zod";
import type { Result } from "../lib/result";
import type { ClanRanking as ClanRankingSchema, ClanView as ClanViewSchema } from "../domain/views";
import type { BoardDefinition, ClanDefinition, EventInstance, EventState, Objective, Player, RewardData } from "../domain/model";
import type { WindowChange } from "../domain/instance";
import type { ServerFrame } from "../domain/live";
import type { OperatorAction, TransitionRecord } from "../domain/lifecycle";
import type { EventInfo, ProgressSnapshot, ProgressUpdate } from "../domain/progress";
import type { ClaimReceipt, ClaimSource, MilestoneRewardState } from "../domain/rewards";
import type { ScheduleConflict, ScheduleWindow } from "../domain/scheduling";
import type { PlayerDataOp, PlayerDataPart } from "../domain/privacy";

export type { PlayerDataOp, PlayerDataPart };
import type { AnticheatSettings, Population } from "../domain/anticheat";
import type { FlagDecisionT, FlagViewT, RatePassT } from "../domain/anticheat-views";
import type { ReviewState } from "../domain/review";
import type { ConflictPolicy, SeriesEdit, SeriesPlan, SeriesRule } from "../domain/series";

// ---- EventActor: one per event, the single writer of its lifecycle -------------------------------------------------

/** Who did it and why: every transition row carries one. */
export type Audit = { actor: string; reason?: string | null; details?: Record<string, unknown> | null };
/** The operator actions, as the lifecycle names them (routes spell end_now as end-now). */
export type OpsCommand = OperatorAction;
export type EventView = { instance: EventInstance; transitions: TransitionRecord[]; revision: number };
export type EventTiming = Pick<EventInstance, "eventId" | "state" | "startTime" | "endTime" | "shardCount">;

export interface EventActorRpc {
  create(instance: EventInstance, audit: Audit): Promise<Result<EventView>>;
  get(): Promise<EventView | null>;
  command(cmd: OpsCommand, audit: Audit, opts?: { endTime?: number; maxWindowDays?: number }): Promise<Result<EventView>>;
  reschedule(change: WindowChange, audit: Audit, maxWindowDays: number): Promise<Result<EventView>>;
  /** The cheap read behind countdowns and shard routing. */
  timing(): Promise<EventTiming | null>;
  /** A progress shard introduces itself on first use and gets the event's current info. */
  attachShard(shardNo: number): Promise<EventInfo | null>;
  /** Runs what is due at `now` (the alarm's work); tests call it with future instants. */
  tick(now: number): Promise<void>;
  /**
   * Ops force-finalize: only once the event has ended (409 before), after every shard has pushed what it owes (409
   * while one cannot; the lifecycle's own "finalize" row keeps retrying). Boards already final stay as they were.
   */
  finalizeBoards(actor: string): Promise<Result<FinalSummary[]>>;
  /** Statistical anti-cheat: one rate pass now (partials from every attached shard, merged, judged by each shard). */
  ratePass(): Promise<Result<RatePassT>>;
  /** Every attached shard's statistical flags, oldest first. */
  flags(state: ReviewState | null, limit: number): Promise<Result<FlagViewT[]>>;
}

// ---- SchedulerActor: the one object every schedule-changing operation passes through -------------------------------

/** The scheduler's copy of an event: just what the scheduling rules look at. */
export type SchedulerWindow = ScheduleWindow & { state: EventState; revision: number };
export type ScheduleSettings = { maxConcurrent: number; maxConcurrentSameType: number; majorGapHours: number; maxWindowDays: number };
/** An ops override of the scheduling rules; `reason` is required with `force` (checked by the route's schema). */
export type Override = { force?: boolean; reason?: string | null };

export interface SchedulerActorRpc {
  settings(): Promise<ScheduleSettings>;
  updateSettings(patch: Partial<ScheduleSettings>, actor: string): Promise<ScheduleSettings>;
  /** The dry run: exactly the check a create makes, and nothing written. */
  check(candidate: ScheduleWindow): Promise<ScheduleConflict[]>;
  createEvent(instance: EventInstance, audit: Audit, override: Override): Promise<Result<EventView>>;
  reschedule(eventId: string, change: WindowChange, audit: Audit, override: Override): Promise<Result<EventView>>;
  resume(eventId: string, endTime: number | undefined, audit: Audit, override: Override): Promise<Result<EventView>>;
  /** Called by EventActors after every change of theirs; late, out-of-order copies are dropped by revision. */
  syncWindow(w: SchedulerWindow): Promise<void>;
  windows(): Promise<SchedulerWindow[]>;
}

// ---- ProgressShardActor: one per (event, shard), the single writer of its players' progress -----------------------

export type ProgressAck = ProgressSnapshot & { newMilestones: unknown[]; applied: number[]; duplicates: number[] };
export type MilestoneRewardView = { index: number; progressThreshold: number; state: MilestoneRewardState; rewards: RewardData[]; receipt: ClaimReceipt | null };
export type ClaimOutcome = { receipt: ClaimReceipt; source: ClaimSource; delivery: DeliveryOutcome | null; replayed: boolean };
export type UnclaimedWarning = "expiration_warning" | "auto_claim_warning";
/** One wave of a local-time event: the players whose window's `edge` falls at `at` (domain/local-time.ts waves). */
export type WaveCall = { type: "preview" | "start" | "urgency" | "expiration_warning"; edge: "start" | "end"; at: number; leftMs: number; feed: boolean; /** When the wave first fired: quiet hours are judged then. */ firedAt: number };
/** A player a wave reached, their zone, and when their push may go out there (after quiet hours). */
export type WaveTarget = { playerId: string; zone: string; pushAt: number; title: string; body: string };
export type UnclaimedNotice = { eventName: string; round: number; leftMs?: number };
export type ShardSummary = {
  shardNo: number;
  participants: number;
  completions: number;
  completionValues: Array<{ from: number; to: number; count: number }>;
  outboxPending: number;
  flagsPending: number;
  updatesApplied: number;
  requests: number;
  d1Statements: number;
  drains: number;
};

export interface ProgressShardActorRpc extends PlayerDataHolder {
  join(player: Player): Promise<Result<{ progress: ProgressSnapshot; joined: boolean }>>;
  progress(player: Player, updates: ProgressUpdate[]): Promise<Result<ProgressAck>>;
  getProgress(playerId: string): Promise<Result<ProgressSnapshot & { playerId: string; adjusted: AdjustedView | null }>>;
  rewardStates(playerId: string): Promise<Result<{ milestones: MilestoneRewardView[] }>>;
  claim(playerId: string, index: number, key: string): Promise<Result<ClaimOutcome>>;
  /** At the end of the grace period; safe to call any number of times. */
  autoClaim(): Promise<{ claimed: number; undelivered: number }>;
  /** A frame for every connected socket of this shard. */
  broadcast(frame: ServerFrame): Promise<number>;
  /**
   * A warning to the players here who still have unclaimed rewards; returns who got it. `round` and `leftMs` come
   * from the event object, so every shard builds the same ids and words (domain/notifications.unclaimedNotice).
   */
  notifyUnclaimed(type: UnclaimedWarning, notice: UnclaimedNotice): Promise<string[]>;
  /** A local-time event's wave: frames and feed rows (when `feed`) for the players it names, and who to push when. */
  localWave(call: WaveCall): Promise<WaveTarget[]>;
  /** The zone a local-time event fixed for the player (their window's zone in every view), or null. */
  localZone(playerId: string): Promise<string | null>;
  summary(): Promise<ShardSummary>;
  /** The event object pushes every change; a copy older than the one held is ignored. */
  syncEvent(info: EventInfo): Promise<void>;
  /** The bench's baseline: a bare round trip that does no work. */
  echo(value: number): Promise<number>;
  /** A board's frame (leaderboard_top) for the sockets here of players in that cohort. */
  boardFrame(cohortId: string, frame: ServerFrame): Promise<number>;
  /** Before finalization: adopts the (expired) event and pushes every score change owed; throws while any is still owed. */
  flushBoard(info: EventInfo): Promise<number>;
  /** The player's board cohort as this shard placed it (null: no score yet); reads ask here, not the event's directory. */
  boardCohort(playerId: string): Promise<string | null>;
  /** Rank rewards of players here after their board finalized; repeats and releases of held ones are harmless. */
  grantRankRewards(awards: RankAward[]): Promise<number>;
  /** A clan's clan_progress frame for the sockets here whose token names that clan. */
  clanFrame(clanId: string, frame: ServerFrame): Promise<number>;
  /** Before the clans finalize: adopts the (expired) event and pushes every clan contribution owed; throws while any is still owed. */
  flushClans(info: EventInfo): Promise<number>;
  /** Clan milestone rewards of players here after their clan finalized; repeats are harmless. */
  grantClanRewards(awards: ClanAward[]): Promise<number>;
  /** Statistical anti-cheat (shard/anticheat.ts): this shard's rate partials for one pass, per objective. */
  ratePartial(objectiveIds: string[], passId: string): Promise<Population>;
  /**
   * Judges this shard's players, with the rates it sent for the pass, against the merged population (`rest`: the
   * other shards' partials merged); counts of the flags it moved, or null if it no longer holds that pass.
   */
  judgeRates(passId: string, population: Population, rest: Population, settings: AnticheatSettings & { reviewAfterMs: number }): Promise<{ flagged: number; escalated: number; dismissed: number } | null>;
  flags(state: ReviewState | null, limit: number): Promise<FlagViewT[]>;
  /** Ops clear (rewards released) or confirm (board entry banned) a player's flag; audited. */
  decideFlag(playerId: string, action: "clear" | "confirm", audit: Audit & { reason: string }): Promise<Result<FlagDecisionT>>;
  /** WebSocket upgrades, forwarded by the Worker with the verified player in X-Live-Player. */
  fetch(request: Request): Promise<Response>;
}

// ---- PlayerInventoryActor: one per player, the seed's IInventoryIntegration ---------------------------------------

export type Grant = {
  claimId: string;
  playerId: string;
  eventId: string;
  milestoneIndex: number;
  rewards: RewardData[];
  source: Exclude<ClaimSource, "inbox_claim">;
  receipt: ClaimReceipt;
};
export type DeliveryOutcome = { outcome: "delivered" | "inbox" | "retrying"; via: "ledger" | "webhook"; itemId?: string };
export type InboxItemView = {
  itemId: string;
  eventId: string;
  milestoneIndex: number;
  receiptId: string;
  source: string;
  reason: string;
  status: string;
  rewards: RewardData[];
  arrivedAt: string;
  expiresAt: string;
  claimedAt: string | null;
};
/** One built-in ledger entry as game servers pull it; `cursor` is what `since` takes. */
export type InventoryEntry = {
  cursor: number;
  ledgerId: string;
  playerId: string;
  eventId: string;
  milestoneIndex: number;
  source: string;
  receiptId: string;
  rewards: RewardData[];
  deliveredVia: string;
  /** When it reached the inventory, ISO 8601. */
  at: string;
};
export type InventoryPage = {
  entries: InventoryEntry[];
  nextCursor: number;
  hasMore: boolean;
  /** Every entry up to this cursor was acknowledged by a game server and no longer takes a slot. */
  acknowledged: number;
  slotsUsed: number;
  capacity: number;
};
export type InventoryAck = { acknowledged: number; slotsUsed: number; capacity: number };

export interface PlayerInventoryActorRpc extends PlayerDataHolder {
  /** First delivery of a grant, from a claim or an auto-claim. Keyed by claim id: a repeat grants nothing twice. */
  deliver(grant: Grant): Promise<DeliveryOutcome>;
  /** A queued retry of a webhook delivery; the final attempt sends the reward to the inbox instead. */
  retryDelivery(grant: Grant, finalAttempt: boolean): Promise<DeliveryOutcome>;
  inbox(now: number): Promise<InboxItemView[]>;
  claimInbox(itemId: string, key: string, now: number): Promise<Result<{ item: InboxItemView; delivered: boolean }>>;
  /** A page of the built-in ledger; read only. */
  inventory(since: number, limit: number): Promise<InventoryPage>;
  /** A game server took the entries up to `upTo`; frees their slots. */
  acknowledge(upTo: number): Promise<InventoryAck>;
}

// ---- Queues ----------------------------------------------------------------------------------------------------

/** Push work on the push queue: a topic push (to all, or to `zones` for a local-time wave) or a batch of ≤100 players. */
export type PushMessage = {
  notificationId: string;
  eventId: string;
  type: string;
  title: string;
  body: string;
  audience: "all" | "zones" | "players";
  zones?: string[];
  playerIds?: string[];
  batch: number;
};

// ---- LeaderboardActor: one per (event, cohort), plus the event's cohort directory ----------------------------------

/** What a board needs to know of its event; carried by the shards' copy of the event and by every push. */
export type BoardInfo = { eventId: string; templateId: string; endTime: number; definition: BoardDefinition };
/** One shard's aggregated score changes since its last push, numbered per (shard, cohort): a retry reuses the seq. */
export type ScorePush = {
  source: string;
  seq: number;
  info: BoardInfo;
  entries: Array<{ playerId: string; value: number | null; at: number; flagged: boolean }>;
};
export type RankChange = { playerId: string; rank: number; score: number; total: number };
export type BoardRow = { rank: number; playerId: string; score: number; reachedAt: string };
export type BoardPage = { cohortId: string; total: number; finalized: boolean; entries: BoardRow[]; nextCursor: string | null };
export type BoardMe = {
  cohortId: string;
  total: number;
  finalized: boolean;
  rank: number | null;
  score: number | null;
  percentile: number | null;
  neighbours: BoardRow[];
};
export type FinalSummary = { cohortId: string; entries: number; digest: string; finalizedAt: string; rewarded: number; held: number };
export type RankAward = { playerId: string; cohortId: string; rank: number; rewardTier: number; rewards: RewardData[]; held: boolean };
export type CohortView = { cohortId: string; members: number };
export type EntryAction = "remove" | "ban" | "clear_flag";

export interface LeaderboardActorRpc extends PlayerDataHolder {
  /** Directory: the player's cohort, decided once (domain/leaderboard assignCohort) and stable for the event. */
  locate(info: BoardInfo, player: { playerId: string; level: number }): Promise<string>;
  cohortOf(playerId: string): Promise<string | null>;
  cohorts(): Promise<CohortView[]>;
  /** Directory: has this cohort been opened (so its board may hold players)? */
  hasCohort(cohortId: string): Promise<boolean>;
  /** Directory: finalizes every cohort board; safe to call again (each board finalizes once). */
  finalizeAll(info: BoardInfo | null, actor: string): Promise<FinalSummary[]>;
  /**
   * Board: one shard's batch; a seq at or below the last seen from that source is acknowledged and ignored. `frozen`:
   * a new batch reached a final board and was not applied (the shard logs and counts it: acknowledged progress lost).
   */
  push(batch: ScorePush): Promise<{ applied: boolean; frozen: boolean; ranks: RankChange[] }>;
  top(limit: number, cursor: string | null): Promise<Result<BoardPage>>;
  me(playerId: string, around: number): Promise<BoardMe>;
  act(playerId: string, action: EntryAction, audit: Audit): Promise<Result<{ playerId: string; action: EntryAction }>>;
  finalize(info: BoardInfo | null, actor: string): Promise<FinalSummary | null>;
  /** Bench only (GET /v1/_bench/leaderboard): n synthetic entries into this object's memory, then timed reads. */
  benchLoad(n: number): Promise<{ entries: number; loadMs: number; rebuildMs: number }>;
  benchProbe(batches: number): Promise<BenchProbe>;
}
export type BenchProbe = {
  entries: number;
  depth: number;
  exact: boolean;
  /** Typed-array bytes the index holds per entry (its whole footprint in the isolate; ids stay in SQLite). */
  indexBytesPerEntry: number;
  topP50: number;
  topP99: number;
  aroundP50: number;
  aroundP99: number;
  updateP50: number;
  updateP99: number;
  batch: number;
};

// ---- ClanEventActor: one per (event, clan), plus the event's clan directory ----------------------------------------

/** What a clan needs to know of its event; carried by every push (the shards' copy of the event has it). */
export type ClanInfo = { eventId: string; objectives: Objective[]; definition: ClanDefinition };
/** One shard's aggregated contributions to one clan since its last push, numbered per (shard, clan): a retry reuses the seq. */
export type ClanPush = {
  source: string;
  seq: number;
  info: ClanInfo;
  entries: Array<{ playerId: string; amounts: Record<string, number>; at: number; flagged: boolean }>;
};
export type ClanAward = { playerId: string; clanId: string; milestoneIndex: number; rewards: RewardData[]; unlockMessage: string };
/** A clan's standing as the directory ranks it; reachedAt: when the clan's total last moved (0: never). */
export type ClanStanding = { clanId: string; total: number; completion: number; members: number; reachedAt: number };
/** A clan's answer to finalization: its frozen standing and what it awarded. */
export type ClanFinal = ClanStanding & { awards: number; held: number };
/** A finalized clan's place on the clan leaderboard and the rank reward its eligible members get. */
export type ClanRankAward = { rank: number; rewardTier: number; rewards: RewardData[] };
export type ClanView = z.infer<typeof ClanViewSchema>;
export type ClanRanking = z.infer<typeof ClanRankingSchema>;

export interface ClanEventActorRpc extends PlayerDataHolder {
  /** Clan: one shard's batch; a seq at or below the last seen from that source is acknowledged and ignored. */
  push(batch: ClanPush): Promise<{ applied: boolean; frozen: boolean; total: number; unlocked: number[] }>;
  /** Clan: a shard holding a member's socket asks for the clan_progress frames. */
  listen(source: string): Promise<void>;
  /** The clan with its top `limit` members (default 50) and the caller's own line with its rank. */
  view(fallback: ClanInfo, playerId: string | null, limit?: number): Promise<ClanView>;
  /** Clan: at the event's end, once; each reached milestone to every eligible member (held ones wait for clear). */
  finalize(info: ClanInfo | null): Promise<ClanFinal | null>;
  /** Clan, once final: its rank reward to every eligible member (once; repeats answer the first count). */
  rankAward(award: ClanRankAward): Promise<number>;
  /** Clan: ops clear a flagged member; after finalization this releases their held rewards. */
  clearFlag(playerId: string, audit: Audit): Promise<Result<{ playerId: string; released: number }>>;
  /** Clan: a member confirmed as a cheat leaves the totals; their later pushes are ignored (409 once final). */
  excludeMember(playerId: string, audit: Audit): Promise<Result<{ playerId: string; removed: number }>>;
  /** Directory: a clan's latest standing (sent by the clan itself); answers how many ms the clan waits before the next. */
  report(standing: ClanStanding): Promise<number>;
  /** Directory: a page of the clan ranking (the final standings once recorded), with `clanId`'s own place. */
  ranking(limit: number, cursor: string | null, clanId: string | null): Promise<Result<ClanRanking>>;
  /** Directory: finalizes every clan that ever reported, then records the final standings; safe to call again. */
  finalizeAll(info: ClanInfo | null, keepBoard: boolean): Promise<number>;
}

// ---- Privacy: one player's data, exported or erased object by object ------------------------------------------------

/** An object that holds player rows answers for them; its room declares which tables, and delete or anonymize (kit/player-data.ts). */
export interface PlayerDataHolder {
  playerData(playerId: string, op: PlayerDataOp): Promise<PlayerDataPart>;
}

export type PrivacyStepView = { step: string; state: "pending" | "done"; touched: Record<string, number>; attempts: number; error: string | null };
export type PrivacyJobView = {
  jobId: string;
  pseudonym: string;
  state: "running" | "done";
  run: number;
  requestedBy: string;
  reason: string;
  requestedAt: string;
  finishedAt: string | null;
  steps: PrivacyStepView[];
  /** Rows touched by this run, per `<source>.<table>`. */
  touched: Record<string, number>;
  /** Every export and erase request for this player: who, when, why. */
  audit: Array<{ at: string; actor: string; action: string; reason: string | null }>;
};
export type PlayerExport = { playerId: string; exportedAt: string; data: Record<string, unknown[]>; empty: boolean };

export interface PrivacyActorRpc {
  /** A copy of everything held about the player, from D1 and every object that holds them; recorded in the audit log. */
  exportPlayer(playerId: string, audit: Audit): Promise<PlayerExport>;
  /** The player's own export, at most one a minute (domain/privacy.ts): else how long to wait. */
  exportOwn(playerId: string): Promise<{ ok: true; export: PlayerExport } | { ok: false; retryAfterSec: number }>;
  /** Starts (or, once done, re-runs) the erase job; a request while it runs joins it. */
  erase(playerId: string, audit: Audit): Promise<PrivacyJobView>;
  job(): Promise<PrivacyJobView | null>;
}

// ---- SeriesActor: one per recurring series, the single writer of its occurrences ------------------------------------

export type SeriesStatus = "active" | "paused" | "ended";
export type OccurrenceStatus = "pending" | "scheduled" | "shifted" | "skipped" | "cancelled";
export type SeriesCommand = "pause" | "resume" | "end";
/** One occurrence as the series recorded it; `key` is its original local start (the iCalendar RECURRENCE-ID). */
export type OccurrenceRecord = {
  key: string;
  eventId: string | null;
  status: OccurrenceStatus;
  start: number;
  end: number;
  shiftedFrom: number | null;
  reason: string | null;
  updatedAt: number;
};
export type SeriesView = {
  seriesId: string;
  templateId: string;
  plan: SeriesPlan;
  onConflict: ConflictPolicy;
  status: SeriesStatus;
  horizonDays: number;
  sequence: number;
  createdAt: number;
  updatedAt: number;
  occurrences: OccurrenceRecord[];
};
/**
 * A page of a series' occurrences: starting in [from, to), after the cursor's (original start, key), in (original
 * start, key) order: where the rule put each, which no edit changes, so an edit between two pages moves no row across
 * the cursor.
 */
export type OccurrencePage = { from: number; to: number | null; after: { start: number; key: string } | null; limit: number };
export type SeriesCreate = { templateId: string; rule: SeriesRule; onConflict: ConflictPolicy; horizonDays: number };

export interface SeriesActorRpc {
  create(input: SeriesCreate, audit: Audit): Promise<Result<SeriesView>>;
  /** Without a page: every occurrence the object keeps. With one: that page, and where the next starts (null: none). */
  get(page?: OccurrencePage): Promise<(SeriesView & { next: { start: number; key: string } | null }) | null>;
  edit(edit: SeriesEdit, audit: Audit): Promise<Result<SeriesView>>;
  command(cmd: SeriesCommand, audit: Audit): Promise<Result<SeriesView>>;
  /** An occurrence's event was cancelled by ops directly: the occurrence is recorded cancelled and never made again. */
  eventCancelled(eventId: string, revision: number, audit: Audit): Promise<void>;
  /** Runs what is due at `now` (the alarm's work: materializing the horizon, writing D1); tests call it directly. */
  tick(now: number): Promise<void>;
}
