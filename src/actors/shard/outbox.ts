// The write-behind half of a progress shard: what it owes D1 (players ahead of D1, anti-cheat flags, milestone feed
// rows, claims) and the ingest counters. A drain writes all of it as one D1 batch and only then marks it written, so
// a failed drain leaves everything in place for the retry, and a retried one is harmless (revision-guarded upserts,
// insert-or-ignore).
import { writeProgressBatch, type FlagRow, type ProgressRow } from "../../db/progress";
import { claimStatements } from "../../db/rewards";
import { notificationStatements } from "../../db/notifications";
import type { NotificationRow } from "../../domain/notifications";
import { COMPLETION_THRESHOLD, describeValue, type ProgressState } from "../../domain/progress";
import type { ShardRewards } from "./rewards";

const DRAIN_MAX_ROWS = 2000;
type PlayerRow = { player_id: string; state: string; completion: number; revision: number; created_at: number };

export class ShardOutbox {
  private counters = { updatesApplied: 0, requests: 0 };

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly rewards: ShardRewards,
  ) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS flags (flag_id TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS notes (notification_id TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS stats (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
    `);
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
      this.sql.exec("INSERT INTO flags (flag_id, row) VALUES (?, ?)", row.flagId, JSON.stringify(row));
    }
  }

  note(row: NotificationRow) {
    this.sql.exec("INSERT OR IGNORE INTO notes (notification_id, row) VALUES (?, ?)", row.notificationId, JSON.stringify(row));
  }

  unsyncedPlayers(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM players WHERE revision > synced_revision").one().n;
  }

  pending(): { players: number; flags: number; other: number } {
    const n = this.sql.exec<{ flags: number; notes: number }>("SELECT (SELECT COUNT(*) FROM flags) AS flags, (SELECT COUNT(*) FROM notes) AS notes").one();
    return { players: this.unsyncedPlayers(), flags: n.flags, other: n.notes + this.rewards.pendingCount() };
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

  /** One drain. Returns false if D1 refused it (nothing was marked written). */
  async drain(eventId: string): Promise<boolean> {
    const rows = this.sql
      .exec<PlayerRow>("SELECT player_id, state, completion, revision, created_at FROM players WHERE revision > synced_revision LIMIT ?", DRAIN_MAX_ROWS)
      .toArray();
    const flags = this.sql.exec<{ flag_id: string; row: string }>("SELECT flag_id, row FROM flags LIMIT ?", DRAIN_MAX_ROWS).toArray();
    await this.rewards.deliverPending(200);
    const claims = this.rewards.unprojected();
    const notes = this.sql.exec<{ notification_id: string; row: string }>("SELECT notification_id, row FROM notes LIMIT ?", DRAIN_MAX_ROWS).toArray();
    if (!rows.length && !flags.length && !claims.ids.length && !notes.length) {
      this.persist(0, false);
      return true;
    }
    let statements: number;
    try {
      const d1 = this.env.DB;
      statements = await writeProgressBatch(d1, eventId, rows.map(toProgressRow), flags.map((f) => JSON.parse(f.row)), COMPLETION_THRESHOLD, [
        ...claimStatements(d1, claims.rows),
        ...notificationStatements(d1, notes.map((n) => JSON.parse(n.row))),
      ]);
    } catch (err) {
      console.error(JSON.stringify({ msg: "progress drain failed", eventId, error: String(err) }));
      return false;
    }
    this.storage.transactionSync(() => {
      this.rewards.markProjected(claims.ids);
      for (const n of notes) this.sql.exec("DELETE FROM notes WHERE notification_id = ?", n.notification_id);
      // A player updated while the batch was in flight has a newer revision than the one written, so stays unsynced.
      for (const r of rows) this.sql.exec("UPDATE players SET synced_revision = ? WHERE player_id = ? AND synced_revision < ?", r.revision, r.player_id, r.revision);
      for (const f of flags) this.sql.exec("DELETE FROM flags WHERE flag_id = ?", f.flag_id);
    });
    this.persist(statements, true);
    return true;
  }

  /** Counters live in memory between drains (the hot path writes nothing extra) and are saved with each drain. */
  private persist(d1Statements: number, drained: boolean) {
    const add = (k: string, n: number) => n && this.sql.exec("INSERT INTO stats (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = v + excluded.v", k, n);
    add("updatesApplied", this.counters.updatesApplied);
    add("requests", this.counters.requests);
    add("d1Statements", d1Statements);
    add("drains", drained ? 1 : 0);
    this.counters = { updatesApplied: 0, requests: 0 };
  }
}

function toProgressRow(r: PlayerRow): ProgressRow {
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
}
