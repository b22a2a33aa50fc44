import { describe, expect, it } from "vitest";
import type { EventState } from "./model";
import {
  DISPLAY_OF,
  DISPLAY_RANK,
  NOTIFICATION_TYPES,
  assignDisplay,
  feedOrder,
  notificationId,
  alreadySent,
  eventNotificationPlan,
  firedStatus,
  notificationText,
  notificationTimetable,
  anchorOf,
  expirationWarningAt,
  rearmed,
  type Display,
  type FiredType,
  type NotificationType,
  type TimedNotification,
} from "./notifications";

const H = 60 * 60 * 1000;
const DAY_MS = 24 * H;
const MIN = 60 * 1000;
const START = Date.UTC(2025, 5, 10, 12, 0, 0); // 2025-06-10T12:00Z
const END = START + 7 * 24 * H;
const none = new Map<FiredType, number>();
/** Types that fired for the window as it is (their anchor: the start for a preview, the end for the others). */
const firedFor = (types: TimedNotification[], e = ev("active")) => new Map<FiredType, number>(types.map((t) => [t, anchorOf(t, e)]));
const ev = (state: EventState, startTime = START, endTime = END) => ({ state, startTime, endTime });

describe("notificationTimetable: a normal event", () => {
  it("scheduled a week ahead: only the preview, at start − 24 h", () => {
    expect(notificationTimetable(ev("scheduled"), none, START - 7 * 24 * H)).toEqual({ preview: START - 24 * H });
  });

  it("active: urgency at end − 2 h and expiration warning at end − 1 h, no preview", () => {
    expect(notificationTimetable(ev("active"), firedFor(["preview"]), START)).toEqual({
      urgency: END - 2 * H,
      expiration_warning: END - 1 * H,
    });
    // Even if the preview never fired, an active event no longer previews.
    expect(notificationTimetable(ev("active"), none, START)).not.toHaveProperty("preview");
  });

  it("expired: the auto-claim warning at end + 23 h", () => {
    const fired = firedFor(["preview", "urgency", "expiration_warning"]);
    expect(notificationTimetable(ev("expired"), fired, END)).toEqual({ auto_claim_warning: END + 23 * H });
  });

  it("expired: nothing once the auto-claim (end + 24 h) has run", () => {
    expect(notificationTimetable(ev("expired"), none, END + 24 * H)).toEqual({});
    expect(notificationTimetable(ev("expired"), none, END + 30 * H)).toEqual({});
  });

  it("expired: a late actor between end + 23 h and end + 24 h sends the warning at once", () => {
    expect(notificationTimetable(ev("expired"), none, END + 23 * H + 30 * MIN)).toEqual({ auto_claim_warning: END + 23 * H + 30 * MIN });
  });
});

describe("notificationTimetable: preview", () => {
  it("is due now for an event created 2 h before its start", () => {
    const now = START - 2 * H;
    expect(notificationTimetable(ev("scheduled"), none, now)).toEqual({ preview: now });
  });

  it("is not sent once the start has passed, even if still scheduled (activation late)", () => {
    expect(notificationTimetable(ev("scheduled"), none, START)).toEqual({});
    expect(notificationTimetable(ev("scheduled"), none, START + 5 * MIN)).toEqual({});
  });

  it("moves with a rescheduled start", () => {
    const now = START - 3 * 24 * H;
    const later = START + 2 * 24 * H;
    expect(notificationTimetable(ev("scheduled", later, later + 7 * 24 * H), none, now)).toEqual({ preview: later - 24 * H });
  });

  it("is due now when a reschedule moves start − 24 h into the past", () => {
    const now = START - 3 * 24 * H;
    const sooner = now + 6 * H;
    expect(notificationTimetable(ev("scheduled", sooner, sooner + 24 * H), none, now)).toEqual({ preview: now });
  });
});

