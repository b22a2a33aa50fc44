// The statistical anti-cheat half of a progress shard (domain/anticheat.ts, domain/review.ts). The event object runs
// a rate pass now and then: it asks every shard for its partial (this shard's players' progress rates as streaming
// moments per objective), merges them, and hands the merged population back to each shard, which judges its own
// players against it and moves their review states. Nothing here runs on the progress path: a pass reads the players
// table, and only a verdict that moves a flag writes. The flag's state lives here, beside the claims it holds.
import { judgePass, partialOfRates, ratesOf, type AnticheatSettings, type PlayerRates, type Population, type Rates } from "../../domain/anticheat";
import type { FlagViewT } from "../../domain/anticheat-views";
import { isOpen, opsMove, systemMove, type ReviewMove, type ReviewState } from "../../domain/review";
import { iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import { flagsBoard } from "../../domain/leaderboard";
import type { RejectionCode } from "../../domain/progress";
import { addFlag } from "./outbox";

/** The code a statistical flag is counted under in progress_flags, beside the plausibility checks' codes. */
export const STATISTICAL_OUTLIER = "statistical_outlier";

type ReviewRow = { player_id: string; state: ReviewState; objective_id: string; rate: number; z: number; mean: number; sd: number; n: number; flagged_at: number; updated_at: number };
type LogRow = { at: number; from_state: ReviewState | null; to_state: ReviewState; cause: string; actor: string; reason: string | null };
type PlayerRow = { player_id: string; objectives: string; active_ms: number };

export type PassMoves = { flagged: string[]; escalated: string[]; dismissed: string[] };

/** What this shard sent for one pass: every player's rates then, and who was left out (held), to judge against. */
type SentPass = { rates: Map<string, Rates>; held: Set<string> };
/** Passes sent and not judged yet, kept in memory between a pass's two rounds (seconds); a few at most. */
const KEPT_PASSES = 4;

export class ShardAnticheat {
  /** (player, clan) pairs already recorded since this object woke: the hot path writes a membership once. */
  private readonly knownMembers = new Set<string>();

  /** The last pass's rates, reused while no player changed: a quiet shard is not read and parsed every minute. */
  private cached: { version: number; objectives: string; rates: Map<string, Rates> } | null = null;

  /** `version`: the players' change counter (ShardPlayers.version). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly version: () => number,
  ) {}

  private readonly sent = new Map<string, SentPass>();

  /**
   * This shard's partial of every objective's rate population for pass `passId`. Players whose rewards a flag holds
   * (open or confirmed) are left out, so cheaters neither widen the spread nor hide each other. The rates are kept,
   * so the second round judges against exactly what was sent, whatever arrived in between.
   */
  partial(objectiveIds: readonly string[], passId: string): Population {
    const held = this.holding();
    const version = this.version();
    const objectives = objectiveIds.join("\n");
    let rates = this.cached && this.cached.version === version && this.cached.objectives === objectives ? this.cached.rates : null;
    if (!rates) {
      rates = new Map<string, Rates>();
      for (const p of this.rates()) rates.set(p.playerId, ratesOf(p, objectiveIds));
      this.cached = { version, objectives, rates };
    }
    this.sent.set(passId, { rates, held });
    for (const old of this.sent.keys()) if (this.sent.size > KEPT_PASSES) this.sent.delete(old);
    return partialOfRates(included(rates, held));
  }

  /**
   * Judges every player here against the merged population of pass `passId` (domain judgePass; `rest`: the other
   * shards' partials merged, for the exact leave-one-out when a removal cancelled); writes only the moves (and their D1 flag counts).
   * Null when this shard no longer holds that pass (restarted between rounds): the event object runs it again.
   */
  judgeAll(passId: string, population: Population, rest: Population, settings: AnticheatSettings, reviewAfterMs: number, now: number): PassMoves | null {
    const pass = this.sent.get(passId);
    if (!pass) return null;
    this.sent.delete(passId);
    const moves: PassMoves = { flagged: [], escalated: [], dismissed: [] };
    const reviews = new Map(this.sql.exec<ReviewRow>("SELECT * FROM reviews").toArray().map((r) => [r.player_id, r]));
    const { verdicts } = judgePass(pass, population, rest, settings);
    for (const playerId of pass.rates.keys()) {
      const verdict = verdicts.get(playerId) ?? null;
      const current = reviews.get(playerId) ?? null;
      // Players never flagged and still within range are the common case: nothing to read or write for them.
      if (!verdict && !current) continue;
      const move = systemMove(current?.state ?? null, current?.flagged_at ?? null, verdict ? "outlier" : "normal", now, reviewAfterMs);
      // Erased between the rounds (the pass kept their rates): a move would bring the raw id back in a review row, a
      // D1 flag and board and clan holds.
      if (!move || !this.present(playerId)) continue;
      this.storage.transactionSync(() => {
        if (verdict && (move.to === "flagged" || !current)) {
          this.sql.exec(
            `INSERT INTO reviews (player_id, state, objective_id, rate, z, mean, sd, n, flagged_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (player_id) DO UPDATE SET state = excluded.state, objective_id = excluded.objective_id, rate = excluded.rate, z = excluded.z,
               mean = excluded.mean, sd = excluded.sd, n = excluded.n, flagged_at = excluded.flagged_at, updated_at = excluded.updated_at`,
            playerId, move.to, verdict.objectiveId, verdict.rate, verdict.z, verdict.mean, verdict.sd, verdict.n, now, now,
          );
          const detail = `rate ${round(verdict.rate)}/min is ${round(verdict.z)} sd above the others' mean ${round(verdict.mean)} (sd ${round(verdict.sd)}, n ${verdict.n})`;
          addFlag(this.sql, playerId, verdict.objectiveId, STATISTICAL_OUTLIER, 1, now, String(round(verdict.rate)), detail);
        } else {
          this.sql.exec("UPDATE reviews SET state = ?, updated_at = ? WHERE player_id = ?", move.to, now, playerId);
          if (verdict) this.sql.exec("UPDATE reviews SET objective_id = ?, rate = ?, z = ?, mean = ?, sd = ?, n = ? WHERE player_id = ?", verdict.objectiveId, verdict.rate, verdict.z, verdict.mean, verdict.sd, verdict.n, playerId);
        }
        this.log(playerId, current?.state ?? null, move, "system", null, now);
      });
      (move.to === "flagged" ? moves.flagged : move.to === "under_review" ? moves.escalated : moves.dismissed).push(playerId);
    }
    return moves;
  }

  /** The plausibility checks refused a request of this player: an open flag is escalated to review. */
  implausible(playerId: string, now: number): boolean {
    const current = this.row(playerId);
    if (!current) return false;
    const move = systemMove(current.state, current.flagged_at, "implausible", now, 0);
    if (!move) return false;
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE reviews SET state = ?, updated_at = ? WHERE player_id = ?", move.to, now, playerId);
      this.log(playerId, current.state, move, "system", null, now);
    });
    return true;
  }

  /** Ops clear or confirm; the move, or 404 (no flag) / 409 (already closed). Recorded with the actor and reason. */
  decide(playerId: string, on: "clear" | "confirm", actor: string, reason: string, now: number): Result<ReviewMove> {
    const current = this.row(playerId);
    const move = opsMove(current?.state ?? null, on);
    if (!move.ok) return move;
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE reviews SET state = ?, updated_at = ? WHERE player_id = ?", move.value.to, now, playerId);
      this.log(playerId, current!.state, move.value, actor, reason, now);
    });
    return move;
  }

  state(playerId: string): ReviewState | null {
    return this.row(playerId)?.state ?? null;
  }

  /** Players whose rewards wait (open flag) or are forfeit (confirmed): the sweeps that grant rewards skip them. */
  holding(): Set<string> {
    return new Set(
      this.sql
        .exec<{ player_id: string }>("SELECT player_id FROM reviews WHERE state IN ('flagged', 'under_review', 'confirmed')")
        .toArray()
        .map((r) => r.player_id),
    );
  }

  /** A claim this player may not make now: 409 while the flag is open, 403 once confirmed. */
  claimRefusal(playerId: string) {
    const state = this.state(playerId);
    if (isOpen(state)) return fail(409, "reward_held", `rewards are held while this player's statistical flag is ${state}; ops clear or confirm it`, { state });
    if (state === "confirmed") return fail(403, "reward_forfeited", "this player was confirmed as cheating in this event; their rewards are not granted", { state });
    return null;
  }

  list(state: ReviewState | null, limit: number): FlagViewT[] {
    const rows = state
      ? this.sql.exec<ReviewRow>("SELECT * FROM reviews WHERE state = ? ORDER BY flagged_at, player_id LIMIT ?", state, limit).toArray()
      : this.sql.exec<ReviewRow>("SELECT * FROM reviews ORDER BY flagged_at, player_id LIMIT ?", limit).toArray();
    return rows.map((r) => this.view(r));
  }

  get(playerId: string): Result<FlagViewT> {
    const r = this.row(playerId);
    return r ? ok(this.view(r)) : fail(404, "flag_not_found", "this player has no statistical flag in this event");
  }

  /** Called when an accepted request contributed to a clan: remembered, so a later flag can hold that clan's rewards. */
  noteClan(playerId: string, clanId: string) {
    const key = `${playerId}\n${clanId}`;
    if (this.knownMembers.has(key)) return;
    this.sql.exec("INSERT OR IGNORE INTO clan_members (player_id, clan_id) VALUES (?, ?)", playerId, clanId);
    this.knownMembers.add(key);
  }

  /** Did the plausibility checks flag this player too (a flag that holds their board and clan rewards on its own)? */
  implausiblyFlagged(playerId: string): boolean {
    return flagsBoard(this.sql.exec<{ reason: RejectionCode }>("SELECT reason FROM flag_counts WHERE player_id = ?", playerId).toArray().map((r) => ({ code: r.reason })));
  }

  clansOf(playerId: string): string[] {
    return this.sql.exec<{ clan_id: string }>("SELECT clan_id FROM clan_members WHERE player_id = ?", playerId).toArray().map((r) => r.clan_id);
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private *rates(): Generator<PlayerRates & { playerId: string }> {
    for (const r of this.sql.exec<PlayerRow>("SELECT player_id, objectives, active_ms FROM players")) {
      yield { playerId: r.player_id, objectives: JSON.parse(r.objectives), activeMs: r.active_ms };
    }
  }

  private present(playerId: string): boolean {
    return this.sql.exec("SELECT 1 FROM players WHERE player_id = ?", playerId).toArray().length > 0;
  }

  private row(playerId: string): ReviewRow | null {
    return this.sql.exec<ReviewRow>("SELECT * FROM reviews WHERE player_id = ?", playerId).toArray()[0] ?? null;
  }

  private log(playerId: string, from: ReviewState | null, move: ReviewMove, actor: string, reason: string | null, now: number) {
    this.sql.exec("INSERT INTO review_log (player_id, at, from_state, to_state, cause, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)", playerId, now, from, move.to, move.cause, actor, reason);
  }

  private view(r: ReviewRow): FlagViewT {
    const history = this.sql.exec<LogRow>("SELECT at, from_state, to_state, cause, actor, reason FROM review_log WHERE player_id = ? ORDER BY seq", r.player_id).toArray();
    return {
      playerId: r.player_id,
      state: r.state,
      objectiveId: r.objective_id,
      rate: r.rate,
      z: r.z,
      mean: r.mean,
      sd: r.sd,
      n: r.n,
      flaggedAt: iso(r.flagged_at),
      updatedAt: iso(r.updated_at),
      history: history.map((h) => ({ at: iso(h.at), from: h.from_state, to: h.to_state, cause: h.cause, actor: h.actor, reason: h.reason })),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The rates a pass's partial is made of: every player's but the held ones'. */
function* included(rates: Map<string, Rates>, held: ReadonlySet<string>): Generator<Rates> {
  for (const [playerId, r] of rates) if (!held.has(playerId)) yield r;
}

/** The sweep's players without those whose rewards a statistical flag holds. */
export function* unheld(players: Iterable<[string, number[]]>, holding: ReadonlySet<string>): Generator<[string, number[]]> {
  for (const p of players) if (!holding.has(p[0])) yield p;
}
