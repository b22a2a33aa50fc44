// ProgressShardActor: one Durable Object per (event, shard), the single writer of its players' progress.
// Every accepted update is in this object's SQLite before the response leaves (the output gate holds the reply
// until the write is durable). D1 is written behind it: what it owes D1 (players whose revision is ahead of D1's,
// and the outbox) is drained by the "drain" row of the object's schedule.
import { DurableObject } from "cloudflare:workers";
import { migrate } from "../kit/migrate";
import { Schedule } from "../kit/schedule";
import { SHARD_SCHEMA } from "./schema";
import { ShardPlayers, type PlayerRecord } from "./players";
import { ShardRewards } from "./rewards";
import { ShardOutbox } from "./outbox";
import { ShardLive } from "./live";
import { ShardBudgets } from "./budgets";
import { BOARD_PUSH_MS, ShardBoard } from "./board";
import { CLAN_PUSH_MS, ShardClan } from "./clan";
import { ShardOwnRewards } from "./own-rewards";
import { shardAddress } from "./address";
import { ShardAnticheat } from "./anticheat";
import { ShardAdaptive } from "./adaptive";
import { ShardLocalTime } from "./local-time";
import { ShardEventCopy } from "./event-copy";
import { ShardSockets } from "./sockets";
import { DRAIN_BACKOFF, ShardDrain, type ShardRowKind } from "./drain";
import { decideFlag, flagEffectRows, dismissElsewhere, flagEffects, holdElsewhere, type FlagDeps } from "./flag-decisions";
import type { AnticheatSettings, Population } from "../../domain/anticheat";
import type { FlagDecisionT, FlagViewT } from "../../domain/anticheat-views";
import type { ReviewState } from "../../domain/review";
import { clanIdOf } from "../../domain/clan";
import { flagsBoard } from "../../domain/leaderboard";
import { milestoneNotice, notificationRow } from "../../domain/notifications";
import type { ServerFrame } from "../../domain/live";
import { readConfig } from "../../config";
import { ineligibility } from "../../domain/instance";
import { COMPLETION_THRESHOLD, applyUpdates, flagCounts, histogram, progressGate, snapshot, type EventInfo, type ProgressUpdate } from "../../domain/progress";
import type { Player } from "../../domain/model";
import { fail, ok, type Result } from "../../lib/result";
import { shardPlayerData } from "./privacy";
import type { Audit, ClanAward, PlayerDataOp, PlayerDataPart, ProgressAck, ProgressShardActorRpc, RankAward, UnclaimedNotice, UnclaimedWarning, WaveCall, WaveTarget } from "../contracts";


export class ProgressShardActor extends DurableObject<Env> implements ProgressShardActorRpc {
  private readonly sql: SqlStorage;
  /** The event as this shard last heard of it (shard/event-copy.ts). */
  private readonly events: ShardEventCopy;
  /** The object's schedule: its rows' kinds are listed in shard/drain.ts. */
  private readonly schedule: Schedule<ShardRowKind>;
  /** The write-behind to D1 (shard/drain.ts). */
  private readonly drain: ShardDrain;
  private readonly players: ShardPlayers;
  private readonly outbox: ShardOutbox;
  private readonly rewards: ShardRewards;
  private readonly live: ShardLive;
  private readonly board: ShardBoard;
  private readonly clan: ShardClan;
  /** Claims as each player sees the event: with their rank and clan rewards. */
  private readonly own: ShardOwnRewards;
  private readonly budgets: ShardBudgets;
  private readonly anticheat: ShardAnticheat;
  /** Adaptive difficulty (shard/adaptive.ts): each player's own mechanics once adjusted. */
  private readonly adaptive: ShardAdaptive;
  private readonly localTime: ShardLocalTime;
  private readonly sockets: ShardSockets;
  /** Which event and shard this is: from the object's own name, `${eventId}:${shardNo}`. */
  private readonly address: { eventId: string; shardNo: number };

