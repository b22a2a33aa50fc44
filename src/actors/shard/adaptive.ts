// Adaptive difficulty in a progress shard (issue 15): the shell around domain/adaptive.ts. On each accepted update and
// on the "adapt" schedule row it asks whether a playing player is struggling; the first time one is, it decides once
// and for all (the `adaptive` row, written in the same transaction as the outbox row toward D1): a control player is
// only recorded; a treated one gets their personal targets and the assist on their first unclaimed milestone, and
// their milestones are re-evaluated at once (a newly reached one unlocks with the usual frame and reward path).
// Everything that reads a player's mechanics (updates, snapshots, claims) asks `mechanics()`; an untouched player
// costs one Map lookup.
import type { AdaptationRow } from "../../db/adaptive";
import { adjustment, currentAdjustment, inControl, personalMechanics, reevaluate, struggle, type AdaptiveSettings, type Adjustment, type AdjustedView, type Verdict } from "../../domain/adaptive";
import type { ServerFrame } from "../../domain/live";
import { snapshot, type EventInfo, type ProgressState } from "../../domain/progress";
import { iso } from "../../domain/time";
import { logLine } from "../../lib/log";
import type { ShardOutbox } from "./outbox";
import type { ShardPlayers } from "./players";

type Decision = { arm: "treated" | "control"; reason: "pace" | "stalled"; decidedAt: number; adjustment: Pick<Adjustment, "factor" | "targets" | "floors" | "assist"> | null };
type Row = { player_id: string; arm: string; reason: string; decided_at: number; factor: number | null; targets: string | null; floors: string | null; assist: string | null };

export type AdaptiveDeps = {
  players: ShardPlayers;
  outbox: ShardOutbox;
  /** Has the player claimed this milestone? The assist goes on the first they have not. */
  claimed: (playerId: string, index: number) => boolean;
  /** Books the shard's "adapt" row (kit schedule) at `at`. */
  book: (at: number) => void;
  /** The shard's usual milestone announcement (frames + feed rows), with the player's own milestones. */
  announce: (info: EventInfo, playerId: string, indexes: number[], now: number) => void;
  send: (frame: ServerFrame, playerId: string) => void;
};

/** What an accepted update left, which an adjustment may move on (more milestones, a new completion). */
export type Applied = { state: ProgressState; completion: number; newMilestones: number[] };

