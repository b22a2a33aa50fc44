// Local-time properties on random seeds (fast-check's default: every run draws new cases), against Intl-only references.
// 4 x 500 runs of each passed when the zone pushes were added; a counterexample a run finds is pinned below as a named
// case with its seed and path (fc.assert(..., { seed, path })), not fixed by pinning the whole suite to one seed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LocalTime, envelope, knownZones, outsideWindow, parseWaveKey, playerWindow, pushInstant, stillTimely, timelyZones, wavePushAt, wavePushGroups, waveZones, wavePlan, waves, zoneWindow } from "./local-time";
import { detectConflicts, type ScheduleLimits, type ScheduleWindow } from "./scheduling";
import { refInstant, refOffset, refWall, wallOf } from "./series.reference";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time";

const ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "America/Santiago"] as const;
const ALL = knownZones();
const pad = (n: number) => String(n).padStart(2, "0");
/** Whether a wall clock (as refWall gives it: the reading as if UTC) is inside quiet hours [start, end), wrapping midnight. */
const inQuiet = (wall: number, q: { start: string; end: string }) => {
  const clock = new Date(wall).toISOString().slice(11, 16);
  return q.start < q.end ? clock >= q.start && clock < q.end : clock >= q.start || clock < q.end;
};

// Dates just around each hemisphere's clock changes, times mostly in the small hours where all six zones change.
const dateArb = fc.record({ y: fc.constantFrom(2026, 2027), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) });
const timeArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ h: fc.integer({ min: 0, max: 3 }), m: fc.constantFrom(0, 15, 30, 45) }) },
  { weight: 1, arbitrary: fc.record({ h: fc.integer({ min: 0, max: 23 }), m: fc.constantFrom(0, 15, 30, 45) }) },
);
const windowArb = fc.tuple(dateArb, timeArb, fc.integer({ min: 1, max: 4 * 24 * 4 })).map(([d, t, quarters]) => {
  const start = `${d.y}-${pad(d.mo)}-${pad(d.d)}T${pad(t.h)}:${pad(t.m)}`;
  const end = new Date(wallOf(`${start}:00`) + quarters * 15 * MINUTE_MS).toISOString().slice(0, 16);
  return { start, end };
});

/**
 * The reference for any zone, by Intl alone: the instants whose wall clock reads `wall` under either offset the zone
 * has within a day and a half of it; several → the first; none (a gap) → read with the offset before the gap.
 */
function refInstantNear(wall: number, zone: string): number {
  const offsets = new Set([refOffset(wall - 36 * HOUR_MS, zone), refOffset(wall + 36 * HOUR_MS, zone), refOffset(wall, zone)]);
  const hits = [...offsets].map((o) => wall - o).filter((t) => refWall(t, zone) === wall);
  return hits.length ? Math.min(...hits) : wall - refOffset(wall - DAY_MS, zone);
}

