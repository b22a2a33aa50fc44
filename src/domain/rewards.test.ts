import { describe, expect, it } from "vitest";
import { GRACE_PERIOD_MS } from "./lifecycle";
import type { Milestone } from "./model";
import { decideClaim, rateLimit, unclaimed, type ClaimInput } from "./rewards";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MILESTONES: Milestone[] = [
  { index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "c", type: "currency", itemId: "coins", quantity: 1, rarity: "common", isExclusive: false }], unlockMessage: "" },
  { index: 1, progressThreshold: 1, rewards: [], unlockMessage: "" },
];
type Claim = { receipt: { claimId: string } };
const claimed = (index: number, claimId = `clm_${index}`): [number, Claim] => [index, { receipt: { claimId } }];

function input(over: Partial<ClaimInput<Claim>> = {}): ClaimInput<Claim> {
  return {
    info: { state: "active", endTime: T0 + 3_600_000, milestones: MILESTONES },
    unlocked: [0],
    claims: new Map(),
    keyUsed: null,
    rate: { hits: [], perMinute: 3 },
    index: 0,
    now: T0,
    ...over,
  };
}

describe("decideClaim", () => {
  it("grants an unlocked, unclaimed milestone and counts the request", () => {
    const d = decideClaim(input());
    expect(d).toMatchObject({ verdict: "grant", milestone: { index: 0 }, hits: [T0] });
  });

  it("replays the claim a key already made for the same milestone, and refuses the key for another", () => {
    const claim = { receipt: { claimId: "clm_x" } };
    expect(decideClaim(input({ keyUsed: { index: 0, claim } }))).toEqual({ verdict: "replay", claim });
    expect(decideClaim(input({ keyUsed: { index: 1, claim }, index: 0 }))).toMatchObject({ verdict: "refuse", status: 422, code: "idempotency_key_reused" });
  });

  it("a replay or a closed window is not counted against the rate", () => {
    const claim = { receipt: { claimId: "clm_x" } };
    expect(decideClaim(input({ keyUsed: { index: 0, claim } })).hits).toBeUndefined();
    const closed = decideClaim(input({ info: { state: "scheduled", endTime: T0 + 1, milestones: MILESTONES } }));
    expect(closed).toMatchObject({ verdict: "refuse", status: 409, code: "event_not_active", details: { state: "scheduled" } });
    expect(closed.hits).toBeUndefined();
  });

  it("closes the window 24 h after the end, with 410", () => {
    const info = { state: "expired", endTime: T0, milestones: MILESTONES };
    expect(decideClaim(input({ info, now: T0 + GRACE_PERIOD_MS })).verdict).toBe("grant");
    expect(decideClaim(input({ info, now: T0 + GRACE_PERIOD_MS + 1 }))).toMatchObject({ status: 410, code: "claim_window_closed" });
    expect(decideClaim(input({ info: { ...info, state: "cancelled" } }))).toMatchObject({ status: 410, code: "claim_window_closed" });
  });

  it("rate-limits with a retry-after, and keeps the limiter's state either way", () => {
    const d = decideClaim(input({ rate: { hits: [T0 - 30_000, T0 - 20_000, T0 - 10_000], perMinute: 3 } }));
    expect(d).toMatchObject({ verdict: "refuse", status: 429, code: "rate_limited", details: { retryAfter: 30 } });
    expect(d.hits).toEqual([T0 - 30_000, T0 - 20_000, T0 - 10_000]);
    const locked = decideClaim(input({ unlocked: [], rate: { hits: [T0 - 70_000], perMinute: 3 } }));
    expect(locked).toMatchObject({ verdict: "refuse", code: "milestone_locked", hits: [T0] });
  });

  it("refuses unknown, already claimed and locked milestones, in that order", () => {
    expect(decideClaim(input({ index: 7 }))).toMatchObject({ status: 404, code: "milestone_not_found" });
    const taken = decideClaim(input({ claims: new Map([claimed(0)]), unlocked: [] }));
    expect(taken).toMatchObject({ status: 409, code: "already_claimed", details: { receipt: { claimId: "clm_0" } } });
    expect(decideClaim(input({ index: 1 }))).toMatchObject({ status: 409, code: "milestone_locked" });
    expect(decideClaim(input({ unlocked: null }))).toMatchObject({ code: "milestone_locked" });
  });

  it("decided again after signing (rate null), it sees a claim that raced in and counts nothing twice", () => {
    const first = decideClaim(input());
    expect(first.verdict).toBe("grant");
    const again = input({ rate: null, claims: new Map([claimed(0, "clm_racer")]) });
    expect(decideClaim(again)).toMatchObject({ verdict: "refuse", code: "already_claimed", details: { receipt: { claimId: "clm_racer" } } });
    expect(decideClaim(again).hits).toBeUndefined();
    const sameKey = input({ rate: null, claims: new Map([claimed(0, "clm_racer")]), keyUsed: { index: 0, claim: { receipt: { claimId: "clm_racer" } } } });
    expect(decideClaim(sameKey)).toMatchObject({ verdict: "replay", claim: { receipt: { claimId: "clm_racer" } } });
    expect(decideClaim(input({ rate: null }))).toEqual({ verdict: "grant", milestone: MILESTONES[0] });
  });
});

describe("unclaimed", () => {
  it("lists the unlocked milestones without a claim, in unlock order", () => {
    expect(unclaimed([0, 1, 2], new Set([1]))).toEqual([0, 2]);
    expect(unclaimed([], new Set())).toEqual([]);
    expect(unclaimed([0], new Map([[0, {}]]))).toEqual([]);
  });
});

describe("rateLimit", () => {
  it("forgets hits older than a minute", () => {
    expect(rateLimit([T0 - 60_000, T0 - 59_999], T0, 2)).toEqual({ allowed: true, retryAfter: 0, hits: [T0 - 59_999, T0] });
  });
});
