// What a clan object holds about a player, for privacy exports and erasure (kit/player-data.ts). The member's
// contribution stays in the clan's total and member count under the player's pseudonym (the clan earned its
// milestones with it; removing it could take back rewards other members already hold). An award not handed out yet
// is not handed out. The audit log keeps its rows, naming the pseudonym.
// The shard is erased before the clans, and renames the player's unpushed contribution to the pseudonym; if it pushes
// in the gap, this clan already has a row under the pseudonym. The erase then merges the player's rows into it (the
// clan total stays the sum of its members) instead of renaming onto its primary key, which would fail every retry.
import type { PlayerTable } from "../kit/player-data";

/** A held flag (flagged, not cleared) on either row stays held on the merged row. */
const HELD = (t: string) => `(${t}.flagged = 1 AND ${t}.cleared_at IS NULL)`;
/**
 * Both rows exist and one is a confirmed cheat's (excluded): the merged member is excluded too, so what was pushed
 * under the pseudonym leaves the totals as the exclusion took the raw id's out (later pushes are ignored either way).
 */
const EXCLUDED_MERGE = `EXISTS (SELECT 1 FROM members WHERE player_id = ?1) AND EXISTS (SELECT 1 FROM members WHERE player_id IN (?1, ?2) AND excluded_at IS NOT NULL)`;

export const CLAN_PLAYER_TABLES: readonly PlayerTable[] = [
  {
    name: "member",
    table: "members",
    match: "player_id = ?2",
    erase: {
      set: "player_id = ?1",
      merge: [
        `UPDATE totals SET total = total - (SELECT SUM(a.amount) FROM member_amounts a WHERE a.player_id IN (?1, ?2) AND a.objective_id = totals.objective_id)
         WHERE objective_id IN (SELECT objective_id FROM member_amounts WHERE player_id IN (?1, ?2)) AND ${EXCLUDED_MERGE}`,
        `DELETE FROM member_amounts WHERE player_id IN (?1, ?2) AND ${EXCLUDED_MERGE}`,
        `UPDATE members AS p SET first_at = MIN(p.first_at, r.first_at), excluded_at = COALESCE(r.excluded_at, p.excluded_at),
           contribution = CASE WHEN COALESCE(r.excluded_at, p.excluded_at) IS NULL THEN p.contribution + r.contribution ELSE 0 END,
           flagged = MAX(p.flagged, r.flagged), cleared_at = CASE WHEN ${HELD("p")} OR ${HELD("r")} THEN NULL ELSE COALESCE(p.cleared_at, r.cleared_at) END
         FROM (SELECT * FROM members WHERE player_id = ?2) AS r WHERE p.player_id = ?1`,
        "DELETE FROM members WHERE player_id = ?2 AND EXISTS (SELECT 1 FROM members WHERE player_id = ?1)",
      ],
    },
  },
  {
    name: "memberAmounts",
    table: "member_amounts",
    match: "player_id = ?2",
    erase: {
      set: "player_id = ?1",
      merge: [
        `UPDATE member_amounts AS p SET amount = p.amount + r.amount
         FROM (SELECT objective_id, amount FROM member_amounts WHERE player_id = ?2) AS r WHERE p.player_id = ?1 AND p.objective_id = r.objective_id`,
        "DELETE FROM member_amounts WHERE player_id = ?2 AND objective_id IN (SELECT objective_id FROM member_amounts WHERE player_id = ?1)",
      ],
    },
  },
  {
    name: "awards",
    table: "awards",
    match: "player_id = ?2",
    erase: {
      set: "player_id = ?1, granted = 1",
      // Nothing is handed out to the pseudonym either.
      merge: ["UPDATE awards SET granted = 1 WHERE player_id = ?1 AND EXISTS (SELECT 1 FROM awards WHERE player_id = ?2)", "DELETE FROM awards WHERE player_id = ?2 AND idx IN (SELECT idx FROM awards WHERE player_id = ?1)"],
    },
  },
  { name: "audit", table: "audit", match: "player_id = ?2", erase: { set: "player_id = ?1" } },
];
