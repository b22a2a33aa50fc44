// The write-behind half of a progress shard: what it owes D1 and the ingest counters. Players ahead of D1 stay in
// the players table (ShardPlayers is their source), and so do anti-cheat flags, as running counts per (player,
// objective, reason) in flag_counts; milestone feed rows and claims are topics of the kit's outbox, each written by
// its table's db/ module. A drain writes all of it as one D1 batch and only then marks it written, so a failed drain
// leaves everything in place for the retry, and a retried one is harmless (revision- and count-guarded upserts,
// insert-or-ignore).
import { flagStatements, type FlagRow } from "../../db/progress";
import { claimStatements, type ClaimRow } from "../../db/rewards";
import { adaptationStatements, type AdaptationRow } from "../../db/adaptive";
import { notificationStatements } from "../../db/notifications";
import { syncHealthStatement } from "../../db/health";
import type { NotificationRow } from "../../domain/notifications";
import type { FlagCount } from "../../domain/progress";
import { Outbox, type OutboxSource } from "../kit/outbox";
import type { ShardPlayers } from "./players";

type FlagCountRow = { player_id: string; objective_id: string; reason: string; count: number; first_seen: number; last_seen: number; sample_amount: string; sample_detail: string };

export class ShardOutbox {
  private counters = { updatesApplied: 0, requests: 0 };
  private readonly outbox: Outbox;

  constructor(
    private readonly sql: SqlStorage,
    storage: DurableObjectStorage,
    private readonly players: ShardPlayers,
  ) {
    this.outbox = new Outbox(storage);
  }

  countRequest(updatesApplied: number) {
    this.counters.requests++;
    this.counters.updatesApplied += updatesApplied;
  }

  /** One refused request's flags, added to the player's counts: a write per (objective, reason), never a row per update. */
  flag(playerId: string, counts: FlagCount[], now: number) {
    for (const c of counts) addFlag(this.sql, playerId, c.objectiveId, c.reason, c.count, now, c.sampleAmount, c.sampleDetail);
  }

  /** A feed row; its id is fixed by what it announces, so announcing twice queues it once. */
  note(row: NotificationRow) {
    this.outbox.add("note", row.notificationId, row);
  }

  /** A claim's row in rewards_claimed; queued in the same transaction as the claim itself. */
  claim(row: ClaimRow) {
    this.outbox.add("claim", row.claimId, row);
  }

  /**
   * An adaptive-difficulty decision's row in adaptive_decisions; queued in the same transaction as the decision (made
   * once, so nothing re-adds it). Keyed by its time and a random part, never the player id: an erase rewrites the
   * row's player but cannot rewrite a key, and a player who comes back and is judged again gets a row of their own.
   */
  adaptation(row: AdaptationRow) {
    this.outbox.add("adapt", `${row.decidedAt}:${crypto.randomUUID()}`, row);
  }