describe("a player's local window, against the Intl-only reference", () => {
  it("starts and ends at the RFC 5545 instant of each wall-clock reading in the six zones", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), windowArb, (zone, lt) => {
        const w = zoneWindow(lt, zone);
        expect(w.start).toBe(refInstant(wallOf(`${lt.start}:00`), zone));
        expect(w.end).toBe(refInstant(wallOf(`${lt.end}:00`), zone));
      }),
      { numRuns: 300 },
    );
  });

  it("is one run of minutes, walked minute by minute: opened once, closed once, never duplicated or lost across a change", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), windowArb.filter((lt) => wallOf(`${lt.end}:00`) - wallOf(`${lt.start}:00`) <= 6 * HOUR_MS), (zone, lt) => {
        const env = envelope(lt, [zone]);
        const refStart = refInstant(wallOf(`${lt.start}:00`), zone);
        const refEnd = refInstant(wallOf(`${lt.end}:00`), zone);
        // Lost only when the gap swallows it whole, and then by the reference too.
        expect(env === null).toBe(refEnd <= refStart);
        if (!env) return;
        const open: number[] = [];
        for (let t = refStart - 2 * HOUR_MS; t < refEnd + 2 * HOUR_MS; t += MINUTE_MS) if (outsideWindow(lt, zone, env, t) === null) open.push(t);
        expect(open[0]).toBe(refStart);
        expect(open[open.length - 1]).toBe(refEnd - MINUTE_MS);
        expect(open.length).toBe((refEnd - refStart) / MINUTE_MS);
      }),
      { numRuns: 120 },
    );
  });

  it("the envelope holds every zone's window and is tight; every zone is in exactly one start wave and one end wave", () => {
    fc.assert(
      fc.property(windowArb, (lt) => {
        const env = envelope(lt, ALL)!;
        const refs = ALL.map((z) => ({ z, start: refInstantNear(wallOf(`${lt.start}:00`), z), end: refInstantNear(wallOf(`${lt.end}:00`), z) })).filter((w) => w.end > w.start);
        expect(env.start).toBe(Math.min(...refs.map((w) => w.start)));
        expect(env.end).toBe(Math.max(...refs.map((w) => w.end)));
        for (const r of refs) expect(playerWindow(lt, r.z, env)).toEqual({ start: r.start, end: r.end });
        for (const edge of ["start", "end"] as const) {
          const ws = waves(lt, edge, ALL);
          expect(ws.flatMap((w) => w.zones).sort()).toEqual(refs.map((r) => r.z).sort());
          for (const w of ws) for (const z of w.zones) expect(refs.find((r) => r.z === z)![edge]).toBe(w.at);
          expect(new Set(ws.map((w) => w.at)).size).toBe(ws.length);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe("the wave plan", () => {
  it("gives every zone group one start row at its start and one end row pair before its end, nothing twice, nothing fired again", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), windowArb, (zone, lt) => {
        const zones = [zone, "UTC", "Asia/Kolkata", "Pacific/Kiritimati"];
        const env = envelope(lt, zones);
        if (!env) return;
        const e = { state: "active", startTime: env.start, endTime: env.end, localTime: lt };
        const plan = wavePlan(e, new Set(), env.start, zones);
        expect(new Set(plan.map((r) => r.key)).size).toBe(plan.length);
        const startAts = plan.filter((r) => r.type === "start").map((r) => r.at).sort();
        expect(startAts).toEqual(waves(lt, "start", zones).map((w) => w.at).sort());
        for (const r of plan) {
          expect(parseWaveKey(r.key)).toEqual({ type: r.type, edge: r.edge, at: r.at });
          expect(r.dueAt).toBeGreaterThanOrEqual(env.start);
          if (r.type === "start") expect(r.dueAt).toBe(r.at);
          else expect(r.dueAt).toBeLessThan(r.at);
        }
        expect(plan.filter((r) => r.type === "expiration_warning").map((r) => r.at).sort()).toEqual(waves(lt, "end", zones).map((w) => w.at).sort());
        // Fired rows are not planned again, and an ended or paused event plans nothing.
        expect(wavePlan(e, new Set(plan.map((r) => r.key)), env.start, zones)).toEqual([]);
        expect(wavePlan({ ...e, state: "paused" }, new Set(), env.start, zones)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("an end wave's expiration warning is at most half the shortest window of its zones early", () => {
    // 01:00–03:30 on New York's spring-forward night is 06:00–07:30 UTC there (1 h 30), and 05:00–07:30 in Santo Domingo
    // (−04:00 all year, 2 h 30): one end wave, warned 45 min before, not the hour Santo Domingo alone would allow.
    const lt = { start: "2027-03-14T01:00", end: "2027-03-14T03:30" };
    const zones = ["America/New_York", "America/Santo_Domingo"];
    const env = envelope(lt, zones)!;
    const plan = wavePlan({ state: "active", startTime: env.start, endTime: env.end, localTime: lt }, new Set(), env.start, zones);
    const end = Date.UTC(2027, 2, 14, 7, 30);
    expect(plan.filter((r) => r.type === "expiration_warning")).toEqual([{ key: `expiration_warning|end|${end}`, dueAt: end - 45 * MINUTE_MS, type: "expiration_warning", edge: "end", at: end }]);
  });

  it("created late: a zone whose window has already closed gets no wave, and a wave of such zones alone is not planned", () => {
    // 10:00–10:10 everywhere, created at 04:12 UTC: +06:00's window (04:00–04:10) has closed, +05:45's (04:15) is ahead,
    // and no zone's window is open, so nothing "has started" at 04:12.
    const lt = { start: "2027-03-14T10:00", end: "2027-03-14T10:10" };
    const env = envelope(lt)!;
    const late = Date.UTC(2027, 2, 14, 4, 12);
    const e = { state: "active", startTime: late, endTime: env.end, localTime: lt };
    const plan = wavePlan(e, new Set(), late);
    expect(plan.filter((r) => r.at <= late)).toEqual([]);
    expect(Math.min(...plan.filter((r) => r.type === "start").map((r) => r.at))).toBe(Date.UTC(2027, 2, 14, 4, 15));
    expect(waveZones(lt, "start", late, { start: late, end: env.end })).toEqual([]);
    expect(waveZones(lt, "end", Date.UTC(2027, 2, 14, 4, 10), { start: late, end: env.end })).toEqual([]);
    expect(waveZones(lt, "start", Date.UTC(2027, 2, 14, 4, 15), { start: late, end: env.end })).toContain("Asia/Kathmandu");
  });
});

describe("a wave that fires late", () => {
  // 02:30–03:30 on New York's spring-forward night; Kolkata's window is 21:00–22:00 UTC the day before.
  const lt = { start: "2027-03-14T02:30", end: "2027-03-14T03:30" };
  const env = envelope(lt)!;
  const kolStart = Date.UTC(2027, 2, 13, 21, 0);
  const kolEnd = kolStart + HOUR_MS;
  const now = kolEnd + 10 * MINUTE_MS;

  it("tells no zone whose window has closed that the event has started: not planned, not pushed, not named", () => {
    const plan = wavePlan({ state: "active", startTime: env.start, endTime: env.end, localTime: lt }, new Set(), now);
    expect(plan.filter((r) => r.at === kolStart)).toEqual([]);
    // Karachi (+05:00) opened at 21:30 UTC and is still open: its late start is planned at once.
    expect(plan).toContainEqual({ key: `start|start|${kolStart + 30 * MINUTE_MS}`, dueAt: now, type: "start", edge: "start", at: kolStart + 30 * MINUTE_MS });
    expect(wavePushAt(lt, "Asia/Kolkata", "start", now, env)).toBeNull();
    expect(wavePushAt(lt, "Asia/Kolkata", "start", kolEnd - 1, env)).toBe(kolEnd - 1);
    const zones = waveZones(lt, "start", kolStart, env);
    expect(zones.length).toBeGreaterThan(1);
    expect(wavePushGroups(lt, zones, "start", now, env)).toEqual([]);
    expect(timelyZones(lt, "start", zones, now, env)).toEqual([]);
    expect(timelyZones(lt, "start", zones, kolEnd - 1, env)).toEqual(zones);
  });

  it("a preview is timely only before the window opens, the others until it closes", () => {
    const w = { start: kolStart, end: kolEnd };
    expect([kolStart - 1, kolStart].map((t) => stillTimely("preview", w, t))).toEqual([true, false]);
    for (const type of ["start", "urgency", "expiration_warning"] as const) expect([kolEnd - 1, kolEnd].map((t) => stillTimely(type, w, t))).toEqual([true, false]);
  });
});

describe("scheduling rules on the envelope", () => {
  const LIMITS: ScheduleLimits = { maxConcurrent: 1, maxConcurrentSameType: 1, majorGapMs: 6 * HOUR_MS };
  /** Minute by minute over the brute-force envelope: does any minute hold two counted events, or is a major too close? */
  function brute(lt: { start: string; end: string }, other: { start: number; end: number }, tier: "standard" | "major"): boolean {
    const refs = ALL.map((z) => [refInstantNear(wallOf(`${lt.start}:00`), z), refInstantNear(wallOf(`${lt.end}:00`), z)]).filter(([s, e]) => e > s);
    const start = Math.min(...refs.map((r) => r[0]));
    const end = Math.max(...refs.map((r) => r[1]));
    const gap = tier === "major" ? LIMITS.majorGapMs : 0;
    for (let t = start - gap; t < end + gap; t += 15 * MINUTE_MS) if (other.start <= t && t < other.end) return true;
    return false;
  }
  it("detectConflicts over the envelope agrees with the brute-force check", () => {
    fc.assert(
      fc.property(windowArb, fc.integer({ min: -48, max: 160 }), fc.integer({ min: 1, max: 24 }), fc.constantFrom("standard" as const, "major" as const), (lt, offsetQ, lenQ, tier) => {
        const env = envelope(lt, ALL)!;
        const other: ScheduleWindow = { eventId: "other", type: "seasonal", tier, start: env.start + offsetQ * 15 * MINUTE_MS, end: env.start + (offsetQ + lenQ) * 15 * MINUTE_MS };
        const cand: ScheduleWindow = { eventId: "local", type: "seasonal", tier, start: env.start, end: env.end };
        expect(detectConflicts(cand, [other], LIMITS).length > 0).toBe(brute(lt, other, tier));
      }),
      { numRuns: 25 },
    );
  });
});

describe("quiet hours and the fixed nights", () => {
  it("defer a push to the quiet period's end in the player's zone, and leave one outside it alone", () => {
    const q = { start: "22:00", end: "08:00" };
    const ny = (local: string) => refInstant(wallOf(local), "America/New_York");
    expect(pushInstant(ny("2027-03-13T23:30:00"), "America/New_York", q)).toBe(ny("2027-03-14T08:00:00"));
    expect(pushInstant(ny("2027-03-14T03:30:00"), "America/New_York", q)).toBe(ny("2027-03-14T08:00:00"));
    expect(pushInstant(ny("2027-03-14T12:00:00"), "America/New_York", q)).toBe(ny("2027-03-14T12:00:00"));
    expect(pushInstant(ny("2027-03-14T03:30:00"), "America/New_York", undefined)).toBe(ny("2027-03-14T03:30:00"));
    // A quiet period ending inside the gap (02:30 on the spring-forward night) is over when the clock jumps to 03:00.
    expect(pushInstant(ny("2027-03-14T01:00:00"), "America/New_York", { start: "00:00", end: "02:30" })).toBe(Date.UTC(2027, 2, 14, 7, 0));
    // Ending at 01:30 on the fall-back night: at 01:15 EST the first 01:30 (EDT) is behind; the second one ends it.
    expect(pushInstant(Date.UTC(2027, 10, 7, 6, 15), "America/New_York", { start: "22:00", end: "01:30" })).toBe(Date.UTC(2027, 10, 7, 6, 30));
  });

  it("the push instant is the first minute from `at` whose wall clock is outside quiet hours (an Intl minute walk), all year in the six zones", () => {
    const clockArb = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${pad(h)}:${pad(m)}`);
    const quietArb = fc.oneof(
      fc.constantFrom({ start: "22:00", end: "08:00" }, { start: "01:00", end: "03:00" }, { start: "22:00", end: "01:30" }, { start: "00:00", end: "02:30" }, { start: "01:00", end: "02:15" }, { start: "23:00", end: "03:00" }),
      fc.tuple(clockArb, clockArb).filter(([a, b]) => a !== b).map(([start, end]) => ({ start, end })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: 0, max: 60 * 24 * 365 * 2 }), quietArb, (zone, minutes, q) => {
        const at = Date.UTC(2026, 0, 1) + minutes * MINUTE_MS;
        let expected = at;
        while (inQuiet(refWall(expected, zone), q)) expected += MINUTE_MS;
        expect(pushInstant(at, zone, q)).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it("around every clock change of the six zones, a push due in the small hours goes at the first minute outside quiet hours", () => {
    const quiets = [{ start: "22:00", end: "01:30" }, { start: "00:00", end: "02:30" }, { start: "01:00", end: "02:15" }, { start: "23:00", end: "03:00" }, { start: "02:00", end: "04:00" }];
    for (const zone of ZONES) {
      for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2028, 0, 1); day += DAY_MS) {
        if (refOffset(day, zone) === refOffset(day + DAY_MS, zone)) continue;
        for (let at = day - 6 * HOUR_MS; at < day + 30 * HOUR_MS; at += 15 * MINUTE_MS) {
          for (const q of quiets) {
            let expected = at;
            while (inQuiet(refWall(expected, zone), q)) expected += MINUTE_MS;
            expect(pushInstant(at, zone, q), `${zone} ${new Date(at).toISOString()} ${q.start}-${q.end}`).toBe(expected);
          }
        }
      }
    }
  });

  it("a broadcast wave's topic pushes: each of its zones in at most one group, at its own push instant, dropped only when too late", () => {
    const clockArb = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 30)).map(([h, m]) => `${pad(h)}:${pad(m)}`);
    const quietArb = fc.tuple(clockArb, clockArb).filter(([a, b]) => a !== b).map(([start, end]) => ({ start, end }));
    fc.assert(
      fc.property(windowArb, quietArb, fc.constantFrom("preview" as const, "start" as const, "urgency" as const), (w, quietHours, type) => {
        const zones = [...ZONES, "UTC", "America/Bogota", "Asia/Kathmandu"];
        const lt = { ...w, quietHours };
        const env = envelope(lt, zones);
        if (!env) return;
        const edge = type === "urgency" ? "end" : "start";
        for (const wave of waves(lt, edge, zones)) {
          const firedAt = type === "preview" ? wave.at - DAY_MS : type === "urgency" ? wave.at - 2 * HOUR_MS : wave.at;
          const inWave = waveZones(lt, edge, wave.at, env, zones);
          const groups = wavePushGroups(lt, inWave, type, firedAt, env);
          const grouped = groups.flatMap((g) => g.zones);
          expect(new Set(grouped).size).toBe(grouped.length);
          expect(new Set(groups.map((g) => g.at)).size).toBe(groups.length);
          for (const zone of inWave) {
            const at = pushInstant(firedAt, zone, quietHours);
            const win = playerWindow(lt, zone, env);
            const late = at >= (type === "preview" ? win.start : win.end);
            const group = groups.find((g) => g.zones.includes(zone));
            if (late) expect(group, zone).toBeUndefined();
            else expect(group?.at, zone).toBe(at);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("spring-forward 02:30–03:30 in New York is empty there; fall-back 01:30 is the first 01:30", () => {
    expect(zoneWindow({ start: "2027-03-14T02:30", end: "2027-03-14T03:30" }, "America/New_York")).toEqual({ start: Date.UTC(2027, 2, 14, 7, 30), end: Date.UTC(2027, 2, 14, 7, 30) });
    expect(zoneWindow({ start: "2027-11-07T01:30", end: "2027-11-07T02:30" }, "America/New_York")).toEqual({ start: Date.UTC(2027, 10, 7, 5, 30), end: Date.UTC(2027, 10, 7, 7, 30) });
  });

  it("refuses bad input, naming the field", () => {
    const bad = [
      [{ start: "2027-03-14T10:00", end: "2027-03-14T09:00" }, "end"],
      [{ start: "2027-02-30T10:00", end: "2027-03-14T09:00" }, "start"],
      [{ start: "2027-03-14T10:00Z", end: "2027-03-14T12:00" }, "start"],
      [{ start: "2027-03-14T10:00", end: "2027-03-14T12:00", quietHours: { start: "22:00", end: "24:00" } }, "quietHours.end"],
      [{ start: "2027-03-14T10:00", end: "2027-03-14T12:00", quietHours: { start: "8:00", end: "09:00" } }, "quietHours.start"],
      [{ start: "2027-03-14T10:00", end: "2027-03-14T12:00", quietHours: { start: "22:00", end: "22:00" } }, "quietHours.end"],
    ] as const;
    for (const [value, path] of bad) {
      const r = LocalTime.safeParse(value);
      expect(r.success ? null : r.error.issues.map((i) => i.path.join("."))).toContain(path);
    }
    expect(LocalTime.safeParse({ start: "2027-03-14T10:00", end: "2027-03-14T12:00", quietHours: { start: "22:00", end: "08:00" } }).success).toBe(true);
  });
});
