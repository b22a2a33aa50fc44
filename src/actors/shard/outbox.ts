// The write-behind half of a progress shard: what it owes D1 and the ingest counters. Players ahead of D1 stay in
// the players table (ShardPlayers is their source); anti-cheat flags, milestone feed rows and claims are topics of
// the kit's outbox, each written by its table's db/ module. A drain writes all of it as one D1 batch and only then
// marks it written, so a failed drain leaves everything in place for the retry, and a retried one is harmless
// (revision-guarded upserts, insert-or-ignore).
import { flagStatements, type FlagRow } from "../../db/progress";
import { claimStatements, type ClaimRow } from "../../db/rewards";
import { notificationStatements } from "../../db/notifications";
import type { NotificationRow } from "../../domain/notifications";
import { describeValue } from "../../domain/progress";
import { Outbox } from "../kit/outbox";
import type { ShardPlayers } from "./players";

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

  flag(playerId: string, rejections: { objectiveId: string; amount: unknown; reason: string }[], now: number) {
    for (const r of rejections) {
      const row: FlagRow = {
        flagId: crypto.randomUUID(),
        playerId,
        objectiveId: describeValue(r.objectiveId).replace(/^"|"$/g, ""),
        amount: typeof r.amount === "string" ? r.amount.slice(0, 64) : describeValue(r.amount),
        reason: r.reason,
        at: now,
      };
      this.outbox.add("flag", row.flagId, row);
    }
  }

  /** A feed row; its id is fixed by what it announces, so announcing twice queues it once. */
  note(row: NotificationRow) {
    this.outbox.add("note", row.notificationId, row);
  }

  /** A claim's row in rewards_claimed; queued in the same transaction as the claim itself. */
  claim(row: ClaimRow) {
    this.outbox.add("claim", row.claimId, row);
  }

  flagsPending(): number {
    return this.outbox.count("flag");
  }

  /** Rows owed to D1: players ahead of it and every queued topic. */
  owed(): number {
    return this.players.unsyncedCount() + this.outbox.count();
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

  /** One drain: one D1 batch. Throws if D1 refused it (nothing was marked written, the counters stay in memory). */
  async flush(d1: D1Database, eventId: string): Promise<void> {
    const { statements } = await this.outbox.flush(d1, [
      this.players.source(eventId),
      this.outbox.source<FlagRow>("flag", (db, rows) => flagStatements(db, eventId, rows)),
      this.outbox.source<ClaimRow>("claim", claimStatements),
      this.outbox.source<NotificationRow>("note", notificationStatements),
    ]);
    this.persist(statements);
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