  /** Flag counts D1 is behind on. */
  flagsPending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM flag_counts WHERE count > synced_count").one().n;
  }

  /** Rows owed to D1: players and flag counts ahead of it, and every queued topic. */
  owed(): number {
    return this.players.unsyncedCount() + this.flagsPending() + this.outbox.count();
  }

  stats() {
    const stat = (k: string) => this.sql.exec<{ v: number }>("SELECT v FROM stats WHERE k = ?", k).toArray()[0]?.v ?? 0;
    return {
      updatesApplied: stat("updatesApplied") + this.counters.updatesApplied,
      requests: stat("requests") + this.counters.requests,
      d1Statements: stat("d1Statements"),
      drains: stat("drains"),
    };
  }

  /**
   * One drain: one D1 batch. Throws if D1 refused it (nothing was marked written, the counters stay in memory); the
   * failed attempt is then reported on its own (best effort) and remembered, so the next successful drain's health
   * row adds only the failures not reported yet.
   */
  async flush(d1: D1Database, eventId: string, health?: { shard: number; failedAttempts: number; now: number }): Promise<void> {
    // The drain's health row (the alerts' progress-sync failure rate) rides in the same batch, only when it has rows.
    let real = 0;
    const counted = (source: OutboxSource): OutboxSource => (db, limit) => {
      const p = source(db, limit);
      real += p.statements.length;
      return p;
    };
    const unreported = health ? Math.max(0, health.failedAttempts - this.stat("syncFailuresReported")) : 0;
    const healthSource: OutboxSource = (db) => ({
      count: 0,
      statements: health && real > 0 ? [syncHealthStatement(db, eventId, health.shard, 1, unreported, health.now)] : [],
      markWritten: () => {},
    });
    try {
      await this.outbox.flush(d1, [
        counted(this.players.source(eventId)),
        counted(this.flagSource(eventId)),
        counted(this.outbox.source<ClaimRow>("claim", claimStatements)),
        counted(this.outbox.source<NotificationRow>("note", notificationStatements)),
        counted(this.outbox.source<AdaptationRow>("adapt", adaptationStatements)),
        healthSource,
      ]);
    } catch (err) {
      if (health && real > 0) await this.reportFailure(d1, eventId, health.shard, health.now);
      throw err;
    }
    this.sql.exec("DELETE FROM stats WHERE k = 'syncFailuresReported'");
    this.persist(real);
  }

  /** A refused drain, written alone: when D1 refuses only this shard's batch, the alert sees it during the outage. */
  private async reportFailure(d1: D1Database, eventId: string, shard: number, now: number) {
    try {
      await syncHealthStatement(d1, eventId, shard, 0, 1, now).run();
      this.sql.exec("INSERT INTO stats (k, v) VALUES ('syncFailuresReported', 1) ON CONFLICT (k) DO UPDATE SET v = v + 1");
    } catch {
      // D1 is down altogether: the failure is counted by the drain that finally lands (its stored attempt count).
    }
  }

  private stat(k: string): number {
    return this.sql.exec<{ v: number }>("SELECT v FROM stats WHERE k = ?", k).toArray()[0]?.v ?? 0;
  }

  /** Flag counts ahead of D1, written as absolute totals; one that grew while the batch was in flight stays pending. */
  private flagSource(eventId: string): OutboxSource {
    return (d1, limit) => {
      const rows = this.sql
        .exec<FlagCountRow>(
          "SELECT player_id, objective_id, reason, count, first_seen, last_seen, sample_amount, sample_detail FROM flag_counts WHERE count > synced_count LIMIT ?",
          limit,
        )
        .toArray();
      const flags = rows.map(
        (r): FlagRow => ({
          playerId: r.player_id,
          objectiveId: r.objective_id,
          reason: r.reason,
          count: r.count,
          firstSeen: r.first_seen,
          lastSeen: r.last_seen,
          sampleAmount: r.sample_amount,
          sampleDetail: r.sample_detail,
        }),
      );
      return {
        count: rows.length,
        statements: rows.length ? flagStatements(d1, eventId, flags) : [],
        markWritten: () => {
          for (const r of rows) {
            this.sql.exec(
              "UPDATE flag_counts SET synced_count = ? WHERE player_id = ? AND objective_id = ? AND reason = ? AND synced_count < ?",
              r.count,
              r.player_id,
              r.objective_id,
              r.reason,
              r.count,
            );
          }
        },
      };
    };
  }

  /** Counters live in memory between drains (the hot path writes nothing extra) and are saved with each drain. */
  private persist(d1Statements: number) {
    const add = (k: string, n: number) => n && this.sql.exec("INSERT INTO stats (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = v + excluded.v", k, n);
    add("updatesApplied", this.counters.updatesApplied);
    add("requests", this.counters.requests);
    add("d1Statements", d1Statements);
    add("drains", d1Statements > 0 ? 1 : 0);
    this.counters = { updatesApplied: 0, requests: 0 };
  }
}

/** Adds `n` refusals of one kind to a player's count; the latest becomes the sample. Also used by the schema's step 4. */
export function addFlag(sql: SqlStorage, playerId: string, objectiveId: string, reason: string, n: number, at: number, sampleAmount: string, sampleDetail: string) {
  sql.exec(
    `INSERT INTO flag_counts (player_id, objective_id, reason, count, first_seen, last_seen, sample_amount, sample_detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (player_id, objective_id, reason) DO UPDATE SET count = count + excluded.count,
       first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen),
       sample_amount = excluded.sample_amount, sample_detail = excluded.sample_detail`,
    playerId,
    objectiveId,
    reason,
    n,
    at,
    at,
    sampleAmount,
    sampleDetail,
  );
}
