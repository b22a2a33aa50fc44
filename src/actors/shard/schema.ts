// A progress shard's own SQLite, every table of it, as ordered migrate steps (src/actors/kit/migrate.ts). Steps are
// never edited once shipped: a change is a new step at the end.
import { hasColumn, type MigrationStep } from "../kit/migrate";
import { OUTBOX_TABLE } from "../kit/outbox";
import { SCHEDULE_TABLE, bookInMigration } from "../kit/schedule";
import { UNKNOWN_OBJECTIVE, legacyReasonCode } from "../../domain/progress";

export const SHARD_SCHEMA: readonly MigrationStep[] = [
  // 1. Adopts storage made before versioning: the tables the actor, its outbox and its rewards created on the fly.
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS players (player_id TEXT PRIMARY KEY, state TEXT NOT NULL, completion REAL NOT NULL,
        revision INTEGER NOT NULL, created_at INTEGER NOT NULL, synced_revision INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS flags (flag_id TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS notes (notification_id TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS stats (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS claims (player_id TEXT NOT NULL, milestone_index INTEGER NOT NULL, claim_id TEXT NOT NULL UNIQUE,
        receipt TEXT NOT NULL, source TEXT NOT NULL, delivery TEXT, projected INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (player_id, milestone_index));
      CREATE TABLE IF NOT EXISTS claim_keys (player_id TEXT NOT NULL, key TEXT NOT NULL, milestone_index INTEGER NOT NULL,
        PRIMARY KEY (player_id, key));
    `);
    if (!hasColumn(sql, "players", "synced_revision")) sql.exec("ALTER TABLE players ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0");
    // The players whose revision is ahead of D1's are what the drain owes: a partial index keeps finding them cheap,
    // and an accepted update costs one row write instead of two.
    sql.exec("CREATE INDEX IF NOT EXISTS idx_players_unsynced ON players (player_id) WHERE revision > synced_revision");
  },

  // 2. The kit's schedule and outbox. What the old drain still owed D1 (flags, milestone feed rows, unprojected
  // claims) moves into the outbox; a drain is booked for it, and the alarm the old code set for it will run it.
  (sql) => {
    sql.exec(SCHEDULE_TABLE);
    sql.exec(OUTBOX_TABLE);
    sql.exec("INSERT OR IGNORE INTO outbox (topic, id, row) SELECT 'flag', flag_id, row FROM flags");
    sql.exec("INSERT OR IGNORE INTO outbox (topic, id, row) SELECT 'note', notification_id, row FROM notes");
    // The rewards_claimed row as the old drain wrote it, spelled out here so a later change elsewhere cannot alter this step.
    sql.exec(`INSERT OR IGNORE INTO outbox (topic, id, row)
      SELECT 'claim', receipt ->> '$.claimId', json_object(
        'claimId', receipt ->> '$.claimId', 'playerId', receipt ->> '$.playerId', 'eventId', receipt ->> '$.eventId',
        'milestoneIndex', receipt ->> '$.milestoneIndex', 'rewards', receipt -> '$.rewards', 'source', source,
        'signature', receipt ->> '$.signature', 'claimedAt', CAST(ROUND(unixepoch(receipt ->> '$.claimedAt', 'subsec') * 1000) AS INTEGER))
      FROM claims WHERE projected = 0`);
    sql.exec("DROP TABLE flags; DROP TABLE notes; ALTER TABLE claims DROP COLUMN projected");
    const owed = sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM players WHERE revision > synced_revision) AS n").one().n;
    if (owed > 0) bookInMigration(sql, "drain", 0);
  },

  // 3. A player's state in columns instead of one JSON blob: an accepted update rewrites only what it changed (the
  // rate window and the unlocked milestones rarely change), and the drain hands the objectives to D1 as stored.
  `CREATE TABLE players_v3 (player_id TEXT PRIMARY KEY, objectives TEXT NOT NULL, unlocked_milestones TEXT NOT NULL,
     last_seq INTEGER NOT NULL, recent TEXT NOT NULL, joined_at INTEGER NOT NULL, last_updated INTEGER NOT NULL,
     completion REAL NOT NULL, revision INTEGER NOT NULL, created_at INTEGER NOT NULL, synced_revision INTEGER NOT NULL DEFAULT 0);
   INSERT INTO players_v3
     SELECT player_id, json_extract(state, '$.objectives'), json_extract(state, '$.unlockedMilestones'), json_extract(state, '$.lastSeq'),
            COALESCE(json_extract(state, '$.recent'), '{}'), json_extract(state, '$.joinedAt'), json_extract(state, '$.lastUpdated'),
            completion, revision, created_at, synced_revision
     FROM players;
   DROP TABLE players;
   ALTER TABLE players_v3 RENAME TO players;
   CREATE INDEX idx_players_unsynced ON players (player_id) WHERE revision > synced_revision;`,

  // 4. Anti-cheat flags as running counts per (player, objective, reason) instead of an outbox row per refusal, which
  // let one player queue D1 rows without bound. The counts are absolute (what D1 has seen is synced_count), like the
  // players' revisions. Rows the old code queued and had not drained yet become counts here.
  (sql) => {
    sql.exec(`CREATE TABLE flag_counts (player_id TEXT NOT NULL, objective_id TEXT NOT NULL, reason TEXT NOT NULL,
      count INTEGER NOT NULL, synced_count INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      sample_amount TEXT NOT NULL, sample_detail TEXT NOT NULL, PRIMARY KEY (player_id, objective_id, reason));
      CREATE INDEX idx_flag_counts_unsynced ON flag_counts (player_id) WHERE count > synced_count;`);
    type Old = { playerId: string; objectiveId: string; amount: string; reason: string; at: number };
    const queued = sql.exec<{ row: string }>("SELECT row FROM outbox WHERE topic = 'flag' ORDER BY rowid").toArray();
    for (const { row } of queued) {
      const f = JSON.parse(row) as Old;
      const code = legacyReasonCode(f.reason);
      const objective = code === "unknown_objective" ? UNKNOWN_OBJECTIVE : f.objectiveId;
      // Spelled out rather than calling the outbox's addFlag, so a later change there cannot alter this step.
      sql.exec(
        `INSERT INTO flag_counts (player_id, objective_id, reason, count, first_seen, last_seen, sample_amount, sample_detail)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?)
         ON CONFLICT (player_id, objective_id, reason) DO UPDATE SET count = count + 1,
           first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen),
           sample_amount = excluded.sample_amount, sample_detail = excluded.sample_detail`,
        f.playerId,
        objective,
        code,
        f.at,
        f.at,
        f.amount,
        f.reason,
      );
    }
    sql.exec("DELETE FROM outbox WHERE topic = 'flag'");
  },

  // 5. The live channel's replay log: the frames a reconnecting socket may have missed, by seq (bounded by the shard).
  "CREATE TABLE live_log (seq INTEGER PRIMARY KEY, player_id TEXT, frame TEXT NOT NULL)",

  // 6. Leaderboards: each player's cohort (decided by the event's directory), score changes waiting to be pushed
  // (aggregated per player), the batch in flight per cohort with its seq (a retry re-sends it unchanged), and rank
  // rewards handed back by a finalized board.
  `CREATE TABLE board_players (player_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL);
   CREATE INDEX idx_board_players_cohort ON board_players (cohort_id);
   CREATE TABLE board_pending (player_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL, value REAL, at INTEGER NOT NULL, flagged INTEGER NOT NULL);
   CREATE TABLE board_inflight (cohort_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, batch TEXT NOT NULL);
   CREATE TABLE board_seq (cohort_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE rank_rewards (player_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL, rank INTEGER NOT NULL, reward_tier INTEGER NOT NULL, rewards TEXT NOT NULL);`,

  // 7. Clans: contributions waiting to be pushed (per player and the clan their token named), the batch in flight per
  // clan with its seq (a retry re-sends it unchanged), and clan milestone rewards handed back by a finalized clan.
  `CREATE TABLE clan_pending (player_id TEXT NOT NULL, clan_id TEXT NOT NULL, amounts TEXT NOT NULL, at INTEGER NOT NULL, flagged INTEGER NOT NULL,
     PRIMARY KEY (player_id, clan_id));
   CREATE TABLE clan_inflight (clan_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, batch TEXT NOT NULL);
   CREATE TABLE clan_seq (clan_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE clan_rewards (player_id TEXT NOT NULL, milestone_index INTEGER NOT NULL, clan_id TEXT NOT NULL, rewards TEXT NOT NULL,
     unlock_message TEXT NOT NULL, PRIMARY KEY (player_id, milestone_index));`,

  // 8. A member who switched clans mid-event may be rewarded for the same clan milestone by both clans: one row per
  // clan (the claim pays them together), where step 7 kept only the first.
  `CREATE TABLE clan_rewards_by_clan (player_id TEXT NOT NULL, milestone_index INTEGER NOT NULL, clan_id TEXT NOT NULL, rewards TEXT NOT NULL,
     unlock_message TEXT NOT NULL, PRIMARY KEY (player_id, milestone_index, clan_id));
   INSERT INTO clan_rewards_by_clan SELECT player_id, milestone_index, clan_id, rewards, unlock_message FROM clan_rewards;
   DROP TABLE clan_rewards;
   ALTER TABLE clan_rewards_by_clan RENAME TO clan_rewards;`,

  // 9. Statistical anti-cheat (actors/shard/anticheat.ts): each flagged player's review state and the verdict that
  // raised it, the log of every move (system or ops, with the reason), and the clans a player contributed to, so a
  // flag found by a rate pass (which has no token) can still hold their clan rewards.
  `CREATE TABLE reviews (player_id TEXT PRIMARY KEY, state TEXT NOT NULL, objective_id TEXT NOT NULL, rate REAL NOT NULL, z REAL NOT NULL,
     mean REAL NOT NULL, sd REAL NOT NULL, n INTEGER NOT NULL, flagged_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX idx_reviews_state ON reviews (state);
   CREATE TABLE review_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, player_id TEXT NOT NULL, at INTEGER NOT NULL, from_state TEXT,
     to_state TEXT NOT NULL, cause TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT);
   CREATE INDEX idx_review_log_player ON review_log (player_id);
   CREATE TABLE clan_members (player_id TEXT NOT NULL, clan_id TEXT NOT NULL, PRIMARY KEY (player_id, clan_id));`,

  // 10. Statistical anti-cheat's active time (domain/anticheat.ts progressRate): the sum of the capped gaps between a
  // player's accepted updates, kept up by the update's own row write. Players from before start from the span the
  // rate used until then (join to last update), the best figure they have.
  `ALTER TABLE players ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
   UPDATE players SET active_ms = MAX(0, last_updated - joined_at);`,

  // 11. Adaptive difficulty (actors/shard/adaptive.ts): each struggling player's decision, once per event (treated with
  // their personal targets and assist, or control), and when each player's last milestone unlocked (the stall clock).
  `CREATE TABLE adaptive (player_id TEXT PRIMARY KEY, arm TEXT NOT NULL, reason TEXT NOT NULL, decided_at INTEGER NOT NULL,
     completion REAL NOT NULL, pace REAL NOT NULL, factor REAL, targets TEXT, assist TEXT);
   CREATE TABLE milestone_marks (player_id TEXT PRIMARY KEY, at INTEGER NOT NULL);`,

  // 12. Adaptive difficulty's floors: the player's progress per objective when adjusted, so their targets follow an
  // edit of the event (factor × the current target, never below the floor). Null on older rows: their stored targets.
  `ALTER TABLE adaptive ADD COLUMN floors TEXT;`,

  // 13. Local-time events (actors/shard/local-time.ts): the IANA zone each player last came with, so a wave of the
  // event object reaches exactly the players whose window starts or ends at its instant.
  `CREATE TABLE player_zones (player_id TEXT PRIMARY KEY, tz TEXT NOT NULL);`,

  // 14. A player's zone is fixed for the event by the first request their window accepts: switching the tz claim
  // afterwards (Kiritimati, then Niue) would otherwise open a second window a day later.
  `ALTER TABLE player_zones ADD COLUMN fixed INTEGER NOT NULL DEFAULT 0;`,
];