describe("notificationTimetable: a fired type comes back only when its window moved past it", () => {
  it("not for the window it fired for, in any state", () => {
    const all = firedFor(["preview", "urgency", "expiration_warning", "auto_claim_warning"]);
    expect(notificationTimetable(ev("scheduled"), all, START - 2 * 24 * H)).toEqual({});
    expect(notificationTimetable(ev("active"), all, START)).toEqual({});
    expect(notificationTimetable(ev("expired"), all, END)).toEqual({});
  });

  it("only the fired type is dropped", () => {
    expect(notificationTimetable(ev("active"), firedFor(["urgency"]), END - 90 * MIN)).toEqual({ expiration_warning: END - H });
  });

  it("an event extended after its ending-soon gets a new one at the new end − 2 h", () => {
    const fired = firedFor(["urgency"]);
    const newEnd = END + 3 * H;
    expect(notificationTimetable(ev("active", START, newEnd), fired, END - 90 * MIN)).toMatchObject({ urgency: newEnd - 2 * H });
    // Extended by less than the lead, the first "ends soon" is still about right: no second one.
    expect(notificationTimetable(ev("active", START, END + H), fired, END - 90 * MIN)).not.toHaveProperty("urgency");
  });

  it("an event postponed after its preview gets a new preview at the new start − 24 h", () => {
    const fired = firedFor(["preview"], ev("scheduled"));
    const later = START + 3 * 24 * H;
    expect(notificationTimetable(ev("scheduled", later, later + 7 * 24 * H), fired, START - 12 * H)).toEqual({ preview: later - 24 * H });
    expect(notificationTimetable(ev("scheduled", START + 2 * H, END), fired, START - 12 * H)).toEqual({});
  });

  it("rearmed: exactly when the new time reaches the old anchor", () => {
    expect(rearmed(undefined, 5)).toBe(true);
    expect(rearmed(10, 9)).toBe(false);
    expect(rearmed(10, 10)).toBe(true);
  });
});

describe("eventNotificationPlan, alreadySent and firedStatus", () => {
  it("plans start the moment the event is active, once", () => {
    expect(eventNotificationPlan(ev("active"), none, START)).toMatchObject({ start: START });
    expect(eventNotificationPlan(ev("active"), new Map([["start", START]]), START)).not.toHaveProperty("start");
  });

  it("a row that outlived a firing for the same window is not sent again; one for a moved window is", () => {
    expect(alreadySent("urgency", END, ev("active"))).toBe(true);
    expect(alreadySent("urgency", END, ev("active", START, END + DAY_MS))).toBe(false);
    expect(alreadySent("urgency", undefined, ev("active"))).toBe(false);
  });

  it("a targeted warning with nobody to warn is skipped; broadcasts and real lists wait for their push", () => {
    expect(firedStatus([])).toBe("skipped");
    expect(firedStatus(["p"])).toBeUndefined();
    expect(firedStatus("all")).toBeUndefined();
  });
});

describe("notificationTimetable: events shorter than the lead", () => {
  it("a 20-minute event warns holders of unclaimed rewards at its midpoint, not at its start", () => {
    const end = START + 20 * MIN;
    expect(notificationTimetable(ev("active", START, end), none, START)).toEqual({ expiration_warning: end - 10 * MIN });
    expect(expirationWarningAt({ startTime: START, endTime: START + 3 * H })).toBe(START + 2 * H);
  });
});

describe("notificationText: the real time left", () => {
  it("says how long is left when it is not the usual lead", () => {
    expect(notificationText("expiration_warning", "Sprint", { leftMs: 5 * MIN }).title).toBe("Sprint ends in 5 minutes");
    expect(notificationText("expiration_warning", "Sprint", { leftMs: H }).title).toBe("Sprint ends in 1 hour");
    expect(notificationText("urgency", "Sprint", { leftMs: 2 * H }).body).toBe("Only 2 hours left.");
    expect(notificationText("preview", "Sprint", { leftMs: 2 * H }).body).toBe("Get ready: the event opens in 2 hours.");
    expect(notificationText("preview", "Sprint", { leftMs: 24 * H }).title).toBe("Sprint starts tomorrow");
  });

  it("ids of a re-armed round differ from the first, per event and per player", () => {
    expect(notificationId("e", "urgency", undefined, undefined, 1)).toBe("e:urgency#2");
    expect(notificationId("e", "expiration_warning", "p", undefined, 1)).toBe("e:expiration_warning#2:p");
    expect(notificationId("e", "expiration_warning", "p")).toBe("e:expiration_warning:p");
  });
});

