// The seed's Reward Distribution rules: when a milestone may be claimed, what a receipt says, how long an
// overflow inbox item lives, and how fast one player may claim.
import { GRACE_PERIOD_MS } from "./lifecycle";
import type { Milestone, RewardData } from "./model";

export const INBOX_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export type ClaimSource = "claim" | "auto_claim" | "inbox_claim";

/** Claims are open while the event runs or is paused, and through the 24 h grace period after it ends. */
export function claimWindow(info: { state: string; endTime: number }, now: number): { open: true } | { open: false; status: 409 | 410; reason: string } {
  if (info.state === "scheduled" || info.state === "failed_activation") return { open: false, status: 409, reason: "the event has not started" };
  if (info.state === "cancelled") return { open: false, status: 410, reason: "the event was cancelled" };
  if (info.state === "archived" || now > info.endTime + GRACE_PERIOD_MS) {
    return { open: false, status: 410, reason: "the claim window closed 24 h after the event ended; unclaimed rewards were auto-claimed" };
  }
  return { open: true };
}

export type MilestoneRewardState = "locked" | "claimable" | "claimed" | "auto_claimed";

export function milestoneStates<R>(
  milestones: Milestone[],
  unlocked: readonly number[],
  claims: ReadonlyMap<number, { source: ClaimSource; receipt: R }>,
) {
  return milestones.map((m) => {
    const claim = claims.get(m.index);
    const state: MilestoneRewardState = claim ? (claim.source === "auto_claim" ? "auto_claimed" : "claimed") : unlocked.includes(m.index) ? "claimable" : "locked";
    return { index: m.index, progressThreshold: m.progressThreshold, state, rewards: m.rewards, receipt: claim?.receipt ?? null };
  });
}

export type ReceiptFields = {
  claimId: string;
  playerId: string;
  eventId: string;
  milestoneIndex: number;
  rewards: RewardData[];
  claimedAt: string;
};
export type ClaimReceipt = ReceiptFields & { signature: string };

/**
 * The bytes a receipt signature covers: JSON with object keys sorted at every depth and no whitespace. Any
 * language can rebuild it, and no field can be reordered or added without breaking the signature.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function receiptPayload(r: ReceiptFields): string {
  const { claimId, playerId, eventId, milestoneIndex, rewards, claimedAt } = r;
  return canonicalJson({ claimId, playerId, eventId, milestoneIndex, rewards, claimedAt });
}

/** Slots a grant takes in a player's inventory: one per reward line. */
export const slotsFor = (rewards: RewardData[]) => rewards.length;

/**
 * A fixed-window claim limiter. Returns the seconds to wait, or 0 to go ahead. Fixed windows are coarse, but a
 * claim is a rare, deliberate act; this only has to stop a script hammering the endpoint.
 */
export function rateLimit(hits: number[], now: number, perMinute: number): { allowed: boolean; retryAfter: number; hits: number[] } {
  const recent = hits.filter((t) => t > now - 60_000);
  if (recent.length >= perMinute) return { allowed: false, retryAfter: Math.max(1, Math.ceil((recent[0] + 60_000 - now) / 1000)), hits: recent };
  return { allowed: true, retryAfter: 0, hits: [...recent, now] };
}
