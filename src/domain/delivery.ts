// How a granted reward reaches a player's inventory: what the game's answer means, whether the built-in ledger has
// room, when a failed hand-off is retried and when it gives up into the overflow inbox, and when an inbox item may
// be claimed. The PlayerInventoryActor does the I/O; every decision it makes is here.
import { backoff, type BackoffPolicy } from "./backoff";
import type { RewardData } from "./model";
import { slotsFor } from "./rewards";
import { HOUR_MS, SECOND_MS } from "./time";

/** What one hand-off attempt came to: taken, refused for lack of room, or not answered (try again later). */
export type HandOff = "delivered" | "full" | "retry";

/** The game's answer to a webhook POST: 2xx delivered, 409/507 full, anything else or unreachable (null) retry. */
export function webhookAnswer(status: number | null): HandOff {
  if (status !== null && status >= 200 && status < 300) return "delivered";
  if (status === 409 || status === 507) return "full";
  return "retry";
}

/** Whether a grant fits the built-in inventory: one slot per reward line, up to the configured capacity. */
export const fitsCapacity = (slotsUsed: number, rewards: RewardData[], capacity: number): boolean => slotsUsed + slotsFor(rewards) <= capacity;

/** The built-in ledger's answer: it is always reachable, so it either has room or is full. */
export const ledgerAnswer = (slotsUsed: number, rewards: RewardData[], capacity: number): HandOff =>
  fitsCapacity(slotsUsed, rewards, capacity) ? "delivered" : "full";

export type InboxReason = "inventory_full" | "delivery_failed";
export type DeliveryStep = { kind: "deliver" } | { kind: "inbox"; reason: InboxReason } | { kind: "retry" };

/**
 * What to do with a grant after a hand-off attempt. A full inventory sends it to the inbox at once; an unanswered
 * one is retried, except on the final attempt, when it goes to the inbox so nothing earned is ever dropped.
 */
export function deliveryStep(answer: HandOff, finalAttempt: boolean): DeliveryStep {
  if (answer === "delivered") return { kind: "deliver" };
  if (answer === "full") return { kind: "inbox", reason: "inventory_full" };
  return finalAttempt ? { kind: "inbox", reason: "delivery_failed" } : { kind: "retry" };
}

// ---- queued webhook retries ---------------------------------------------------------------------------------------

/** Deliveries of a retry message (the first POST came before the first of them); the last one gives up into the inbox. */
export const MAX_DELIVERY_ATTEMPTS = 5;

/** 30 s, 1 min, 2 min… capped at an hour: a game inventory that is down for a deploy is not hammered. */
export const DELIVERY_RETRY: BackoffPolicy = { baseMs: 30 * SECOND_MS, maxMs: HOUR_MS };

/** Delay before delivery `attempt` of a retry message (1-based), in the queue's unit. */
export const retryDelaySeconds = (attempt: number): number => backoff(attempt, DELIVERY_RETRY) / SECOND_MS;

export const isFinalAttempt = (attempt: number): boolean => attempt >= MAX_DELIVERY_ATTEMPTS;

// ---- the overflow inbox -------------------------------------------------------------------------------------------

export type InboxItemState = { status: string; expiresAt: number };
export type Refusal = { status: 404 | 409 | 410 | 503; code: string; message: string };

/** A pending item past its expiry shows as expired; it is kept for audit, never deleted. */
export const inboxStatus = (item: InboxItemState, now: number): string => (item.status === "pending" && now > item.expiresAt ? "expired" : item.status);

export const INBOX_ITEM_NOT_FOUND: Refusal = { status: 404, code: "inbox_item_not_found", message: "no such inbox item" };

/** Why an inbox item may not be claimed now, or null if it may. */
export function inboxClaimRefusal(item: InboxItemState, now: number): Refusal | null {
  if (item.status === "claimed") return { status: 409, code: "already_claimed", message: "this inbox item was already claimed" };
  if (now > item.expiresAt) return { status: 410, code: "inbox_item_expired", message: "this inbox item expired 30 days after it arrived" };
  return null;
}

/**
 * Why an inbox claim's hand-off did not go through, or null if it did. Both are transient: the item stays in the
 * inbox and the claim may be repeated (with the same key) later.
 */
export function inboxHandOffRefusal(answer: HandOff): Refusal | null {
  if (answer === "full") return { status: 409, code: "inventory_full", message: "the inventory is full; the reward stays in the inbox" };
  if (answer === "retry") return { status: 503, code: "inventory_unavailable", message: "the inventory service did not answer; the reward stays in the inbox" };
  return null;
}

// ---- the built-in ledger ------------------------------------------------------------------------------------------

/**
 * A game server's acknowledgement up to cursor `since`: every entry up to it was taken into the game, which frees
 * their slots. A cursor past the newest entry is clamped to it, or it would acknowledge entries that do not exist yet
 * and switch capacity off. Acknowledgement never moves back.
 */
export function acknowledge(since: number, newest: number, acked: number): { since: number; acked: number } {
  const clamped = Math.min(since, newest);
  return { since: clamped, acked: Math.max(acked, clamped) };
}
