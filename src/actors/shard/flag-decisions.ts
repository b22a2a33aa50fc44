// What a statistical flag does beyond this shard, through the paths that already hold flagged players: a new flag
// marks the player flagged on their board (rank rewards held at finalization) and in each clan they contributed to
// (clan rewards held); ops clearing it clears those same flags (releasing what was held), and ops confirming it bans
// the player's board entry, so their progress leaves the ranking. One hold mechanism per room, shared with the
// plausibility checks' flags, rather than a second one.
import type { EventInfo } from "../../domain/progress";
import type { FlagDecisionT } from "../../domain/anticheat-views";
import { ok, type Result } from "../../lib/result";
import type { Audit } from "../contracts";
import { clanActor, leaderboardActor } from "../stubs";
import type { ShardAnticheat } from "./anticheat";
import type { ShardBoard } from "./board";

export type FlagDeps = { env: Env; sql: SqlStorage; anticheat: ShardAnticheat; board: ShardBoard };

/** A rate pass flagged these players: their board entry and clan memberships are flagged. Which pushes are owed. */
export function holdElsewhere(deps: FlagDeps, info: EventInfo, playerIds: string[], now: number): { cohorts: string[]; clans: boolean } {
  const cohorts = new Set<string>();
  let clans = false;
  for (const playerId of playerIds) {
    const cohort = deps.board.flag(info, playerId, now);
    if (cohort) cohorts.add(cohort);
    if (!info.clan) continue;
    for (const clanId of deps.anticheat.clansOf(playerId)) {
      // The same pending row a refused request's clan flag writes (shard/clan.ts flag); the clan holds their rewards.
      deps.sql.exec(
        `INSERT INTO clan_pending (player_id, clan_id, amounts, at, flagged) VALUES (?, ?, '{}', ?, 1)
         ON CONFLICT (player_id, clan_id) DO UPDATE SET flagged = 1`,
        playerId,
        clanId,
        now,
      );
      clans = true;
    }
  }
  return { cohorts: [...cohorts], clans };
}

/**
 * Ops clear or confirm a flag. The review state moves first (so the claims and grants that follow see it), then the
 * board and the clans are told. `autoClaim` grants what clearing released when the claim window has closed.
 */
export async function decideFlag(
  deps: FlagDeps,
  info: EventInfo,
  playerId: string,
  action: "clear" | "confirm",
  audit: Audit & { reason: string },
  autoClaim: () => Promise<number>,
  now: number,
): Promise<Result<FlagDecisionT>> {
  const moved = deps.anticheat.decide(playerId, action, audit.actor, audit.reason, now);
  if (!moved.ok) return moved;
  if (action === "clear") {
    const { board, clans } = await releaseElsewhere(deps, info, playerId, audit);
    const released = await autoClaim();
    return ok({ flag: unwrapView(deps, playerId), released, board, clans });
  }
  let board: FlagDecisionT["board"] = "none";
  let clans = 0;
  const cohortId = info.board ? deps.board.known(playerId) : null;
  // Confirmed: the board entry is banned (its score leaves the ranking and never returns); a final board refuses,
  // and the flag it holds stays uncleared, so the rank reward is never granted. Clan rewards stay held likewise.
  if (cohortId) board = (await leaderboardActor(deps.env, info.eventId, cohortId).act(playerId, "ban", audit)).ok ? "banned" : "none";
  // Clans: their contribution leaves the totals (the clan's own exclusion); a clan already final keeps them held.
  for (const clanId of deps.anticheat.clansOf(playerId)) if ((await clanActor(deps.env, info.eventId, clanId).excludeMember(playerId, audit)).ok) clans++;
  return ok({ flag: unwrapView(deps, playerId), released: 0, board, clans });
}

/**
 * A pass dismissed these flags (back within range): their board and clan flags are lifted too, unless the
 * plausibility checks flagged the player there as well; that flag is still ops' to clear.
 */
export async function dismissElsewhere(deps: FlagDeps, info: EventInfo, playerIds: string[]): Promise<void> {
  for (const playerId of playerIds) {
    if (!deps.anticheat.implausiblyFlagged(playerId)) await releaseElsewhere(deps, info, playerId, { actor: "system", reason: "back_within_range" });
  }
}

/** The board's and the clans' flags of this player cleared (their clear-flag paths release what they held). */
async function releaseElsewhere(deps: FlagDeps, info: EventInfo, playerId: string, audit: Audit): Promise<{ board: FlagDecisionT["board"]; clans: number }> {
  // A flag not pushed yet must not reach the board or a clan after it was cleared here.
  deps.sql.exec("UPDATE board_pending SET flagged = 0 WHERE player_id = ?", playerId);
  deps.sql.exec("UPDATE clan_pending SET flagged = 0 WHERE player_id = ?", playerId);
  const cohortId = info.board ? deps.board.known(playerId) : null;
  const board = cohortId && (await leaderboardActor(deps.env, info.eventId, cohortId).act(playerId, "clear_flag", audit)).ok ? "cleared" : "none";
  let clans = 0;
  for (const clanId of deps.anticheat.clansOf(playerId)) if ((await clanActor(deps.env, info.eventId, clanId).clearFlag(playerId, audit)).ok) clans++;
  return { board, clans };
}

function unwrapView(deps: FlagDeps, playerId: string) {
  const v = deps.anticheat.get(playerId);
  if (!v.ok) throw new Error("flag vanished while deciding it");
  return v.value;
}
