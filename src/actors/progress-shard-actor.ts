// ProgressShardActor: one Durable Object per (event, shard), the single writer of its players' progress.
// Every accepted update is in this object's SQLite before the response leaves (the output gate holds the reply
// until the write is durable). D1 is written behind it: players whose revision is ahead of what D1 has (the outbox)
// are drained by the alarm.
import { DurableObject } from "cloudflare:workers";
import { writeProgressBatch, type FlagRow, type ProgressRow } from "../db/progress";
import { claimStatements, notificationStatements } from "../db/rewards";
import { ShardRewards } from "./shard-rewards";
import { ShardLive, playerTag } from "./shard-live";
import { notificationId, notificationText, stateChange } from "../domain/notifications";
import type { ServerFrame } from "../domain/live";
import { ineligibility } from "../domain/instance";
import {
  COMPLETION_THRESHOLD,
  applyUpdates,
  completion,
  histogram,
  newProgress,
  progressGate,
  snapshot,
  type EventInfo,
  type ProgressState,
  type ProgressUpdate,
} from "../domain/progress";
import type { Player } from "../http/auth";
import { fail, ok, type Result } from "../http/errors";
import { eventActor } from "./stubs";

export type ShardAddress = { eventId: string; shardNo: number };
type Cached = { state: ProgressState; revision: number; createdAt: number; completion: number };

/** Drain at most about once a second, or at once when this many players are waiting. */
const DRAIN_INTERVAL_MS = 1000;
const DRAIN_NOW_AT = 500;
const DRAIN_MAX_ROWS = 2000;
const MAX_DRAIN_BACKOFF_MS = 60_000;
/** A shard that believes its event is still scheduled past startTime asks the event object again, this often. */
const REFRESH_EVERY_MS = 2000;

