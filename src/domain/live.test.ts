import { describe, expect, it } from "vitest";
import { ServerFrame, encodeFrame, eventChange, isFinalState, replayPlan } from "./live";

describe("replayPlan", () => {
  const log = { oldest: 41, latest: 100 };
  it("replays nothing without a cursor, or when nothing was missed", () => {
    expect(replayPlan(null, log)).toEqual({ kind: "none" });
    expect(replayPlan(100, log)).toEqual({ kind: "none" });
    expect(replayPlan(0, { oldest: 0, latest: 0 })).toEqual({ kind: "none" });
  });
  it("replays when every frame after the cursor is still held", () => {
    expect(replayPlan(40, log)).toEqual({ kind: "replay" });
    expect(replayPlan(99, log)).toEqual({ kind: "replay" });
  });
  it("says refetch when some were trimmed away, or the cursor is not one this log gave out", () => {
    expect(replayPlan(39, log)).toEqual({ kind: "refetch", reason: "too_old" });
    expect(replayPlan(0, log)).toEqual({ kind: "refetch", reason: "too_old" });
    expect(replayPlan(101, log)).toEqual({ kind: "refetch", reason: "unknown_cursor" });
    expect(replayPlan(5, { oldest: 0, latest: 0 })).toEqual({ kind: "refetch", reason: "unknown_cursor" });
  });
});

describe("frames", () => {
  it("carry seq where they can be replayed; a snapshot may carry the player's progress", () => {
    const base = { type: "event_state", eventId: "e", state: "active", change: "snapshot", startTime: "a", endTime: "b", at: "c" } as const;
    expect(JSON.parse(encodeFrame({ ...base, seq: 7, progress: null }))).toMatchObject({ seq: 7, progress: null });
    expect(() => encodeFrame({ ...base, seq: -1 } as ServerFrame)).toThrow();
    expect(JSON.parse(encodeFrame({ type: "refetch", since: 3, reason: "too_old" }))).toEqual({ type: "refetch", since: 3, reason: "too_old" });
  });
  it("archived and cancelled are final; expired is not (claims go on)", () => {
    expect(["archived", "cancelled", "expired", "active"].map(isFinalState)).toEqual([true, true, false, false]);
  });
});

describe("eventChange", () => {
  const e = (state: string, startTime = 1000, endTime = 5000) => ({ state, startTime, endTime });
  it("names the transition, or 'rescheduled' when only the window moved, or nothing", () => {
    expect(eventChange(e("paused"), e("active"))).toBe("resumed");
    expect(eventChange(e("scheduled"), e("active"))).toBe("activated");
    expect(eventChange(e("active"), e("expired", 1000, 3000))).toBe("expired");
    expect(eventChange(e("active"), e("active", 1000, 9000))).toBe("rescheduled");
    expect(eventChange(e("active"), e("active"))).toBeNull();
    expect(eventChange(null, e("active"))).toBeNull();
  });
});
