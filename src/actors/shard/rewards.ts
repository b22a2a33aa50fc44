// The reward half of a progress shard. Claims are decided where the authoritative progress lives, serialized
// per shard, and recorded before any reward leaves: a claim row is the grant, and its delivery is retried until it
// reaches the player's inventory (or inbox). A player can never get a milestone twice, nor lose one they earned.
import type { ClaimRow } from "../../db/rewards";
import type { NotificationRow } from "../../domain/notifications";
import type { EventInfo, ProgressState } from "../../domain/progress";
import { notificationId } from "../../domain/notifications";
import {
  claimWindow,
  milestoneStates,
  rateLimit,
  receiptPayload,
  type ClaimReceipt,
  type ClaimSource,
} from "../../domain/rewards";
import { GRACE_PERIOD_MS } from "../../domain/lifecycle";
import { fail, ok, type Result } from "../../lib/result";
import { hmacHex } from "../../lib/hmac";
import { readConfig } from "../../config";
import type { DeliveryOutcome, Grant } from "../contracts";
import { playerInventoryActor } from "../stubs";

type ClaimRecord = { receipt: ClaimReceipt; source: ClaimSource; delivery: DeliveryOutcome | null };
const DELIVERY_CONCURRENCY = 8;

export class ShardRewards {
  private readonly rate = new Map<string, number[]>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
  ) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS claims (player_id TEXT NOT NULL, milestone_index INTEGER NOT NULL, claim_id TEXT NOT NULL UNIQUE,
        receipt TEXT NOT NULL, source TEXT NOT NULL, delivery TEXT, projected INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (player_id, milestone_index));
      CREATE TABLE IF NOT EXISTS claim_keys (player_id TEXT NOT NULL, key TEXT NOT NULL, milestone_index INTEGER NOT NULL,
        PRIMARY KEY (player_id, key));
    `);
  }

  list(info: EventInfo, playerId: string, state: ProgressState | null) {
    return milestoneStates(info.milestones, state?.unlockedMilestones ?? [], this.claimsOf(playerId));
  }

  async claim(
    info: EventInfo,
    playerId: string,
    state: ProgressState | null,
    index: number,
    key: string,
    now: number,
  ): Promise<Result<ClaimRecord & { replayed: boolean }>> {
    const replay = this.byKey(playerId, key);
    if (replay) return replay.index === index ? ok({ ...replay.record, replayed: true }) : fail(422, "idempotency_key_reused", `this Idempotency-Key was already used for milestone ${replay.index}`);
    const window = claimWindow(info, now);
    if (!window.open) return fail(window.status, window.status === 410 ? "claim_window_closed" : "event_not_active", window.reason, { state: info.state });
    const limited = rateLimit(this.rate.get(playerId) ?? [], now, readConfig(this.env).claimRateLimitPerMinute);
    this.rate.set(playerId, limited.hits);
    if (!limited.allowed) return fail(429, "rate_limited", "too many claims; slow down", { retryAfter: limited.retryAfter });
    const milestone = info.milestones.find((m) => m.index === index);
    if (!milestone) return fail(404, "milestone_not_found", `this event has no milestone ${index}`);
    const existing = this.claimsOf(playerId).get(index);
    if (existing) return fail(409, "already_claimed", "this milestone was already claimed", { receipt: existing.receipt });
    // Eligibility comes from this shard's own progress record, never from anything the client sent.
    if (!state?.unlockedMilestones.includes(index)) return fail(409, "milestone_locked", `milestone ${index} is not unlocked yet`);

    const receipt = await this.sign({ playerId, eventId: info.eventId, milestoneIndex: index, rewards: milestone.rewards, claimedAt: new Date(now).toISOString() });
    // Signing awaited, so a racing claim may have landed meanwhile: decide again, synchronously, before writing.
    const raced = this.byKey(playerId, key);
    if (raced) return raced.index === index ? ok({ ...raced.record, replayed: true }) : fail(422, "idempotency_key_reused", "this Idempotency-Key was already used");
    const won = this.claimsOf(playerId).get(index);
    if (won) return fail(409, "already_claimed", "this milestone was already claimed", { receipt: won.receipt });
    this.storage.transactionSync(() => {
      this.insertClaim(playerId, index, receipt, "claim");
      this.sql.exec("INSERT INTO claim_keys (player_id, key, milestone_index) VALUES (?, ?, ?)", playerId, key, index);
    });
    const delivery = await this.deliver(playerId, index);
    return ok({ receipt, source: "claim", delivery, replayed: false });
  }

  /**
   * Claims every earned, unclaimed milestone of every player in this shard, as the seed's auto-claim asks. Each
   * claim row is keyed by (player, milestone), so running this twice grants nothing twice.
   */
  async autoClaim(info: EventInfo, players: Iterable<[string, ProgressState]>, now: number): Promise<{ claimed: number; undelivered: number }> {
    let claimed = 0;
    for (const [playerId, state] of players) {
      const have = this.claimsOf(playerId);
      for (const index of state.unlockedMilestones) {
        if (have.has(index)) continue;
        const milestone = info.milestones.find((m) => m.index === index);
        if (!milestone) continue;
        const receipt = await this.sign({ playerId, eventId: info.eventId, milestoneIndex: index, rewards: milestone.rewards, claimedAt: new Date(now).toISOString() });
        if (this.claimsOf(playerId).has(index)) continue;
        this.insertClaim(playerId, index, receipt, "auto_claim");
        claimed++;
      }
    }
    const undelivered = await this.deliverPending(500);
    return { claimed, undelivered };
  }

  /** Hands undelivered grants to the players' inventories; what fails stays pending for the next alarm. */
  async deliverPending(limit: number): Promise<number> {
    const pending = this.sql
      .exec<{ player_id: string; milestone_index: number }>("SELECT player_id, milestone_index FROM claims WHERE delivery IS NULL LIMIT ?", limit)
      .toArray();
    for (let i = 0; i < pending.length; i += DELIVERY_CONCURRENCY) {
      await Promise.all(pending.slice(i, i + DELIVERY_CONCURRENCY).map((p) => this.deliver(p.player_id, p.milestone_index)));
    }
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM claims WHERE delivery IS NULL").one().n;
  }

  /** Per-player notification rows for everyone here who still has unclaimed, unlocked milestones. */
  unclaimedNotifications(
    info: EventInfo,
    players: Iterable<[string, ProgressState]>,
    type: "expiration_warning" | "auto_claim_warning",
    text: { title: string; body: string },
    now: number,
  ): NotificationRow[] {
    const rows: NotificationRow[] = [];
    for (const [playerId, state] of players) {
      const have = this.claimsOf(playerId);
      const unclaimed = state.unlockedMilestones.filter((i) => !have.has(i));
      if (!unclaimed.length) continue;
      rows.push({
        notificationId: notificationId(info.eventId, type, playerId),
        eventId: info.eventId,
        type,
        playerId,
        scheduledTime: now,
        payload: JSON.stringify({ ...text, display: "popup", unclaimedMilestones: unclaimed, autoClaimAt: new Date(info.endTime + GRACE_PERIOD_MS).toISOString() }),
        createdAt: now,
      });
    }
    return rows;
  }

  unprojected(): { rows: ClaimRow[]; ids: string[] } {
    const raw = this.sql.exec<{ claim_id: string; receipt: string; source: string }>("SELECT claim_id, receipt, source FROM claims WHERE projected = 0 LIMIT 2000").toArray();
    return {
      ids: raw.map((r) => r.claim_id),
      rows: raw.map((r) => {
        const receipt = JSON.parse(r.receipt) as ClaimReceipt;
        return {
          claimId: receipt.claimId,
          playerId: receipt.playerId,
          eventId: receipt.eventId,
          milestoneIndex: receipt.milestoneIndex,
          rewards: JSON.stringify(receipt.rewards),
          source: r.source,
          signature: receipt.signature,
          claimedAt: Date.parse(receipt.claimedAt),
        };
      }),
    };
  }

  markProjected(ids: string[]) {
    for (const id of ids) this.sql.exec("UPDATE claims SET projected = 1 WHERE claim_id = ?", id);
  }

  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM claims WHERE projected = 0 OR delivery IS NULL").one().n;
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private async sign(fields: Omit<ClaimReceipt, "signature" | "claimId">): Promise<ClaimReceipt> {
    const unsigned = { claimId: `clm_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, ...fields };
    return { ...unsigned, signature: await hmacHex(this.env.REWARD_SIGNING_SECRET, receiptPayload(unsigned)) };
  }

  private insertClaim(playerId: string, index: number, receipt: ClaimReceipt, source: ClaimSource) {
    this.sql.exec(
      "INSERT INTO claims (player_id, milestone_index, claim_id, receipt, source) VALUES (?, ?, ?, ?, ?)",
      playerId,
      index,
      receipt.claimId,
      JSON.stringify(receipt),
      source,
    );
  }

  private claimsOf(playerId: string): Map<number, ClaimRecord> {
    const rows = this.sql
      .exec<{ milestone_index: number; receipt: string; source: ClaimSource; delivery: string | null }>(
        "SELECT milestone_index, receipt, source, delivery FROM claims WHERE player_id = ?",
        playerId,
      )
      .toArray();
    return new Map(rows.map((r) => [r.milestone_index, { receipt: JSON.parse(r.receipt), source: r.source, delivery: r.delivery ? JSON.parse(r.delivery) : null }]));
  }

  private byKey(playerId: string, key: string): { index: number; record: ClaimRecord } | null {
    const row = this.sql.exec<{ milestone_index: number }>("SELECT milestone_index FROM claim_keys WHERE player_id = ? AND key = ?", playerId, key).toArray()[0];
    if (!row) return null;
    const record = this.claimsOf(playerId).get(row.milestone_index);
    return record ? { index: row.milestone_index, record } : null;
  }

  private async deliver(playerId: string, index: number): Promise<DeliveryOutcome | null> {
    const record = this.claimsOf(playerId).get(index);
    if (!record) return null;
    if (record.delivery && record.delivery.outcome !== "retrying") return record.delivery;
    const r = record.receipt;
    const grant: Grant = { claimId: r.claimId, playerId, eventId: r.eventId, milestoneIndex: index, rewards: r.rewards, source: record.source === "auto_claim" ? "auto_claim" : "claim", receipt: r };
    try {
      const outcome = await playerInventoryActor(this.env, playerId).deliver(grant);
      this.sql.exec("UPDATE claims SET delivery = ? WHERE claim_id = ?", JSON.stringify(outcome), r.claimId);
      return outcome;
    } catch (err) {
      // The grant is already recorded; the shard's alarm hands it over again later.
      console.error(JSON.stringify({ msg: "reward hand-off failed", claimId: r.claimId, error: String(err) }));
      return null;
    }
  }
}
