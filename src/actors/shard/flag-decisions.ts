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

/** When a booked "flag" row runs if the inline attempt neither finished nor failed (the object was evicted meanwhile). */
export const FLAG_RETRY_MS = 30_000;

/**
 * The shard's "flag" schedule rows (keyed by player): booked with the review move, done once the board and clans
 * were told, failed to back off and retry.
 */
export type FlagEffectRows = { book(playerId: string, now: number): void; done(playerId: string): void; failed(playerId: string, now: number, err: unknown): void };

/** The rows on the shard's own schedule (the kit's Schedule: persisted, retried with backoff). */
export function flagEffectRows(schedule: {
  ensure(kind: "flag", dueAt: number, key: string): void;
  cancel(kind: "flag", key: string): void;
  failed(kind: "flag", key: string, now: number, err: unknown): unknown;
  arm(): Promise<void>;
}): FlagEffectRows {
  return {
    book: (playerId, now) => schedule.ensure("flag", now + FLAG_RETRY_MS, playerId),
    done: (playerId) => schedule.cancel("flag", playerId),
    failed: (playerId, now, err) => {
      schedule.failed("flag", playerId, now, err);
      void schedule.arm();
    },
  };
}

export type FlagDeps = { env: Env; sql: SqlStorage; anticheat: ShardAnticheat; board: ShardBoard; effects: FlagEffectRows };

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
 * Ops clear or confirm a flag. The review state moves and a "flag" row is booked on the shard's schedule in the same
 * synchronous step (one commit), then the board and the clans are told inline. Should that fail (a board or clan
 * object unreachable), the decision stands and the row re-runs the effects with backoff until they land, so held
 * rewards are released (or the cheat banned) in the end. A repeat of the decision already taken re-runs them too and
 * answers as the first did, instead of 409. `autoClaim` grants what clearing released when the claim window closed.
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
  if (!isRepeat(deps.anticheat.state(playerId), action)) {
    const moved = deps.anticheat.decide(playerId, action, audit.actor, audit.reason, now);
    if (!moved.ok) return moved;
  }
  deps.effects.book(playerId, now);
  let done: Effects = { released: 0, board: "none", clans: 0 };
  try {
    done = await flagEffects(deps, info, playerId, autoClaim, audit);
    deps.effects.done(playerId);
  } catch (err) {
    // The row booked above retries with backoff; the answer says what landed so far.
    deps.effects.failed(playerId, Date.now(), err);
  }
  return ok({ flag: unwrapView(deps, playerId), ...done });
}

const isRepeat = (state: string | null, action: "clear" | "confirm") => (action === "clear" ? state === "cleared" : state === "confirmed");

type Effects = { released: number; board: FlagDecisionT["board"]; clans: number };

/**
 * What the player's review state asks of the board and the clans, run again safely any number of times (the "flag"
 * row's handler, and the inline attempt): cleared, their flags there are cleared and released rewards auto-claimed
 * after the window; confirmed, the board entry is banned and their contribution leaves the clans; dismissed, their
 * board and clan flags are lifted unless the plausibility checks flagged them too. Throws if an object cannot be told.
 */
export async function flagEffects(deps: FlagDeps, info: EventInfo, playerId: string, autoClaim: () => Promise<number>, audit?: Audit): Promise<Effects> {
  const state = deps.anticheat.state(playerId);
  if (state === "cleared") {
    const { board, clans } = await releaseElsewhere(deps, info, playerId, audit ?? { actor: "system", reason: "ops_clear (retried)" });
    return { released: await autoClaim(), board, clans };
  }
  if (state === "dismissed") {
    if (!deps.anticheat.implausiblyFlagged(playerId)) await releaseElsewhere(deps, info, playerId, { actor: "system", reason: "back_within_range" });
    return { released: 0, board: "none", clans: 0 };
  }
  if (state !== "confirmed") return { released: 0, board: "none", clans: 0 };
  const by = audit ?? { actor: "system", reason: "ops_confirm (retried)" };
  let board: FlagDecisionT["board"] = "none";
  let clans = 0;
  const cohortId = info.board ? deps.board.known(playerId) : null;
  // Confirmed: the board entry is banned (its score leaves the ranking and never returns); a final board refuses,
  // and the flag it holds stays uncleared, so the rank reward is never granted. Clan rewards stay held likewise.
  if (cohortId) board = (await leaderboardActor(deps.env, info.eventId, cohortId).act(playerId, "ban", by)).ok ? "banned" : "none";
  // Clans: their contribution leaves the totals (the clan's own exclusion); a clan already final keeps them held.
  for (const clanId of deps.anticheat.clansOf(playerId)) if ((await clanActor(deps.env, info.eventId, clanId).excludeMember(playerId, by)).ok) clans++;
  return { released: 0, board, clans };
}

/**
 * A pass dismissed these flags (back within range): their board and clan flags are lifted too, unless the
 * plausibility checks flagged the player there as well; that flag is still ops' to clear. A "flag" row is booked for
 * each before the first await (so in the pass's own commit); each one that lands here is done, one that fails stays
 * booked and retries.
 */
export async function dismissElsewhere(deps: FlagDeps, info: EventInfo, playerIds: string[], now: number): Promise<void> {
  for (const playerId of playerIds) deps.effects.book(playerId, now);
  const autoClaim = () => Promise.resolve(0);
  for (const playerId of playerIds) {
    try {
      await flagEffects(deps, info, playerId, autoClaim);
      deps.effects.done(playerId);
    } catch (err) {
      deps.effects.failed(playerId, Date.now(), err);
    }
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