export class ShardAdaptive {
  private readonly decisions = new Map<string, Decision>();
  private readonly personal = new Map<string, { revision: number; info: EventInfo }>();
  /** When each player's last milestone unlocked, as read or written since waking (null: none): no read per update. */
  private readonly marks = new Map<string, number | null>();
  private booked = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly settings: AdaptiveSettings,
    private readonly deps: AdaptiveDeps,
  ) {
    // Bounded by the players who ever struggled here; read once per wake so the hot path never reads storage for it.
    for (const r of sql.exec<Row>("SELECT player_id, arm, reason, decided_at, factor, targets, floors, assist FROM adaptive")) this.decisions.set(r.player_id, fromRow(r));
  }

  /** The event as this player sees it: their own targets and assist once treated (for this version), else the event. */
  mechanics(info: EventInfo, playerId: string): EventInfo {
    const d = this.decisions.get(playerId);
    if (!d || d.arm !== "treated" || !d.adjustment) return info;
    const held = this.personal.get(playerId);
    if (held && held.revision === info.revision) return held.info;
    const own = personalMechanics(info, currentAdjustment(info, d.adjustment));
    this.personal.set(playerId, { revision: info.revision, info: own });
    return own;
  }

  /** The progress view's `adjusted`: null unless this player was adjusted; with `info`, as of that version. */
  view(playerId: string, info?: EventInfo): AdjustedView | null {
    const d = this.decisions.get(playerId);
    if (!d || d.arm !== "treated" || !d.adjustment) return null;
    const now = info ? currentAdjustment(info, d.adjustment) : d.adjustment;
    return { at: iso(d.decidedAt), reason: d.reason, factor: d.adjustment.factor, targets: now.targets, assist: now.assist };
  }

  /** Players whose assist sits on a milestone: the archive auto-claim pays them through their own view. */
  assisted(): string[] {
    return [...this.decisions].filter(([, d]) => d.arm === "treated" && d.adjustment?.assist).map(([p]) => p);
  }

  /** Erasure: the player's decision now stands under their pseudonym; if they come back they are judged afresh. */
  forget(playerId: string): void {
    this.decisions.delete(playerId);
    this.personal.delete(playerId);
    this.marks.delete(playerId);
  }

  /** After an accepted update: the stall clock, then (undecided players only) the verdict. May move `applied` on. */
  afterUpdate(info: EventInfo, playerId: string, applied: Applied, now: number): void {
    if (applied.newMilestones.length) this.mark(playerId, now);
    if (!this.settings.enabled || this.decisions.has(playerId)) return;
    if (!this.booked) {
      this.booked = true;
      this.deps.book(now + this.settings.checkEveryMs);
    }
    if (now - applied.state.joinedAt < this.settings.minElapsedMs) return;
    const verdict = this.verdict(info, playerId, applied.state, applied.completion, now);
    if (!verdict.struggling) return;
    // The actor announces every new milestone of this request, those the adjustment reached included.
    const moved = this.decide(info, playerId, verdict, now, false);
    if (moved) Object.assign(applied, { state: moved.state, completion: moved.completion, newMilestones: [...applied.newMilestones, ...moved.newMilestones] });
  }

  /** The "adapt" row: every undecided player who played recently is judged; booked again while the event runs. */
  check(info: EventInfo, now: number): number {
    // Over for good: the row stops, and the next update (if any is ever accepted) may book it again.
    if (!this.settings.enabled || now >= info.endTime || !(info.state === "active" || info.state === "paused" || info.state === "scheduled")) {
      this.booked = false;
      return 0;
    }
    // Paused (or not started): nobody is judged now, but the row keeps its turn for when the event runs again.
    if (info.state !== "active") {
      this.deps.book(now + this.settings.checkEveryMs);
      return 0;
    }
    const playing = this.sql
      .exec<{ player_id: string }>("SELECT player_id FROM players WHERE last_updated >= ? AND player_id NOT IN (SELECT player_id FROM adaptive)", now - this.settings.playingMs)
      .toArray();
    let decided = 0;
    for (const { player_id } of playing) {
      const record = this.deps.players.get(player_id);
      if (!record) continue;
      const verdict = this.verdict(info, player_id, record.state, record.completion, now);
      if (verdict.struggling && this.decide(info, player_id, verdict, now, true) !== undefined) decided++;
    }
    this.deps.book(now + this.settings.checkEveryMs);
    return decided;
  }

  private verdict(info: EventInfo, playerId: string, state: ProgressState, completion: number, now: number): Verdict {
    let mark = this.marks.get(playerId);
    if (mark === undefined) {
      mark = this.sql.exec<{ at: number }>("SELECT at FROM milestone_marks WHERE player_id = ?", playerId).toArray()[0]?.at ?? null;
      this.marks.set(playerId, mark);
    }
    const moment = { completion, unlocked: state.unlockedMilestones, joinedAt: state.joinedAt, lastUpdated: state.lastUpdated, lastMilestoneAt: mark };
    return struggle(moment, info.milestones, info.endTime, now, this.settings);
  }

  private mark(playerId: string, now: number) {
    this.sql.exec("INSERT OR REPLACE INTO milestone_marks (player_id, at) VALUES (?, ?)", playerId, now);
    this.marks.set(playerId, now);
  }

  /** Once per player: control is recorded; treated is adjusted and re-evaluated. Returns what the adjustment moved. */
  private decide(info: EventInfo, playerId: string, v: Extract<Verdict, { struggling: true }>, now: number, announce: boolean): Applied | null | undefined {
    const record = this.deps.players.get(playerId);
    if (!record || this.decisions.has(playerId)) return undefined;
    const control = inControl(playerId, this.settings.holdoutShare);
    const adj = control ? null : adjustment(info, record.state.objectives, (i) => this.deps.claimed(playerId, i), this.settings);
    const decision: Decision = { arm: control ? "control" : "treated", reason: v.reason, decidedAt: now, adjustment: adj };
    const row: AdaptationRow = {
      eventId: info.eventId,
      playerId,
      arm: decision.arm,
      reason: v.reason,
      decidedAt: now,
      completion: record.completion,
      pace: Math.round(v.pace * 1e6) / 1e6,
      factor: adj?.factor ?? null,
      targets: adj ? JSON.stringify(adj.targets) : null,
      assist: adj?.assist ? JSON.stringify(adj.assist) : null,
    };
    // The decision and its D1 row in one transaction: a retried update or a replay finds the decision and stops.
    this.sql.exec(
      "INSERT INTO adaptive (player_id, arm, reason, decided_at, completion, pace, factor, targets, floors, assist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      playerId,
      row.arm,
      row.reason,
      now,
      row.completion,
      row.pace,
      row.factor,
      row.targets,
      adj?.floors ? JSON.stringify(adj.floors) : null,
      row.assist,
    );
    this.deps.outbox.adaptation(row);
    this.decisions.set(playerId, decision);
    logLine("info", "player", control ? "struggling player held as control" : "difficulty adjusted", {
      eventId: info.eventId,
      playerId,
      reason: v.reason,
      completion: record.completion,
      projected: v.projected,
      nextThreshold: v.nextThreshold,
    });
    if (!adj) return null;
    const own = this.mechanics(info, playerId);
    const re = reevaluate(record.state.objectives, record.state.unlockedMilestones, own);
    const state = re.newMilestones.length ? { ...record.state, unlockedMilestones: [...record.state.unlockedMilestones, ...re.newMilestones].sort((a, b) => a - b) } : record.state;
    this.deps.players.update(playerId, record, state, re.completion);
    if (re.newMilestones.length) {
      this.mark(playerId, now);
      if (announce) this.deps.announce(own, playerId, re.newMilestones, now);
    }
    const progress = snapshot(state, own, re.completion) as unknown as Record<string, unknown>;
    this.deps.send({ type: "adjusted", eventId: info.eventId, adjusted: this.view(playerId)! as unknown as Record<string, unknown>, progress }, playerId);
    return { state, completion: re.completion, newMilestones: re.newMilestones };
  }
}

function fromRow(r: Row): Decision {
  const adjustment =
    r.arm === "treated" && r.targets
      ? { factor: r.factor ?? 1, targets: JSON.parse(r.targets) as Record<string, number>, floors: r.floors ? (JSON.parse(r.floors) as Record<string, number>) : null, assist: r.assist ? JSON.parse(r.assist) : null }
      : null;
  return { arm: r.arm as Decision["arm"], reason: r.reason as Decision["reason"], decidedAt: r.decided_at, adjustment };
}