describe("notificationTimetable: pause and resume", () => {
  it("paused: nothing pending", () => {
    expect(notificationTimetable(ev("paused"), none, START + H)).toEqual({});
  });

  it("resumed with a new end: reminders computed from the new end", () => {
    const newEnd = END + 3 * 24 * H;
    expect(notificationTimetable(ev("active", START, newEnd), none, END - 12 * H)).toEqual({
      urgency: newEnd - 2 * H,
      expiration_warning: newEnd - H,
    });
  });

  it("resumed after end − 2 h: urgency omitted, expiration warning at its time", () => {
    const now = END - 90 * MIN;
    expect(notificationTimetable(ev("active"), none, now)).toEqual({ expiration_warning: END - H });
  });

  it("resumed after end − 1 h but before end: expiration warning now", () => {
    const now = END - 20 * MIN;
    expect(notificationTimetable(ev("active"), none, now)).toEqual({ expiration_warning: now });
  });

  it("active at or after end (expire timer pending): nothing", () => {
    expect(notificationTimetable(ev("active"), none, END)).toEqual({});
  });

  it("boundary: now exactly at end − 2 h includes urgency at that instant", () => {
    const now = END - 2 * H;
    expect(notificationTimetable(ev("active"), none, now)).toEqual({ urgency: now, expiration_warning: END - H });
    expect(notificationTimetable(ev("active"), none, now + 1)).not.toHaveProperty("urgency");
  });

  it("short event (90 min): no urgency, expiration warning at its midpoint (never earlier), 45 min before the end", () => {
    const end = START + 90 * MIN;
    expect(notificationTimetable(ev("active", START, end), none, START)).toEqual({ expiration_warning: end - 45 * MIN });
  });
});

describe("notificationTimetable: states that send nothing", () => {
  for (const state of ["cancelled", "archived", "failed_activation"] as const) {
    it(state, () => {
      expect(notificationTimetable(ev(state), none, START - 2 * 24 * H)).toEqual({});
      expect(notificationTimetable(ev(state), none, END + H)).toEqual({});
    });
  }
});

describe("display", () => {
  it("natural displays and ranks", () => {
    expect(NOTIFICATION_TYPES.map((t) => DISPLAY_OF[t])).toEqual(["banner", "popup", "popup", "banner", "popup", "popup"]);
    expect(DISPLAY_RANK.popup).toBeGreaterThan(DISPLAY_RANK.banner);
    expect(DISPLAY_RANK.banner).toBeGreaterThan(DISPLAY_RANK.feed);
  });
});

const DAY0 = Date.UTC(2025, 5, 10);
const n = (id: string, type: NotificationType, at: number) => ({ notificationId: id, type, at });

