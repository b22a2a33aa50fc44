// A progress shard's player records: the authoritative progress of every player of this (event, shard). One row per
// player, kept in memory once read. An accepted update is one UPDATE of the columns it changed; its revision moving
// ahead of synced_revision is what puts the player in the write-behind toward D1, so no second write is needed.
import { progressStatements, type ProgressRow } from "../../db/progress";
import { participationCountsStatement } from "../../db/projection";
import { activeGain } from "../../domain/anticheat";
import { COMPLETION_THRESHOLD, newProgress, type ProgressState } from "../../domain/progress";
import type { OutboxSource } from "../kit/outbox";

export type PlayerRecord = { state: ProgressState; revision: number; createdAt: number; completion: number };

type Row = {
  objectives: string;
  unlocked_milestones: string;
  last_seq: number;
  recent: string;
  joined_at: number;
  last_updated: number;
  completion: number;
  revision: number;
  created_at: number;
};
type Unsynced = { player_id: string; objectives: string; unlocked_milestones: string; completion: number; last_seq: number; revision: number; last_updated: number; created_at: number };

export class ShardPlayers {
  private readonly cache = new Map<string, PlayerRecord>();
  /** Players changed since the last drain, in memory only: it decides how soon to drain, not what to drain. */
  readonly dirty = new Set<string>();
  /** Moves on every admission, accepted update and erasure since this object woke: what the rate pass's cache keys on. */
  version = 0;

  /** `activeGapMs`: the most one gap between a player's updates adds to their active time (statistical anti-cheat). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly activeGapMs: number,
  ) {}

  get(playerId: string): PlayerRecord | null {
    const hit = this.cache.get(playerId);
    if (hit) return hit;
    const row = this.sql
      .exec<Row>(
        "SELECT objectives, unlocked_milestones, last_seq, recent, joined_at, last_updated, completion, revision, created_at FROM players WHERE player_id = ?",
        playerId,
      )
      .toArray()[0];
    if (!row) return null;
    const state: ProgressState = {
      objectives: JSON.parse(row.objectives),
      unlockedMilestones: JSON.parse(row.unlocked_milestones),
      lastSeq: row.last_seq,
      recent: JSON.parse(row.recent),
      joinedAt: row.joined_at,
      lastUpdated: row.last_updated,
    };
    const record = { state, revision: row.revision, createdAt: row.created_at, completion: row.completion };
    this.cache.set(playerId, record);
    return record;
  }

  /** After an erasure: the cached record must not be written back. */
  forget(playerId: string): void {
    this.version++;
    this.cache.delete(playerId);
    this.dirty.delete(playerId);
  }

  admit(playerId: string, now: number): PlayerRecord {
    const record = { state: newProgress(now), revision: 1, createdAt: now, completion: 0 };
    const s = record.state;
    this.sql.exec(
      `INSERT INTO players (player_id, objectives, unlocked_milestones, last_seq, recent, joined_at, last_updated, completion, revision, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      playerId,
      JSON.stringify(s.objectives),
      JSON.stringify(s.unlockedMilestones),
      s.lastSeq,
      JSON.stringify(s.recent),
      s.joinedAt,
      s.lastUpdated,
      record.completion,
      record.revision,
      record.createdAt,
    );
    return this.remember(playerId, record);
  }

  /** One row write: the whole storage cost of an accepted request. Unlocks and the rate window only when they moved. */
  update(playerId: string, prev: PlayerRecord, state: ProgressState, completion: number): PlayerRecord {
    const record = { state, revision: prev.revision + 1, createdAt: prev.createdAt, completion };
    const unlocked = state.unlockedMilestones !== prev.state.unlockedMilestones;
    const recent = state.recent !== prev.state.recent;
    // The anti-cheat's active time rides on the same write (domain/anticheat.ts activeGain).
    const gained = activeGain(prev.state.lastUpdated, state.lastUpdated, this.activeGapMs);
    const args: SqlStorageValue[] = [JSON.stringify(state.objectives), state.lastSeq, state.lastUpdated, completion, record.revision, gained];
    if (unlocked) args.push(JSON.stringify(state.unlockedMilestones));
    if (recent) args.push(JSON.stringify(state.recent));
    this.sql.exec(
      `UPDATE players SET objectives = ?, last_seq = ?, last_updated = ?, completion = ?, revision = ?, active_ms = active_ms + ?${unlocked ? ", unlocked_milestones = ?" : ""}${recent ? ", recent = ?" : ""} WHERE player_id = ?`,
      ...args,
      playerId,
    );
    return this.remember(playerId, record);
  }

  /** Every player's unlocked milestones (for the reward sweeps): read from storage, the cache holds only the active. */
  *unlocked(): Generator<[string, number[]]> {
    for (const r of this.sql.exec<{ player_id: string; unlocked_milestones: string }>("SELECT player_id, unlocked_milestones FROM players")) {
      yield [r.player_id, JSON.parse(r.unlocked_milestones)];
    }
  }

  completions(): number[] {
    return this.sql
      .exec<{ completion: number }>("SELECT completion FROM players")
      .toArray()
      .map((r) => r.completion);
  }

  unsyncedCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM players WHERE revision > synced_revision").one().n;
  }

  /**
   * The players D1 is behind on, as an outbox source: their rows, then the event's participation counts refreshed
   * from them in the same batch. A player updated while the batch was in flight has a newer revision than the one
   * written, so stays unsynced.
   */
  source(eventId: string): OutboxSource {
    return (d1, limit) => {
      const rows = this.sql
        .exec<Unsynced>(
          "SELECT player_id, objectives, unlocked_milestones, completion, last_seq, revision, last_updated, created_at FROM players WHERE revision > synced_revision LIMIT ?",
          limit,
        )
        .toArray();
      return {
        count: rows.length,
        statements: rows.length ? [...progressStatements(d1, eventId, rows.map(progressRow)), participationCountsStatement(d1, eventId, COMPLETION_THRESHOLD)] : [],
        // One statement for the whole drain: one UPDATE per player was most of a drain's own cost.
        markWritten: () => {
          if (!rows.length) return;
          this.sql.exec(
            `UPDATE players SET synced_revision = w.revision
             FROM (SELECT j.value ->> '$[0]' AS player_id, j.value ->> '$[1]' AS revision FROM json_each(?) AS j) AS w
             WHERE players.player_id = w.player_id AND players.synced_revision < w.revision`,
            JSON.stringify(rows.map((r) => [r.player_id, r.revision])),
          );
        },
      };
    };
  }

  private remember(playerId: string, record: PlayerRecord): PlayerRecord {
    this.version++;
    this.cache.set(playerId, record);
    this.dirty.add(playerId);
    return record;
  }
}

const progressRow = (r: Unsynced): ProgressRow => ({
  playerId: r.player_id,
  objectives: r.objectives,
  unlockedMilestones: r.unlocked_milestones,
  completion: r.completion,
  lastSeq: r.last_seq,
  revision: r.revision,
  lastUpdated: r.last_updated,
  createdAt: r.created_at,
});
