// The seed's Reward Distribution rules: when a milestone may be claimed, what a receipt says, how long an
// overflow inbox item lives, and how fast one player may claim.
import { GRACE_PERIOD_MS } from "./lifecycle";
import { DAY_MS, MINUTE_MS, SECOND_MS } from "./time";
import type { Milestone, RewardData } from "./model";

export const INBOX_TTL_MS = 30 * DAY_MS;

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
/**
 * A receipt: its fields in the clear, and the proof. Receipts issued now carry `jws`, a compact JWS over
 * receiptClaims() signed with the deployment's asymmetric key (src/lib/receipts.ts). Receipts issued before carry
 * `signature`, a hex HMAC-SHA256 of receiptPayload() with REWARD_SIGNING_SECRET; they are kept as issued, so both
 * forms stay verifiable.
 */
export type ClaimReceipt = ReceiptFields & { jws?: string; signature?: string };

/**
 * The JWS payload of a receipt: the receipt's own fields, plus the registered claims a stock JWT library knows
 * (`iss` the deployment, `jti` the claim id, `sub` the player, `iat` the claim time in seconds), so a verifier can
 * insist the receipt is this deployment's and not another's signed with a key it also trusts. No `exp`: a receipt
 * does not expire.
 */
export function receiptClaims(r: ReceiptFields, issuer: string): Record<string, unknown> {
  const { claimId, playerId, eventId, milestoneIndex, rewards, claimedAt } = r;
  return { iss: issuer, jti: claimId, sub: playerId, iat: Math.floor(Date.parse(claimedAt) / 1000), claimId, playerId, eventId, milestoneIndex, rewards, claimedAt };
}

/**
 * The bytes a legacy (HMAC) receipt signature covers: JSON with object keys sorted at every depth and no whitespace.
 * Kept so receipts issued before the JWS form stay verifiable.
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
  const recent = hits.filter((t) => t > now - MINUTE_MS);
  if (recent.length >= perMinute) return { allowed: false, retryAfter: Math.max(1, Math.ceil((recent[0] + MINUTE_MS - now) / SECOND_MS)), hits: recent };
  return { allowed: true, retryAfter: 0, hits: [...recent, now] };
}

/** A claim refused, with the API's status and code. */
export type ClaimRefusal = { verdict: "refuse"; status: 404 | 409 | 410 | 422 | 429; code: string; message: string; details?: Record<string, unknown> };
/**
 * What to do with a claim: refuse it, answer with the claim this Idempotency-Key already made, or grant the milestone.
 * `hits` is the limiter's new state whenever this decision counted the request against the player's rate.
 */
export type ClaimDecision<C> = (ClaimRefusal | { verdict: "replay"; claim: C } | { verdict: "grant"; milestone: Milestone }) & { hits?: number[] };

export type ClaimInput<C> = {
  info: { state: string; endTime: number; milestones: Milestone[] };
  /** The player's unlocked milestones from the shard's own progress record, never from the client; null if not joined. */
  unlocked: readonly number[] | null;
  /** The player's claims, by milestone index. */
  claims: ReadonlyMap<number, C>;
  /** The milestone this Idempotency-Key was already used for, and the claim it made. */
  keyUsed: { index: number; claim: C } | null;
  /** The limiter's recent hits and limit; null when this request was already counted (the decision after signing). */
  rate: { hits: number[]; perMinute: number } | null;
  index: number;
  now: number;
};

/**
 * The one claim decision. The shard makes it before signing and again, synchronously, after signing and before
 * writing: signing awaits, so a racing claim may have landed meanwhile, and the second decision is what makes racing
 * claims safe. Given the same event, progress and clock, only `claims` and `keyUsed` can change its answer.
 */
export function decideClaim<C extends { receipt: unknown }>(input: ClaimInput<C>): ClaimDecision<C> {
  const { info, index, now } = input;
  const refuse = (status: ClaimRefusal["status"], code: string, message: string, details?: Record<string, unknown>): ClaimRefusal => ({
    verdict: "refuse",
    status,
    code,
    message,
    ...(details ? { details } : {}),
  });
  if (input.keyUsed) {
    return input.keyUsed.index === index
      ? { verdict: "replay", claim: input.keyUsed.claim }
      : refuse(422, "idempotency_key_reused", `this Idempotency-Key was already used for milestone ${input.keyUsed.index}`);
  }
  const window = claimWindow(info, now);
  if (!window.open) return refuse(window.status, window.status === 410 ? "claim_window_closed" : "event_not_active", window.reason, { state: info.state });
  let hits: number[] | undefined;
  if (input.rate) {
    const limited = rateLimit(input.rate.hits, now, input.rate.perMinute);
    hits = limited.hits;
    if (!limited.allowed) return { ...refuse(429, "rate_limited", "too many claims; slow down", { retryAfter: limited.retryAfter }), hits };
  }
  const counted = <D extends ClaimDecision<C>>(d: D): D => (hits ? { ...d, hits } : d);
  const milestone = info.milestones.find((m) => m.index === index);
  if (!milestone) return counted(refuse(404, "milestone_not_found", `this event has no milestone ${index}`));
  const existing = input.claims.get(index);
  if (existing) return counted(refuse(409, "already_claimed", "this milestone was already claimed", { receipt: existing.receipt }));
  if (!input.unlocked?.includes(index)) return counted(refuse(409, "milestone_locked", `milestone ${index} is not unlocked yet`));
  return counted({ verdict: "grant", milestone });
}

/** A player's unlocked milestones not yet claimed (by hand or automatically), ascending as unlocked. */
export function unclaimed(unlocked: readonly number[], claims: { has(index: number): boolean }): number[] {
  return unlocked.filter((i) => !claims.has(i));
}