describe("assignDisplay", () => {
  it("limit 3 with 5 popups in a day: the first 3 (in time order) stay popups, the rest go to the feed", () => {
    // Given out of order: the limit counts by time, not by input position.
    const items = [n("e", "milestone", DAY0 + 5 * H), n("a", "start", DAY0 + H), n("c", "milestone", DAY0 + 3 * H), n("b", "milestone", DAY0 + 2 * H), n("d", "expiration_warning", DAY0 + 4 * H)];
    const d = assignDisplay(items, 3);
    expect(Object.fromEntries(d)).toEqual({ a: "popup", b: "popup", c: "popup", d: "feed", e: "feed" });
  });

  it("banners are unaffected and do not use up the popup allowance", () => {
    const items = [n("p", "preview", DAY0 + H), n("u", "urgency", DAY0 + 2 * H), n("s", "start", DAY0 + 3 * H), n("m", "milestone", DAY0 + 4 * H)];
    expect(Object.fromEntries(assignDisplay(items, 1))).toEqual({ p: "banner", u: "banner", s: "popup", m: "feed" });
  });

  it("counting resets on the next UTC day", () => {
    const items = [n("a", "milestone", DAY0 + 22 * H), n("b", "milestone", DAY0 + 23 * H + 59 * MIN), n("c", "milestone", DAY0 + 24 * H), n("d", "milestone", DAY0 + 25 * H)];
    expect(Object.fromEntries(assignDisplay(items, 1))).toEqual({ a: "popup", b: "feed", c: "popup", d: "feed" });
  });

  it("limit 0: every popup goes to the feed, banners stay", () => {
    const items = [n("s", "start", DAY0), n("m", "milestone", DAY0 + H), n("u", "urgency", DAY0 + 2 * H)];
    expect(Object.fromEntries(assignDisplay(items, 0))).toEqual({ s: "feed", m: "feed", u: "banner" });
  });

  it("simultaneous popups are decided by id, whatever the input order", () => {
    const items = [n("y", "milestone", DAY0), n("x", "milestone", DAY0)];
    expect(Object.fromEntries(assignDisplay(items, 1))).toEqual({ x: "popup", y: "feed" });
    expect(Object.fromEntries(assignDisplay([...items].reverse(), 1))).toEqual({ x: "popup", y: "feed" });
  });
});

describe("feedOrder", () => {
  const f = (id: string, at: number, seen: boolean, display: Display) => ({ notificationId: id, at, seen, display });

  it("unseen first, then popup > banner > feed, then newest first, then id", () => {
    const items = [
      f("seen-popup-new", 900, true, "popup"),
      f("unseen-feed", 800, false, "feed"),
      f("unseen-banner", 100, false, "banner"),
      f("unseen-popup-old", 200, false, "popup"),
      f("unseen-popup-new", 700, false, "popup"),
      f("seen-banner", 999, true, "banner"),
      f("tie-b", 500, false, "feed"),
      f("tie-a", 500, false, "feed"),
    ];
    expect(feedOrder(items).map((i) => i.notificationId)).toEqual([
      "unseen-popup-new",
      "unseen-popup-old",
      "unseen-banner",
      "unseen-feed",
      "tie-a",
      "tie-b",
      "seen-popup-new",
      "seen-banner",
    ]);
  });

  it("does not mutate its input", () => {
    const items = [f("a", 1, true, "feed"), f("b", 2, false, "popup")];
    feedOrder(items);
    expect(items.map((i) => i.notificationId)).toEqual(["a", "b"]);
  });
});

describe("notificationId", () => {
  it("broadcast, per-player and milestone formats", () => {
    expect(notificationId("ev1", "preview")).toBe("ev1:preview");
    expect(notificationId("ev1", "urgency")).toBe("ev1:urgency");
    expect(notificationId("ev1", "expiration_warning", "p42")).toBe("ev1:expiration_warning:p42");
    expect(notificationId("ev1", "milestone", "p42", 0)).toBe("ev1:milestone:0:p42");
    expect(notificationId("ev1", "milestone", "p42", 3)).toBe("ev1:milestone:3:p42");
  });

  it("is deterministic, so a re-fired alarm writes the same row", () => {
    expect(notificationId("ev1", "auto_claim_warning", "p1")).toBe(notificationId("ev1", "auto_claim_warning", "p1"));
  });

  it("refuses a milestone id without a player or an index", () => {
    expect(() => notificationId("ev1", "milestone", "p1")).toThrow(RangeError);
    expect(() => notificationId("ev1", "milestone", undefined, 1)).toThrow(RangeError);
  });
});