  /** The event as this shard last heard of it (tests read it too, through runInDurableObject). */
  private get info(): EventInfo | null {
    return this.events.held;
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, SHARD_SCHEMA);
    this.address = shardAddress(this.sql, ctx.id.name, ctx.id.toString());
    this.schedule = new Schedule<ShardRowKind>(ctx, () => DRAIN_BACKOFF);
    const config = readConfig(env);
    this.players = new ShardPlayers(this.sql, config.anticheat.activeGapMs);
    this.outbox = new ShardOutbox(this.sql, ctx.storage, this.players);
    this.rewards = new ShardRewards(this.sql, ctx.storage, env, this.outbox);
    this.live = new ShardLive(ctx, env, this.sql);
    this.events = new ShardEventCopy(this.sql, env, this.address, this.live);
    this.board = new ShardBoard(this.sql, ctx.storage, env, `${this.address.eventId}:${this.address.shardNo}`, this.live);
    this.clan = new ShardClan(ctx, this.sql, env, `${this.address.eventId}:${this.address.shardNo}`);
    this.drain = new ShardDrain(this.schedule, env, this.address, this.events, this.players, this.outbox, this.rewards, this.board, this.clan);
    this.adaptive = new ShardAdaptive(this.sql, config.adaptive, {
      players: this.players,
      outbox: this.outbox,
      claimed: (p, i) => this.rewards.taken(p, i),
      book: (at) => this.schedule.ensure("adapt", at),
      announce: (info, p, indexes, now) => this.announceMilestones(info, p, indexes, now),
      send: (frame, p) => this.live.broadcast(frame, p),
    });
    this.anticheat = new ShardAnticheat(this.sql, ctx.storage, () => this.players.version);
    this.own = new ShardOwnRewards(this.players, this.rewards, this.board, this.clan, this.adaptive, this.anticheat, this.events, this.drain);
    this.localTime = new ShardLocalTime(this.sql, env, this.live, this.rewards, this.players, config.defaultPlayerTimeZone);
    this.sockets = new ShardSockets(ctx, this.schedule, this.events, this.players, this.adaptive, this.localTime, this.live, this.clan);
    this.budgets = new ShardBudgets(config.playerProgressRequestsPerSecond, config.playerProgressUpdatesPerSecond);
  }

  // ---- privacy ----------------------------------------------------------------------------------------------------

  /** The player's rows here (export) or their erasure, and where else they are (shard/privacy.ts). */
  async playerData(playerId: string, op: PlayerDataOp): Promise<PlayerDataPart> {
    return shardPlayerData(this.ctx.storage, playerId, op, [this.players, this.board, this.adaptive]);
  }

  // ---- player RPCs -----------------------------------------------------------------------------------------------

  async join(player: Player) {
    const now = Date.now();
    const info = await this.events.event(now);
    if (!info) return notFound(this.address.eventId);
    if (info.localTime) player = await this.localTime.zoned(player);
    const refused = this.refusal(info, player, now);
    if (refused) return refused;
    const existing = this.players.get(player.playerId);
    const record = existing ?? this.admit(player.playerId, now);
    return ok({ progress: snapshot(record.state, this.adaptive.mechanics(info, player.playerId)), joined: !existing });
  }

  /** The hot path: a memory read of the event, one decision, at most one row write, and the ack built once. */
  async progress(player: Player, updates: ProgressUpdate[]): Promise<Result<ProgressAck>> {
    const now = Date.now();
    // First, before any read: what a flooding player sends past their budget costs the shard a memory lookup.
    const limited = this.budgets.spend(player.playerId, updates.length, now);
    if (limited) return limited;
    const info = this.events.current(now) ?? (await this.events.event(now));
    if (!info) return notFound(this.address.eventId);
    if (info.localTime) player = await this.localTime.zoned(player);
    const refused = this.refusal(info, player, now);
    if (refused) return refused;
    // The board's cohort is decided before anything is applied: the first time it costs an await, which must not
    // fall between reading the player's record and writing it.
    if (info.board && !this.board.known(player.playerId)) await this.board.locate(info.board, player);
    // Posting without joining joins, once the player is known to be eligible.
    const record = this.players.get(player.playerId) ?? this.admit(player.playerId, now);
    const result = applyUpdates(record.state, updates, this.adaptive.mechanics(info, player.playerId), now);
    if (!result.ok) {
      this.outbox.flag(player.playerId, flagCounts(result.rejections, info), now);
      // Only implausible progress (cheating) holds a player's rank and clan rewards, not a stale client's mistakes.
      if (flagsBoard(result.rejections)) {
        const flagged = this.board.flag(info, player.playerId, now);
        if (flagged) this.schedule.ensure("board", now + BOARD_PUSH_MS, flagged);
        if (this.clan.flag(info, player, now)) this.schedule.ensure("clan", now + CLAN_PUSH_MS);
        this.anticheat.implausible(player.playerId, now);
      }
      this.drain.ensure(now);
      return fail(422, result.code, `${result.rejections.length} update(s) refused; nothing was applied`, { rejections: result.rejections });
    }
    if (result.applied.length) {
      const before = record.state;
      this.players.update(player.playerId, record, result.state, result.completion);
      const cohort = this.board.record(info, player.playerId, updates, result.applied, before, result.state, result.completion, now);
      if (cohort) this.schedule.ensure("board", now + BOARD_PUSH_MS, cohort);
      if (this.clan.record(info, player, before, result.state, now)) {
        this.schedule.ensure("clan", now + CLAN_PUSH_MS);
        this.anticheat.noteClan(player.playerId, clanIdOf(player)!);
      }
      this.adaptive.afterUpdate(info, player.playerId, result, now);
      this.drain.ensure(now);
    }
    this.outbox.countRequest(result.applied.length);
    const mine = this.adaptive.mechanics(info, player.playerId);
    if (result.newMilestones.length) this.announceMilestones(mine, player.playerId, result.newMilestones, now);
    const ack = snapshot(result.state, mine, result.completion) as ProgressAck;
    ack.newMilestones = result.newMilestones.map((i) => mine.milestones[i]);
    ack.applied = result.applied;
    ack.duplicates = result.duplicates;
    return ok(ack);
  }

  async getProgress(playerId: string) {
    const info = await this.events.event(Date.now());
    if (!info) return notFound(this.address.eventId);
    const record = this.players.get(playerId);
    if (!record) return fail(404, "not_joined", "this player has not joined the event");
    return ok({ playerId, ...snapshot(record.state, this.adaptive.mechanics(info, playerId)), adjusted: this.adaptive.view(playerId, info) });
  }

  // ---- live channel ----------------------------------------------------------------------------------------------

  /** A socket upgrade the Worker forwarded after checking the token (shard/sockets.ts). */
  override async fetch(request: Request): Promise<Response> {
    return this.sockets.accept(request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.live.onMessage(ws, message, (player, updates) => this.progress(player, updates) as never);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.live.onClose(ws, code, reason);
  }

  /** A notification for every connected player of this shard (the event object calls each attached shard). */
  async broadcast(frame: ServerFrame): Promise<number> {
    await this.events.event(Date.now());
    return this.live.broadcast(frame);
  }

  /** A notification for the players here who still have unclaimed rewards: due rows in D1, and live frames. */
  async notifyUnclaimed(type: UnclaimedWarning, opts: UnclaimedNotice): Promise<string[]> {
    const now = Date.now();
    const info = await this.events.event(now);
    return info ? this.rewards.warnUnclaimed(info, this.players.unlocked(), type, opts, this.live, now) : [];
  }

  async localZone(playerId: string): Promise<string | null> {
    return this.localTime.fixedZone(playerId);
  }

  async localWave(call: WaveCall): Promise<WaveTarget[]> {
    const info = await this.events.event(Date.now());
    return info ? this.localTime.wave(info, call, Date.now()) : [];
  }

  // ---- reward RPCs -----------------------------------------------------------------------------------------------

  async rewardStates(playerId: string) {
    const info = await this.events.event(Date.now());
    if (!info) return notFound(this.address.eventId);
    const own = this.own.view(info, playerId);
    return ok({ milestones: this.rewards.list(own.info, playerId, own.unlocked) });
  }

  async claim(playerId: string, index: number, key: string) {
    const info = await this.events.event(Date.now());
    if (!info) return notFound(this.address.eventId);
    // A statistically flagged player's claims wait for ops (domain/review.ts); a confirmed cheat's are refused. A
    // claim that landed before the flag, replayed with its key, still gets its original receipt.
    const held = this.anticheat.claimRefusal(playerId);
    if (held && !this.rewards.usedKey(playerId, key)) return held;
    const own = this.own.view(info, playerId);
    const result = await this.rewards.claim(own.info, playerId, own.unlocked, index, key, Date.now());
    if (result.ok && !result.value.replayed) this.drain.ensure(Date.now());
    return result;
  }

  /** Called by the event object when the grace period ends; safe to call any number of times. */
  async autoClaim() {
    return this.own.autoClaimAll();
  }

  // ---- ops / event RPCs ------------------------------------------------------------------------------------------

  async summary() {
    await this.events.event(Date.now());
    const completions = this.players.completions();
    return {
      shardNo: this.address.shardNo,
      participants: completions.length,
      completions: completions.filter((c) => c >= COMPLETION_THRESHOLD - 1e-9).length,
      completionValues: histogram(completions),
      outboxPending: this.players.unsyncedCount(),
      flagsPending: this.outbox.flagsPending(),
      ...this.outbox.stats(),
    };
  }

  /** The event object pushes every change; a copy older than the one held is ignored. */
  async syncEvent(info: EventInfo): Promise<void> {
    this.events.sync(info);
  }

  async boardFrame(cohortId: string, frame: ServerFrame): Promise<number> {
    return cohortId === "global" ? this.live.broadcast(frame) : this.board.frame(cohortId, frame);
  }

  /**
   * Before the event's boards freeze: adopt the (expired) event, so nothing more is accepted, then push every score
   * change still owed. Throws while anything is still owed; the event object's "finalize" row retries.
   */
  async flushBoard(info: EventInfo): Promise<number> {
    await this.syncEvent(info);
    if (!this.info) return 0;
    const owed = this.board.owedCohorts().length;
    await this.board.flush(this.info, Date.now());
    return owed;
  }

  async boardCohort(playerId: string): Promise<string | null> {
    return this.board.known(playerId);
  }

  /** The same before the event's clans finalize: adopt the ended event, push every clan contribution owed. */
  async flushClans(info: EventInfo): Promise<number> {
    await this.syncEvent(info);
    if (!this.info) return 0;
    const owed = this.clan.owed();
    await this.clan.flush(this.info);
    return owed;
  }

  async grantRankRewards(awards: RankAward[]): Promise<number> {
    const granted = this.board.grant(awards);
    await this.own.claimIfClosed(awards.map((a) => a.playerId));
    return granted;
  }

  async clanFrame(clanId: string, frame: ServerFrame): Promise<number> {
    return this.clan.frame(clanId, frame);
  }

  async grantClanRewards(awards: ClanAward[]): Promise<number> {
    const granted = this.clan.grant(awards, (p, i) => this.rewards.taken(p, i));
    await this.own.claimIfClosed(awards.map((a) => a.playerId), true);
    return granted;
  }

  // ---- statistical anti-cheat (shard/anticheat.ts) ----------------------------------------------------------------

  /** This shard's share of each objective's rate population, for the event object's rate pass. */
  async ratePartial(objectiveIds: string[], passId: string): Promise<Population> {
    return this.anticheat.partial(objectiveIds, passId);
  }

  /** The merged population: every player here judged against it; new flags held on their board and clans too. */
  async judgeRates(passId: string, population: Population, rest: Population, settings: AnticheatSettings & { reviewAfterMs: number }) {
    const now = Date.now();
    const moves = this.anticheat.judgeAll(passId, population, rest, settings, settings.reviewAfterMs, now);
    if (!moves) return null;
    const owed = this.info ? holdElsewhere(this.flagDeps(), this.info, moves.flagged, now) : null;
    for (const cohort of owed?.cohorts ?? []) this.schedule.ensure("board", now + BOARD_PUSH_MS, cohort);
    if (owed?.clans) this.schedule.ensure("clan", now + CLAN_PUSH_MS);
    if (this.info && moves.dismissed.length) await dismissElsewhere(this.flagDeps(), this.info, moves.dismissed, now);
    if (moves.flagged.length) this.drain.ensure(now);
    return { flagged: moves.flagged.length, escalated: moves.escalated.length, dismissed: moves.dismissed.length };
  }

  async flags(state: ReviewState | null, limit: number): Promise<FlagViewT[]> {
    return this.anticheat.list(state, limit);
  }

  async decideFlag(playerId: string, action: "clear" | "confirm", audit: Audit & { reason: string }): Promise<Result<FlagDecisionT>> {
    const info = await this.events.event(Date.now());
    if (!info) return notFound(this.address.eventId);
    return decideFlag(this.flagDeps(), info, playerId, action, audit, () => this.own.claimIfClosed([playerId]), Date.now());
  }

  private flagDeps(): FlagDeps {
    return { env: this.env, sql: this.sql, anticheat: this.anticheat, board: this.board, effects: flagEffectRows(this.schedule) };
  }

  /** A "flag" row: a review decision's board and clan effects that have not landed yet, run again (idempotent). */
  private async retryFlag(playerId: string) {
    if (this.info) await flagEffects(this.flagDeps(), this.info, playerId, () => this.own.claimIfClosed([playerId]));
  }

  /** The bench's baseline: a bare Worker → Durable Object RPC round trip that does no work. */
  async echo(value: number): Promise<number> {
    return value;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    await this.schedule.tick(
      now,
      (row) => (row.kind === "sockets" ? this.sockets.closeExpired(now) : row.kind === "board" ? this.board.pushRow(this.info, row.key, now) : row.kind === "clan" ? this.clan.pushRow(this.info, row.key, this.schedule) : row.kind === "flag" ? this.retryFlag(row.key) : row.kind === "adapt" ? void (this.info && this.adaptive.check(this.info, now)) : this.drain.run(row.attempt)),
      () => this.drain.rebook(),
    );
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private refusal(info: EventInfo, player: Player, now: number) {
    const gate = progressGate(info, now);
    const why = ineligibility(info, player);
    // The zone is recorded (for the waves) for an eligible player even while the event is not active yet.
    const local = why ? null : this.localTime.gate(info, player, now);
    if (!gate.open) return fail(409, "event_not_active", `the event is ${gate.state}`, { state: gate.state });
    if (why) return fail(403, "not_eligible", `this event ${why}`);
    return local;
  }

  /** Live frames to every socket of the player, and a feed row each (written with the next drain). */
  private announceMilestones(info: EventInfo, playerId: string, indexes: number[], now: number) {
    for (const index of indexes) {
      const milestone = info.milestones[index];
      this.live.broadcast({ type: "milestone", eventId: info.eventId, milestone: milestone as unknown as Record<string, unknown> }, playerId);
      const notice = milestoneNotice({ eventId: info.eventId, name: info.name ?? info.eventId }, playerId, { index, unlockMessage: milestone.unlockMessage });
      // Delivered live and in the feed; milestones have no push leg.
      this.outbox.note(notificationRow(notice, now, "sent"));
    }
  }

  private admit(playerId: string, now: number): PlayerRecord {
    const record = this.players.admit(playerId, now);
    this.drain.ensure(now);
    return record;
  }
}

const notFound = (eventId: string) => fail(404, "event_not_found", `no event with id "${eventId}"`);
