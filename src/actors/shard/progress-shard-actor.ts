// ProgressShardActor: one Durable Object per (event, shard), the single writer of its players' progress.
// Every accepted update is in this object's SQLite before the response leaves (the output gate holds the reply
// until the write is durable). D1 is written behind it: players whose revision is ahead of what D1 has (the outbox)
// are drained by the alarm.
import { DurableObject } from "cloudflare:workers";
import { notificationStatements } from "../../db/notifications";
import { ShardRewards } from "./rewards";
import { ShardOutbox } from "./outbox";
import { ShardLive, playerTag } from "./live";
import { notificationId, notificationText, stateChange } from "../../domain/notifications";
import { stateFrame, type ServerFrame, type StateChange } from "../../domain/live";
import { ineligibility } from "../../domain/instance";
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
} from "../../domain/progress";
import type { Player } from "../../domain/model";
import { fail, ok, type Result } from "../../lib/result";
import { eventActor } from "../stubs";
import type { ProgressShardActorRpc } from "../contracts";
import { parseShardName } from "../../domain/sharding";

type Cached = { state: ProgressState; revision: number; createdAt: number; completion: number };

/** Drain at most about once a second, or at once when this many players are waiting. */
const DRAIN_INTERVAL_MS = 1000;
const DRAIN_NOW_AT = 500;
const MAX_DRAIN_BACKOFF_MS = 60_000;
/** A shard that believes its event is still scheduled past startTime asks the event object again, this often. */
const REFRESH_EVERY_MS = 2000;