export class ProgressShardActor extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private info: EventInfo | null = null;
  private readonly players = new Map<string, Cached>();
  /** Mirrors the stored alarm so the hot path never has to ask storage whether a drain is already booked. */
  private alarmAt: number | null = null;
  /** Players changed since the last drain, in memory only: it decides how soon to drain, not what to drain. */
  private readonly dirty = new Set<string>();
  private lastRefresh = 0;
  private counters = { updatesApplied: 0, requests: 0 };
  private readonly rewards: ShardRewards;
  private readonly live: ShardLive;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS players (player_id TEXT PRIMARY KEY, state TEXT NOT NULL, completion REAL NOT NULL,
        revision INTEGER NOT NULL, created_at INTEGER NOT NULL, synced_revision INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS flags (flag_id TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS stats (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS notes (notification_id TEXT PRIMARY KEY, row TEXT NOT NULL);
    `);
    // The outbox is the set of players whose revision is ahead of D1's: a partial index keeps finding them cheap,
    // and an accepted update costs one row write instead of two.
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(players)").toArray().map((c) => c.name);
    if (!columns.includes("synced_revision")) this.sql.exec("ALTER TABLE players ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0");
    this.sql.exec("CREATE INDEX IF NOT EXISTS idx_players_unsynced ON players (player_id) WHERE revision > synced_revision");
    this.rewards = new ShardRewards(this.sql, ctx.storage, env);
    this.live = new ShardLive(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- player RPCs -----------------------------------------------------------------------------------------------

  async join(at: ShardAddress, player: Player): Promise<Result<{ progress: ReturnType<typeof snapshot>; joined: boolean }>> {
    const info = await this.event(at);
    if (!info) return fail(404, "event_not_found", `no event with id "${at.eventId}"`);
    const refused = this.refusal(info, player, Date.now());
    if (refused) return refused;
    const existing = this.player(player.playerId);
    const cached = existing ?? this.admit(player.playerId, Date.now());
    return ok({ progress: snapshot(cached.state, info), joined: !existing });
  }

  async progress(at: ShardAddress, player: Player, updates: ProgressUpdate[]) {
    const now = Date.now();
    const info = await this.event(at);
    if (!info) return fail(404, "event_not_found", `no event with id "${at.eventId}"`);
    const refused = this.refusal(info, player, now);
    if (refused) return refused;
    this.counters.requests++;
    // Posting without joining joins, once the player is known to be eligible.
    const cached = this.player(player.playerId) ?? this.admit(player.playerId, now);
    const result = applyUpdates(cached.state, updates, info, now);
    if (!result.ok) {
      this.recordFlags(player.playerId, result.rejections, now);
      return fail(422, result.code, `${result.rejections.length} update(s) refused; nothing was applied`, { rejections: result.rejections });
    }
    if (result.applied.length) {
      this.store(player.playerId, { ...cached, state: result.state, revision: cached.revision + 1, completion: completion(result.state.objectives, info) });
      this.counters.updatesApplied += result.applied.length;
    }
    if (result.newMilestones.length) this.announceMilestones(info, player.playerId, result.newMilestones, now);
    return ok({
      ...snapshot(result.state, info),
      newMilestones: result.newMilestones.map((i) => info.milestones[i]),
      applied: result.applied,
      duplicates: result.duplicates,
    });
  }

  async getProgress(at: ShardAddress, playerId: string) {
    const info = await this.event(at);
    if (!info) return fail(404, "event_not_found", `no event with id "${at.eventId}"`);
    const cached = this.player(playerId);
    if (!cached) return fail(404, "not_joined", "this player has not joined the event");
    return ok({ playerId, ...snapshot(cached.state, info) });
  }

  // ---- live channel ----------------------------------------------------------------------------------------------

  /** The Worker forwards a socket upgrade here after checking the token; the player comes in a header it set. */
  override async fetch(request: Request): Promise<Response> {
    const player = JSON.parse(request.headers.get("X-Live-Player") ?? "null") as Player | null;
    const at = JSON.parse(request.headers.get("X-Live-Address") ?? "null") as ShardAddress | null;
    if (!player || !at || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a websocket upgrade", { status: 426 });
    const info = await this.event(at);
    if (!info || info.state === "cancelled" || info.state === "archived") return Response.json({ error: { code: "event_not_found", message: "no such event" } }, { status: 404 });
    const why = ineligibility(info, player);
    if (why) return Response.json({ error: { code: "not_eligible", message: `this event ${why}` } }, { status: 403 });
    return this.live.accept(player, at, this.stateFrame(info, "snapshot"), request.headers.get("X-Live-Protocol"));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.live.onMessage(ws, message, (at, player, updates) => this.progress(at, player, updates) as never);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake; 1005/1006 are reserved and may not be sent back.
    if (code !== 1005 && code !== 1006) ws.close(code, reason);
  }

  /** A notification for every connected player of this shard (the event object calls each attached shard). */
  async broadcast(at: ShardAddress, frame: ServerFrame): Promise<number> {
    await this.event(at);
    return this.live.broadcast(frame);
  }

  /** A notification for the players here who still have unclaimed rewards: due rows in D1, and live frames. */
  async notifyUnclaimed(at: ShardAddress, type: "expiration_warning" | "auto_claim_warning", eventName: string): Promise<string[]> {
    const info = await this.event(at);
    if (!info) return [];
    const now = Date.now();
    const rows = this.rewards.unclaimedNotifications(info, this.allPlayers(), type, notificationText(type, eventName), now);
    if (rows.length) await this.env.DB.batch(notificationStatements(this.env.DB, rows));
    for (const r of rows) {
      this.live.broadcast(
        { type: "notification", notificationId: r.notificationId, notificationType: type, eventId: info.eventId, ...notificationText(type, eventName), display: "popup", at: new Date(now).toISOString() },
        playerTag(r.playerId!),
      );
    }
    return rows.map((r) => r.playerId!);
  }

  // ---- reward RPCs -----------------------------------------------------------------------------------------------

  async rewardStates(at: ShardAddress, playerId: string) {
    const info = await this.event(at);
    if (!info) return fail(404, "event_not_found", `no event with id "${at.eventId}"`);
    return ok({ milestones: this.rewards.list(info, playerId, this.player(playerId)?.state ?? null) });
  }

  async claim(at: ShardAddress, playerId: string, index: number, key: string) {
    const info = await this.event(at);
    if (!info) return fail(404, "event_not_found", `no event with id "${at.eventId}"`);
    const result = await this.rewards.claim(info, playerId, this.player(playerId)?.state ?? null, index, key, Date.now());
    if (result.ok && !result.value.replayed) this.armDrain(Date.now());
    return result;
  }

  /** Called by the event object when the grace period ends; safe to call any number of times. */
  async autoClaim(at: ShardAddress) {
    const info = await this.event(at);
    if (!info) return { claimed: 0, undelivered: 0 };
    const result = await this.rewards.autoClaim(info, this.allPlayers(), Date.now());
    this.armDrain(Date.now());
    return result;
  }

  // ---- ops / event RPCs ------------------------------------------------------------------------------------------

  async summary(at: ShardAddress) {
    await this.event(at);
    const rows = this.sql.exec<{ completion: number }>("SELECT completion FROM players").toArray();
    return {
      shardNo: at.shardNo,
      participants: rows.length,
      completions: rows.filter((r) => r.completion >= COMPLETION_THRESHOLD - 1e-9).length,
      completionValues: histogram(rows.map((r) => r.completion)),
      outboxPending: this.unsynced(),
      flagsPending: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM flags").one().n,
      updatesApplied: this.stat("updatesApplied") + this.counters.updatesApplied,
      requests: this.stat("requests") + this.counters.requests,
      d1Statements: this.stat("d1Statements"),
      drains: this.stat("drains"),
    };
  }

  /** The event object pushes every change; a copy older than the one held is ignored. */
  async syncEvent(info: EventInfo): Promise<void> {
    const held = this.info ?? this.loadInfo();
    if (held && held.revision >= info.revision) return;
    this.saveInfo(info);
    if (held && held.state !== info.state) this.live.broadcast(this.stateFrame(info, stateChange(held.state, info.state)));
  }

  /** The bench's baseline: a bare Worker → Durable Object RPC round trip that does no work. */
  async echo(value: number): Promise<number> {
    return value;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.drain(Date.now());
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private refusal(info: EventInfo, player: Player, now: number) {
    const gate = progressGate(info, now);
    if (!gate.open) return fail(409, "event_not_active", `the event is ${gate.state}`, { state: gate.state });
    const why = ineligibility(info, player);
    if (why) return fail(403, "not_eligible", `this event ${why}`);
    return null;
  }

  /** Event info: memory, then storage, then the event object itself (which registers this shard for pushes). */
  private async event(at: ShardAddress): Promise<EventInfo | null> {
    let info = this.info ?? this.loadInfo();
    const now = Date.now();
    const suspicious = info && info.state === "scheduled" && now >= info.startTime && now - this.lastRefresh > REFRESH_EVERY_MS;
    if (!info || suspicious) {
      this.lastRefresh = now;
      const fetched = await eventActor(this.env, at.eventId).attachShard(at.shardNo);
      if (fetched) {
        this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('address', ?)", JSON.stringify(at));
        if (!info || fetched.revision > info.revision) this.saveInfo(fetched);
        info = this.info;
      }
    }
    return info;
  }

  private stateFrame(info: EventInfo, change: string): ServerFrame {
    const iso = (ms: number) => new Date(ms).toISOString();
    return { type: "event_state", eventId: info.eventId, state: info.state, change: change as never, startTime: iso(info.startTime), endTime: iso(info.endTime), at: iso(Date.now()) };
  }

  /** Live frames to every socket of the player, and a feed row each (written with the next drain). */
  private announceMilestones(info: EventInfo, playerId: string, indexes: number[], now: number) {
    for (const index of indexes) {
      const milestone = info.milestones[index];
      this.live.broadcast({ type: "milestone", eventId: info.eventId, milestone: milestone as unknown as Record<string, unknown> }, playerTag(playerId));
      const text = notificationText("milestone", info.eventId, { milestoneIndex: index, unlockMessage: milestone.unlockMessage });
      this.sql.exec(
        "INSERT OR IGNORE INTO notes (notification_id, row) VALUES (?, ?)",
        notificationId(info.eventId, "milestone", playerId, index),
        JSON.stringify({ notificationId: notificationId(info.eventId, "milestone", playerId, index), eventId: info.eventId, type: "milestone", playerId, scheduledTime: now, payload: JSON.stringify({ ...text, display: "popup", milestoneIndex: index }), createdAt: now }),
      );
    }
  }

  private *allPlayers(): Generator<[string, ProgressState]> {
    for (const r of this.sql.exec<{ player_id: string; state: string }>("SELECT player_id, state FROM players")) {
      yield [r.player_id, JSON.parse(r.state)];
    }
  }

  private loadInfo(): EventInfo | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'event'").toArray()[0];
    this.info = row ? JSON.parse(row.v) : null;
    return this.info;
  }

  private saveInfo(info: EventInfo) {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('event', ?)", JSON.stringify(info));
    this.info = info;
  }

  private player(playerId: string): Cached | null {
    const hit = this.players.get(playerId);
    if (hit) return hit;
    const row = this.sql
      .exec<{ state: string; revision: number; created_at: number; completion: number }>(
        "SELECT state, revision, created_at, completion FROM players WHERE player_id = ?",
        playerId,
      )
      .toArray()[0];
    if (!row) return null;
    const cached = { state: JSON.parse(row.state), revision: row.revision, createdAt: row.created_at, completion: row.completion };
    this.players.set(playerId, cached);
    return cached;
  }

  private admit(playerId: string, now: number): Cached {
    const cached = { state: newProgress(now), revision: 1, createdAt: now, completion: 0 };
    this.store(playerId, cached);
    return cached;
  }

  /** One row write: the whole storage cost of an accepted request. Its revision moving ahead puts it in the outbox. */
  private store(playerId: string, cached: Cached) {
    this.sql.exec(
      `INSERT INTO players (player_id, state, completion, revision, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (player_id) DO UPDATE SET state = excluded.state, completion = excluded.completion, revision = excluded.revision`,
      playerId,
      JSON.stringify(cached.state),
      cached.completion,
      cached.revision,
      cached.createdAt,
    );
    this.players.set(playerId, cached);
    this.dirty.add(playerId);
    this.armDrain(Date.now());
  }

  private unsynced(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM players WHERE revision > synced_revision").one().n;
  }

  private recordFlags(playerId: string, rejections: { seq: number; objectiveId: string; amount: unknown; reason: string }[], now: number) {
    for (const r of rejections) {
      const row: Omit<FlagRow, "playerId"> & { playerId: string } = {
        flagId: crypto.randomUUID(),
        playerId,
        objectiveId: String(r.objectiveId).slice(0, 64),
        amount: String(r.amount).slice(0, 64),
        reason: r.reason,
        at: now,
      };
      this.sql.exec("INSERT INTO flags (flag_id, row) VALUES (?, ?)", row.flagId, JSON.stringify(row));
    }
    this.armDrain(now);
  }

  private armDrain(now: number) {
    const due = this.dirty.size >= DRAIN_NOW_AT ? now : now + DRAIN_INTERVAL_MS;
    if (this.alarmAt === null || due < this.alarmAt) {
      this.alarmAt = due;
      void this.ctx.storage.setAlarm(due);
    }
  }

  private async drain(now: number) {
    const address = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'address'").toArray()[0];
    if (!address) return;
    const { eventId } = JSON.parse(address.v) as ShardAddress;
    const rows = this.sql
      .exec<{ player_id: string; state: string; completion: number; revision: number; created_at: number }>(
        "SELECT player_id, state, completion, revision, created_at FROM players WHERE revision > synced_revision LIMIT ?",
        DRAIN_MAX_ROWS,
      )
      .toArray();
    const flags = this.sql.exec<{ flag_id: string; row: string }>("SELECT flag_id, row FROM flags LIMIT ?", DRAIN_MAX_ROWS).toArray();
    await this.rewards.deliverPending(200);
    const claims = this.rewards.unprojected();
    const notes = this.sql.exec<{ notification_id: string; row: string }>("SELECT notification_id, row FROM notes LIMIT ?", DRAIN_MAX_ROWS).toArray();
    if (!rows.length && !flags.length && !claims.ids.length && !notes.length) return this.persistCounters(0, false);

    const progressRows: ProgressRow[] = rows.map((r) => {
      const state = JSON.parse(r.state) as ProgressState;
      return {
        playerId: r.player_id,
        objectives: JSON.stringify(state.objectives),
        unlockedMilestones: JSON.stringify(state.unlockedMilestones),
        completion: r.completion,
        lastSeq: state.lastSeq,
        revision: r.revision,
        lastUpdated: state.lastUpdated,
        createdAt: r.created_at,
      };
    });
    try {
      const statements = await writeProgressBatch(
        this.env.DB,
        eventId,
        progressRows,
        flags.map((f) => JSON.parse(f.row)),
        COMPLETION_THRESHOLD,
        [...claimStatements(this.env.DB, claims.rows), ...notificationStatements(this.env.DB, notes.map((n) => JSON.parse(n.row)))],
      );
      this.ctx.storage.transactionSync(() => {
        this.rewards.markProjected(claims.ids);
        for (const n of notes) this.sql.exec("DELETE FROM notes WHERE notification_id = ?", n.notification_id);
        // A player updated while the batch was in flight has a newer revision than the one written, so stays unsynced.
        for (const r of rows) this.sql.exec("UPDATE players SET synced_revision = ? WHERE player_id = ? AND synced_revision < ?", r.revision, r.player_id, r.revision);
        for (const f of flags) this.sql.exec("DELETE FROM flags WHERE flag_id = ?", f.flag_id);
        this.sql.exec("DELETE FROM meta WHERE k = 'drainFailures'");
      });
      this.persistCounters(statements, true);
    } catch (err) {
      const failures = Number(this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'drainFailures'").toArray()[0]?.v ?? 0) + 1;
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('drainFailures', ?)", String(failures));
      console.error(JSON.stringify({ msg: "progress drain failed", eventId, failures, error: String(err) }));
      this.alarmAt = now + Math.min(DRAIN_INTERVAL_MS * 2 ** (failures - 1), MAX_DRAIN_BACKOFF_MS);
      await this.ctx.storage.setAlarm(this.alarmAt);
      return;
    }
    this.dirty.clear();
    const more =
      this.unsynced() +
      this.sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM flags) + (SELECT COUNT(*) FROM notes) AS n").one().n +
      this.rewards.pendingCount();
    if (more > 0) this.armDrain(now);
  }

  private stat(k: string): number {
    return this.sql.exec<{ v: number }>("SELECT v FROM stats WHERE k = ?", k).toArray()[0]?.v ?? 0;
  }

  private persistCounters(d1Statements: number, drained: boolean) {
    const add = (k: string, n: number) => n && this.sql.exec("INSERT INTO stats (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = v + excluded.v", k, n);
    add("updatesApplied", this.counters.updatesApplied);
    add("requests", this.counters.requests);
    add("d1Statements", d1Statements);
    add("drains", drained ? 1 : 0);
    this.counters = { updatesApplied: 0, requests: 0 };
  }
}
