// The reward half of a progress shard. Claims are decided where the authoritative progress lives, serialized
// per shard, and recorded before any reward leaves: a claim row is the grant, and its delivery is retried until it
// reaches the player's inventory (or inbox). A player can never get a milestone twice, nor lose one they earned.
import { notificationStatements } from "../../db/notifications";
import type { ClaimRow } from "../../db/rewards";
import type { EventInfo } from "../../domain/progress";
import { notificationFrame, notificationRow, unclaimedNotice, type NotificationRow } from "../../domain/notifications";
import { decideClaim, milestoneStates, receiptClaims, unclaimed, type ClaimDecision, type ClaimReceipt, type ClaimSource, type ReceiptFields } from "../../domain/rewards";
import { iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import { signReceipt } from "../../lib/receipts";
import { readConfig } from "../../config";
import type { ClaimOutcome, DeliveryOutcome, Grant, UnclaimedNotice, UnclaimedWarning } from "../contracts";
import { playerInventoryActor } from "../stubs";
import type { ShardLive } from "./live";
import type { ShardOutbox } from "./outbox";

type ClaimRecord = { receipt: ClaimReceipt; source: ClaimSource; delivery: DeliveryOutcome | null };
const DELIVERY_CONCURRENCY = 8;

/** A claim as rewards_claimed keeps it. */
export function claimRow(receipt: ClaimReceipt, source: ClaimSource): ClaimRow {
  return {
    claimId: receipt.claimId,
    playerId: receipt.playerId,
    eventId: receipt.eventId,
    milestoneIndex: receipt.milestoneIndex,
    rewards: JSON.stringify(receipt.rewards),
    source,
    // The column holds the receipt's proof: the JWS for receipts issued now, the hex HMAC for older ones.
    signature: receipt.jws ?? receipt.signature ?? "",
    claimedAt: Date.parse(receipt.claimedAt),
  };
}

export class ShardRewards {
  private readonly rate = new Map<string, number[]>();
  /** (player, milestone) claims being signed: decided, not written yet (a grant arriving meanwhile must see them). */
  private readonly claiming = new Set<string>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly outbox: ShardOutbox,
  ) {}

  list(info: EventInfo, playerId: string, unlocked: readonly number[] | null) {
    return milestoneStates(info.milestones, unlocked ?? [], this.claimsOf(playerId));
  }

  async claim(info: EventInfo, playerId: string, unlocked: readonly number[] | null, index: number, key: string, now: number): Promise<Result<ClaimOutcome>> {
    const decide = (rate: { hits: number[]; perMinute: number } | null) =>
      decideClaim({ info, unlocked, claims: this.claimsOf(playerId), keyUsed: this.byKey(playerId, key), rate, index, now });
    const first = decide({ hits: this.rate.get(playerId) ?? [], perMinute: readConfig(this.env).claimRateLimitPerMinute });
    if (first.hits) this.rate.set(playerId, first.hits);
    if (first.verdict !== "grant") return answer(first);

    const receipt = await this.signing(playerId, index, { playerId, eventId: info.eventId, milestoneIndex: index, rewards: first.milestone.rewards, claimedAt: iso(now) });
    // Signing awaited, so a racing claim may have landed meanwhile: decide again, synchronously, before writing.
    const second = decide(null);
    if (second.verdict !== "grant") return answer(second);
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
  async autoClaim(info: EventInfo, players: Iterable<[string, number[]]>, now: number): Promise<{ claimed: number; undelivered: number }> {
    let claimed = 0;
    for (const [playerId, unlocked] of players) {
      for (const index of unclaimed(unlocked, this.claimsOf(playerId))) {
        const milestone = info.milestones.find((m) => m.index === index);
        if (!milestone) continue;
        const receipt = await this.signing(playerId, index, { playerId, eventId: info.eventId, milestoneIndex: index, rewards: milestone.rewards, claimedAt: iso(now) });
        if (this.claimsOf(playerId).has(index)) continue;
        this.storage.transactionSync(() => this.insertClaim(playerId, index, receipt, "auto_claim"));
        claimed++;
      }
    }
    const undelivered = await this.deliverPending(500);
    return { claimed, undelivered };
  }

  /** Hands undelivered grants to the players' inventories; what fails stays pending for the next drain. */
  async deliverPending(limit: number): Promise<number> {
    const pending = this.sql
      .exec<{ player_id: string; milestone_index: number }>("SELECT player_id, milestone_index FROM claims WHERE delivery IS NULL LIMIT ?", limit)
      .toArray();
    for (let i = 0; i < pending.length; i += DELIVERY_CONCURRENCY) {
      await Promise.all(pending.slice(i, i + DELIVERY_CONCURRENCY).map((p) => this.deliver(p.player_id, p.milestone_index)));
    }
    return this.undelivered();
  }

  undelivered(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM claims WHERE delivery IS NULL").one().n;
  }

  /** The warning for everyone here who still has unclaimed, unlocked milestones: its notice and record row each. */
  unclaimedNotices(info: EventInfo, players: Iterable<[string, number[]]>, type: UnclaimedWarning, opts: UnclaimedNotice, now: number) {
    const out: { notice: ReturnType<typeof unclaimedNotice>; row: NotificationRow }[] = [];
    for (const [playerId, unlocked] of players) {
      const left = unclaimed(unlocked, this.claimsOf(playerId));
      if (!left.length) continue;
      const notice = unclaimedNotice(type, { eventId: info.eventId, name: opts.eventName, endTime: info.endTime }, playerId, left, opts);
      out.push({ notice, row: notificationRow(notice, now) });
    }
    return out;
  }

  /** The same warnings sent: due rows in D1, and live frames to the players' sockets. */
  async warnUnclaimed(info: EventInfo, players: Iterable<[string, number[]]>, type: UnclaimedWarning, opts: UnclaimedNotice, live: ShardLive, now: number): Promise<string[]> {
    const notices = this.unclaimedNotices(info, players, type, opts, now);
    if (notices.length) await this.env.DB.batch(notificationStatements(this.env.DB, notices.map((n) => n.row)));
    for (const { notice } of notices) live.broadcast(notificationFrame(notice, now), notice.playerId!);
    return notices.map((n) => n.notice.playerId!);
  }

  /** Is the milestone claimed, or being claimed (its receipt signing, with the rewards it was decided with)? */
  taken(playerId: string, index: number): boolean {
    return this.claiming.has(`${playerId}\u0000${index}`) || this.sql.exec("SELECT 1 FROM claims WHERE player_id = ? AND milestone_index = ?", playerId, index).toArray().length > 0;
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  /** sign(), with the claim marked as taken while it awaits. */
  private async signing(playerId: string, index: number, fields: Omit<ReceiptFields, "claimId">): Promise<ClaimReceipt> {
    const id = `${playerId}\u0000${index}`;
    this.claiming.add(id);
    try {
      return await this.sign(fields);
    } finally {
      this.claiming.delete(id);
    }
  }

  private async sign(fields: Omit<ReceiptFields, "claimId">): Promise<ClaimReceipt> {
    const unsigned = { claimId: `clm_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, ...fields };
    return { ...unsigned, jws: await signReceipt(this.env.RECEIPT_SIGNING_KEY, receiptClaims(unsigned, readConfig(this.env).calendarDomain)) };
  }

  /** The grant and its row for D1, in one write: the outbox projects it with the next drain. */
  private insertClaim(playerId: string, index: number, receipt: ClaimReceipt, source: ClaimSource) {
    this.sql.exec(
      "INSERT INTO claims (player_id, milestone_index, claim_id, receipt, source) VALUES (?, ?, ?, ?, ?)",
      playerId,
      index,
      receipt.claimId,
      JSON.stringify(receipt),
      source,
    );
    this.outbox.claim(claimRow(receipt, source));
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

  /** Was this Idempotency-Key used for a claim that landed? Its replay answers the same, whatever holds them now. */
  usedKey(playerId: string, key: string): boolean {
    return this.byKey(playerId, key) !== null;
  }

  private byKey(playerId: string, key: string): { index: number; claim: ClaimRecord } | null {
    const row = this.sql.exec<{ milestone_index: number }>("SELECT milestone_index FROM claim_keys WHERE player_id = ? AND key = ?", playerId, key).toArray()[0];
    if (!row) return null;
    const claim = this.claimsOf(playerId).get(row.milestone_index);
    return claim ? { index: row.milestone_index, claim } : null;
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
      // The grant is already recorded; the shard's next drain hands it over again later.
      console.error(JSON.stringify({ msg: "reward hand-off failed", claimId: r.claimId, error: String(err) }));
      return null;
    }
  }
}

/** A decision that is not a grant, as the RPC's answer. */
function answer(d: Exclude<ClaimDecision<ClaimRecord>, { verdict: "grant" }>): Result<ClaimOutcome> {
  return d.verdict === "replay" ? ok({ ...d.claim, replayed: true }) : fail(d.status, d.code, d.message, d.details);
}
