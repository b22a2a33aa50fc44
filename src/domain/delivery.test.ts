import { describe, expect, it } from "vitest";
import {
  INBOX_ITEM_NOT_FOUND,
  MAX_DELIVERY_ATTEMPTS,
  acknowledge,
  deliveryStep,
  fitsCapacity,
  inboxClaimRefusal,
  inboxHandOffRefusal,
  inboxStatus,
  isFinalAttempt,
  ledgerAnswer,
  retryDelaySeconds,
  webhookAnswer,
} from "./delivery";
import type { RewardData } from "./model";

const reward = (itemId: string): RewardData => ({ rewardId: itemId, type: "currency", itemId, quantity: 1 }) as RewardData;
const NOW = Date.UTC(2026, 11, 1);

describe("webhookAnswer", () => {
  it("2xx is delivered, 409 and 507 are full, anything else or unreachable is retried", () => {
    for (const s of [200, 201, 204, 299]) expect(webhookAnswer(s)).toBe("delivered");
    for (const s of [409, 507]) expect(webhookAnswer(s)).toBe("full");
    for (const s of [null, 100, 199, 300, 301, 400, 404, 429, 500, 502, 503]) expect(webhookAnswer(s)).toBe("retry");
  });
});

describe("capacity", () => {
  it("a grant fits when its reward lines fit in the free slots, exactly full included", () => {
    expect(fitsCapacity(3, [reward("a"), reward("b")], 5)).toBe(true);
    expect(fitsCapacity(4, [reward("a"), reward("b")], 5)).toBe(false);
    expect(fitsCapacity(0, [], 0)).toBe(true);
    expect(ledgerAnswer(3, [reward("a"), reward("b")], 5)).toBe("delivered");
    expect(ledgerAnswer(4, [reward("a"), reward("b")], 5)).toBe("full");
  });
});

describe("deliveryStep", () => {
  it("delivered is recorded, full goes to the inbox at once", () => {
    for (const last of [false, true]) {
      expect(deliveryStep("delivered", last)).toEqual({ kind: "deliver" });
      expect(deliveryStep("full", last)).toEqual({ kind: "inbox", reason: "inventory_full" });
    }
  });

  it("an unanswered hand-off is retried until the final attempt, which inboxes it", () => {
    expect(deliveryStep("retry", false)).toEqual({ kind: "retry" });
    expect(deliveryStep("retry", true)).toEqual({ kind: "inbox", reason: "delivery_failed" });
  });
});

describe("queued retries", () => {
  it("wait 30 s doubling, capped at an hour", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    expect(retryDelaySeconds(0)).toBe(30);
  });

  it("the fifth delivery of a message is the last", () => {
    expect(MAX_DELIVERY_ATTEMPTS).toBe(5);
    expect([1, 2, 3, 4, 5, 6].map(isFinalAttempt)).toEqual([false, false, false, false, true, true]);
  });
});

describe("the overflow inbox", () => {
  const pending = { status: "pending", expiresAt: NOW + 1000 };

  it("a pending item shows expired once past its expiry; claimed stays claimed", () => {
    expect(inboxStatus(pending, NOW)).toBe("pending");
    expect(inboxStatus(pending, NOW + 1000)).toBe("pending");
    expect(inboxStatus(pending, NOW + 1001)).toBe("expired");
    expect(inboxStatus({ status: "claimed", expiresAt: NOW - 1 }, NOW)).toBe("claimed");
  });

  it("claims of missing, claimed and expired items are refused, claimed before expired", () => {
    expect(INBOX_ITEM_NOT_FOUND).toMatchObject({ status: 404, code: "inbox_item_not_found" });
    expect(inboxClaimRefusal({ status: "claimed", expiresAt: NOW - 1 }, NOW)).toMatchObject({ status: 409, code: "already_claimed" });
    expect(inboxClaimRefusal({ ...pending, expiresAt: NOW - 1 }, NOW)).toMatchObject({ status: 410, code: "inbox_item_expired" });
    expect(inboxClaimRefusal(pending, NOW)).toBeNull();
  });

  it("a full or silent inventory refuses the claim transiently", () => {
    expect(inboxHandOffRefusal("delivered")).toBeNull();
    expect(inboxHandOffRefusal("full")).toMatchObject({ status: 409, code: "inventory_full" });
    expect(inboxHandOffRefusal("retry")).toMatchObject({ status: 503, code: "inventory_unavailable" });
  });
});

describe("acknowledge", () => {
  it("reading from N acknowledges up to N, never past the newest entry, never backwards", () => {
    expect(acknowledge(3, 10, 0)).toEqual({ since: 3, acked: 3 });
    expect(acknowledge(50, 10, 3)).toEqual({ since: 10, acked: 10 });
    expect(acknowledge(1, 10, 3)).toEqual({ since: 1, acked: 3 });
    expect(acknowledge(0, 0, 0)).toEqual({ since: 0, acked: 0 });
  });
});