export class ProgressShardActor extends DurableObject<Env> implements ProgressShardActorRpc {
  private readonly sql: SqlStorage;
  private info: EventInfo | null = null;
  private readonly players = new Map<string, Cached>();
  /** Mirrors the stored alarm so the hot path never has to ask storage whether a drain is already booked. */
  private alarmAt: number | null = null;
  /** Players changed since the last drain, in memory only: it decides how soon to drain, not what to drain. */
  private readonly dirty = new Set<string>();
  private lastRefresh = 0;
  private drainFailures = 0;
  private readonly rewards: ShardRewards;
  private readonly outbox: ShardOutbox;
  private readonly live: ShardLive;
  /** Which event and shard this is: from the object's own name, `${eventId}:${shardNo}`. */
  private readonly address: { eventId: string; shardNo: number };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    const address = parseShardName(ctx.id.name ?? "");
    if (!address) throw new Error(`a progress shard must be addressed by its name, got "${ctx.id.name}"`);
    this.address = address;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS players (player_id TEXT PRIMARY KEY, state TEXT NOT NULL, completion REAL NOT NULL,
        revision INTEGER NOT NULL, created_at INTEGER NOT NULL, synced_revision INTEGER NOT NULL DEFAULT 0);
    `);
    // The outbox is the set of players whose revision is ahead of D1's: a partial index keeps finding them cheap,
    // and an accepted update costs one row write instead of two.
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(players)").toArray().map((c) => c.name);
    if (!columns.includes("synced_revision")) this.sql.exec("ALTER TABLE players ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0");
    this.sql.exec("CREATE INDEX IF NOT EXISTS idx_players_unsynced ON players (player_id) WHERE revision > synced_revision");
    this.rewards = new ShardRewards(this.sql, ctx.storage, env);
    this.outbox = new ShardOutbox(this.sql, ctx.storage, env, this.rewards);
    this.live = new ShardLive(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- player RPCs -----------------------------------------------------------------------------------------------

  async join(player: Player): Promise<Result<{ progress: ReturnType<typeof snapshot>; joined: boolean }>> {
    const info = await this.event();
    if (!info) return fail(404, "event_not_found", `no event with id "${this.address.eventId}"`);
    const refused = this.refusal(info, player, Date.now());
    if (refused) return refused;
    const existing = this.player(player.playerId);
    const cached = existing ?? this.admit(player.playerId, Date.now());
    return ok({ progress: snapshot(cached.state, info), joined: !existing });
  }

  async progress(player: Player, updates: ProgressUpdate[]) {
    const now = Date.now();
    const info = await this.event();
    if (!info) return fail(404, "event_not_found", `no event with id "${this.address.eventId}"`);
    const refused = this.refusal(info, player, now);
    if (refused) return refused;
    // Posting without joining joins, once the player is known to be eligible.
    const cached = this.player(player.playerId) ?? this.admit(player.playerId, now);
    const result = applyUpdates(cached.state, updates, info, now);
    if (!result.ok) {
      this.outbox.flag(player.playerId, result.rejections, now);
      this.armDrain(now);
      return fail(422, result.code, `${result.rejections.length} update(s) refused; nothing was applied`, { rejections: result.rejections });
    }
    if (result.applied.length) {
      this.store(player.playerId, { ...cached, state: result.state, revision: cached.revision + 1, completion: completion(result.state.objectives, info) });
    }
    this.outbox.countRequest(result.applied.length);
    if (result.newMilestones.length) this.announceMilestones(info, player.playerId, result.newMilestones, now);
    return ok({
      ...snapshot(result.state, info),
      newMilestones: result.newMilestones.map((i) => info.milestones[i]),
      applied: result.applied,
      duplicates: result.duplicates,
    });
  }

  async getProgress(playerId: string) {
    const info = await this.event();
    if (!info) return fail(404, "event_not_found", `no event with id "${this.address.eventId}"`);
    const cached = this.player(playerId);
    if (!cached) return fail(404, "not_joined", "this player has not joined the event");
    return ok({ playerId, ...snapshot(cached.state, info) });
  }

  // ---- live channel ----------------------------------------------------------------------------------------------

  /** The Worker forwards a socket upgrade here after checking the token; the player comes in a header it set. */
  override async fetch(request: Request): Promise<Response> {
    const player = JSON.parse(request.headers.get("X-Live-Player") ?? "null") as Player | null;
    if (!player || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a websocket upgrade", { status: 426 });
    const info = await this.event();
    if (!info || info.state === "cancelled" || info.state === "archived") return Response.json({ error: { code: "event_not_found", message: "no such event" } }, { status: 404 });
    const why = ineligibility(info, player);
    if (why) return Response.json({ error: { code: "not_eligible", message: `this event ${why}` } }, { status: 403 });
    return this.live.accept(player, stateFrame(info, "snapshot", Date.now()), request.headers.get("X-Live-Protocol"));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.live.onMessage(ws, message, (player, updates) => this.progress(player, updates) as never);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake; 1005/1006 are reserved and may not be sent back.
    if (code !== 1005 && code !== 1006) ws.close(code, reason);
  }

  /** A notification for every connected player of this shard (the event object calls each attached shard). */
  async broadcast(frame: ServerFrame): Promise<number> {
    await this.event();
    return this.live.broadcast(frame);
  }

  /** A notification for the players here who still have unclaimed rewards: due rows in D1, and live frames. */
  async notifyUnclaimed(type: "expiration_warning" | "auto_claim_warning", eventName: string): Promise<string[]> {
    const info = await this.event();
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

  async rewardStates(playerId: string) {
    const info = await this.event();
    if (!info) return fail(404, "event_not_found", `no event with id "${this.address.eventId}"`);
    return ok({ milestones: this.rewards.list(info, playerId, this.player(playerId)?.state ?? null) });
  }

  async claim(playerId: string, index: number, key: string) {
    const info = await this.event();
    if (!info) return fail(404, "event_not_found", `no event with id "${this.address.eventId}"`);
    const result = await this.rewards.claim(info, playerId, this.player(playerId)?.state ?? null, index, key, Date.now());
    if (result.ok && !result.value.replayed) this.armDrain(Date.now());
    return result;
  }

  /** Called by the event object when the grace period ends; safe to call any number of times. */
  async autoClaim() {
    const info = await this.event();
    if (!info) return { claimed: 0, undelivered: 0 };
    const result = await this.rewards.autoClaim(info, this.allPlayers(), Date.now());
    this.armDrain(Date.now());
    return result;
  }

  // ---- ops / event RPCs ------------------------------------------------------------------------------------------

  async summary() {
    await this.event();
    const rows = this.sql.exec<{ completion: number }>("SELECT completion FROM players").toArray();
    return {
      shardNo: this.address.shardNo,
      participants: rows.length,
      completions: rows.filter((r) => r.completion >= COMPLETION_THRESHOLD - 1e-9).length,
      completionValues: histogram(rows.map((r) => r.completion)),
      outboxPending: this.outbox.unsyncedPlayers(),
      flagsPending: this.outbox.pending().flags,
      ...this.outbox.stats(),
    };
  }

  /** The event object pushes every change; a copy older than the one held is ignored. */
  async syncEvent(info: EventInfo): Promise<void> {
    const held = this.info ?? this.loadInfo();
    if (held && held.revision >= info.revision) return;
    this.saveInfo(info);
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
  private async event(): Promise<EventInfo | null> {
    const at = this.address;
    let info = this.info ?? this.loadInfo();
    const now = Date.now();
    const suspicious = info && info.state === "scheduled" && now >= info.startTime && now - this.lastRefresh > REFRESH_EVERY_MS;
    if (!info || suspicious) {
      this.lastRefresh = now;
      const fetched = await eventActor(this.env, at.eventId).attachShard(at.shardNo);
      if (fetched) {
        // Compare with what is held now, not before the await: a push may have landed meanwhile.
        if (!this.info || fetched.revision > this.info.revision) this.saveInfo(fetched);
        info = this.info;
      }
    }
    return info;
  }

  /** Live frames to every socket of the player, and a feed row each (written with the next drain). */
  private announceMilestones(info: EventInfo, playerId: string, indexes: number[], now: number) {
    for (const index of indexes) {
      const milestone = info.milestones[index];
      this.live.broadcast({ type: "milestone", eventId: info.eventId, milestone: milestone as unknown as Record<string, unknown> }, playerTag(playerId));
      const text = notificationText("milestone", info.name ?? info.eventId, { milestoneIndex: index, unlockMessage: milestone.unlockMessage });
      this.outbox.note({
        notificationId: notificationId(info.eventId, "milestone", playerId, index),
        eventId: info.eventId,
        type: "milestone",
        playerId,
        scheduledTime: now,
        payload: JSON.stringify({ ...text, display: "popup", milestoneIndex: index }),
        createdAt: now,
        status: "sent", // delivered live and in the feed; milestones have no push leg
      });
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

  /**
   * Adopts a newer copy of the event, however it arrived (pushed by the event object, or fetched because this shard
   * suspected it was stale), and tells every socket when the state moved: both paths must announce it.
   */
  private saveInfo(info: EventInfo) {
    const held = this.info;
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('event', ?)", JSON.stringify(info));
    this.info = info;
    if (held && held.state !== info.state) this.live.broadcast(stateFrame(info, stateChange(held.state, info.state) as StateChange, Date.now()));
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

  private armDrain(now: number) {
    const due = this.dirty.size >= DRAIN_NOW_AT ? now : now + DRAIN_INTERVAL_MS;
    if (this.alarmAt === null || due < this.alarmAt) {
      this.alarmAt = due;
      void this.ctx.storage.setAlarm(due);
    }
  }

  private async drain(now: number) {
    // A shard that never learned of its event has nothing to write.
    if (!(this.info ?? this.loadInfo())) return;
    if (!(await this.outbox.drain(this.address.eventId))) {
      // Nothing was marked written, so nothing is lost: try again later, backing off while D1 is unwell.
      this.drainFailures++;
      this.alarmAt = now + Math.min(DRAIN_INTERVAL_MS * 2 ** (this.drainFailures - 1), MAX_DRAIN_BACKOFF_MS);
      await this.ctx.storage.setAlarm(this.alarmAt);
      return;
    }
    this.drainFailures = 0;
    this.dirty.clear();
    const p = this.outbox.pending();
    if (p.players + p.flags + p.other > 0) this.armDrain(now);
  }
}
