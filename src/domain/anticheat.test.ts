// Progress rates, mergeable streaming moments and the 3σ verdict (domain/anticheat.ts), and the review rules table.
import { describe, expect, it } from "vitest";
import { EMPTY, activeGain, addSample, judge, judgePass, judgeRates, merge, mergePopulations, partialOf, partialOfRates, progressRate, removeSample, stddev, type Moments, type Rates } from "./anticheat";
import { holdsRewards, opsMove, systemMove } from "./review";

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const of = (xs: number[]): Moments => xs.reduce(addSample, EMPTY);
const sampleSd = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
};

describe("progressRate", () => {
  it("is progress per active minute, never over less than a minute", () => {
    expect(progressRate(100, 10 * MIN)).toBe(10);
    expect(progressRate(100, 30_000)).toBe(100);
    expect(progressRate(100, 0)).toBe(100);
  });
  it("is null without progress on the objective", () => {
    expect(progressRate(undefined, MIN)).toBeNull();
    expect(progressRate(0, MIN)).toBeNull();
  });
  it("counts each gap between updates as active time up to the cap", () => {
    expect(activeGain(T0, T0 + 30_000, 2 * MIN)).toBe(30_000);
    expect(activeGain(T0, T0 + 20 * 3_600_000, 2 * MIN)).toBe(2 * MIN);
    expect(activeGain(T0, T0 - 5, 2 * MIN)).toBe(0);
  });
});

describe("moments", () => {
  const xs = [3, 9, 4, 12, 7.5, 1, 8, 8, 2];
  it("match the two-pass mean and sample standard deviation", () => {
    const m = of(xs);
    expect(m.n).toBe(9);
    expect(m.mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / 9, 12);
    expect(stddev(m)).toBeCloseTo(sampleSd(xs), 12);
  });
  it("merge exactly in any split and order (shards' partials)", () => {
    const whole = of(xs);
    for (const cut of [0, 1, 4, 8, 9]) {
      const a = of(xs.slice(0, cut));
      const b = of(xs.slice(cut));
      for (const m of [merge(a, b), merge(b, a)]) {
        expect(m.n).toBe(whole.n);
        expect(m.mean).toBeCloseTo(whole.mean, 12);
        expect(m.m2).toBeCloseTo(whole.m2, 9);
      }
    }
  });
  it("remove one sample exactly (the leave-one-out population)", () => {
    const without = removeSample(of(xs), 12);
    const expected = of(xs.filter((x) => x !== 12));
    expect(without.n).toBe(8);
    expect(without.mean).toBeCloseTo(expected.mean, 12);
    expect(without.m2).toBeCloseTo(expected.m2, 9);
    expect(removeSample(of([5]), 5)).toEqual(EMPTY);
  });
  it("merge populations per objective", () => {
    const p = mergePopulations([{ a: of([1, 2]) }, { a: of([3]), b: of([10]) }, {}]);
    expect(p.a.n).toBe(3);
    expect(p.a.mean).toBeCloseTo(2, 12);
    expect(p.b).toEqual(of([10]));
  });
});

describe("judge", () => {
  // 40 players at 90 or 110 per minute: mean 100, sd ≈ 10.13; rates over a 10-minute session.
  const normal = Array.from({ length: 40 }, (_, i) => ({ objectives: { pts: (i % 2 ? 110 : 90) * 10 }, activeMs: 10 * MIN }));
  const settings = { minSample: 30, sigma: 3 };
  const cheat = (perMinute: number) => ({ objectives: { pts: perMinute * 10 }, activeMs: 10 * MIN });

  it("flags only a player more than sigma standard deviations above the others' mean", () => {
    const outlier = cheat(145);
    const population = partialOf([...normal, outlier], ["pts"]);
    const verdict = judge(outlier, population, settings)!;
    expect(verdict).toMatchObject({ objectiveId: "pts", rate: 145, n: 40 });
    expect(verdict.mean).toBeCloseTo(100, 9);
    expect(verdict.sd).toBeCloseTo(sampleSd(normal.map(() => 0).map((_, i) => (i % 2 ? 110 : 90))), 9);
    expect(verdict.z).toBeGreaterThan(4);
    for (const p of normal) expect(judge(p, population, settings)).toBeNull();
    // 3σ is the line: 2.9σ above the others is not flagged
    const near = cheat(100 + 2.9 * verdict.sd);
    expect(judge(near, partialOf([...normal, near], ["pts"]), settings)).toBeNull();
  });

  it("flags nobody while fewer than minSample others have a rate", () => {
    const few = normal.slice(0, 20);
    const outlier = cheat(1000);
    expect(judge(outlier, partialOf([...few, outlier], ["pts"]), settings)).toBeNull();
    expect(judge(outlier, partialOf([...few, outlier], ["pts"]), { minSample: 20, sigma: 3 })).not.toBeNull();
  });

  it("flags nobody when the others have no spread, and ignores objectives the player has no progress on", () => {
    const same = Array.from({ length: 40 }, () => cheat(100));
    expect(judge(cheat(500), partialOf([...same, cheat(500)], ["pts"]), settings)).toBeNull();
    const other = { objectives: { other: 5 }, activeMs: MIN };
    expect(judge(other, partialOf([...normal, other], ["pts", "other"]), settings)).toBeNull();
  });
});

describe("precision", () => {
  // 99 honest rates near 10 and one at 1e9: removing the extreme one by subtraction cancels every digit the others had.
  const honest = Array.from({ length: 99 }, (_, i) => 10 + (i % 7) * 0.25);
  const population = { pts: of([...honest, 1e9]) };
  const settings = { minSample: 30, sigma: 3 };

  it("loses the others' spread when the extreme sample is removed by subtraction", () => {
    const others = removeSample(population.pts, 1e9);
    expect(Math.abs(stddev(others) - sampleSd(honest))).toBeGreaterThan(sampleSd(honest) / 2);
  });

  it("recomputes the others exactly when the removal cancelled, so the cheater is flagged", () => {
    const exactOthers = () => of(honest);
    const verdict = judgeRates({ pts: 1e9 }, population, settings, { exactOthers })!;
    expect(verdict.n).toBe(99);
    expect(verdict.sd).toBeCloseTo(sampleSd(honest), 9);
    expect(verdict.z).toBeGreaterThan(1e8);
    // honest players' removals keep their precision: the callback is not needed, and none is flagged
    const asked: string[] = [];
    for (const x of honest) expect(judgeRates({ pts: x }, population, settings, { exactOthers: (id) => (asked.push(id), of(honest)) })).toBeNull();
    expect(asked).toEqual([]);
  });

  it("compares a player left out of the population (a held flag) with all of it", () => {
    const verdict = judgeRates({ pts: 20 }, { pts: of(honest) }, settings, { inPopulation: false })!;
    expect(verdict.n).toBe(99);
    expect(verdict.mean).toBeCloseTo(honest.reduce((a, b) => a + b, 0) / 99, 9);
  });
});

describe("a pass's cost", () => {
  const settings = { minSample: 30, sigma: 3 };
  const pass = (rates: [string, Rates][], held: string[] = []) => ({ rates: new Map(rates), held: new Set(held) });

  it("flags nobody among identical rates and runs no exact leave-one-out for them (it ran one per player: O(n²))", () => {
    const same = Array.from({ length: 2000 }, (_, i): [string, Rates] => [`p${i}`, { pts: 12.5, wins: 3 }]);
    const local = partialOfRates(same.map(([, r]) => r));
    const rest = partialOfRates(Array.from({ length: 500 }, () => ({ pts: 12.5, wins: 3 })));
    const population = mergePopulations([local, rest]);
    expect(population.pts.m2).toBe(0);
    const asked: string[] = [];
    for (const [, r] of same.slice(0, 50)) expect(judgeRates(r, population, settings, { exactOthers: (id) => (asked.push(id), EMPTY) })).toBeNull();
    expect(asked).toEqual([]);
    const out = judgePass(pass(same), population, rest, settings);
    expect(out.verdicts.size).toBe(0);
    expect(out.exactRecomputes).toBe(0);
  });

  it("runs the exact leave-one-out only for the one candidate whose removal cancelled, and flags them", () => {
    const honest = Array.from({ length: 999 }, (_, i): [string, Rates] => [`h${i}`, { pts: 10 + (i % 7) * 0.25 }]);
    const all = [...honest, ["cheat", { pts: 1e9 }] as [string, Rates]];
    const population = partialOfRates(all.map(([, r]) => r));
    const out = judgePass(pass(all), population, {}, settings);
    expect([...out.verdicts.keys()]).toEqual(["cheat"]);
    expect(out.verdicts.get("cheat")!.n).toBe(999);
    expect(out.exactRecomputes).toBe(1);
  });

  it("checks the sample minimum before any exact leave-one-out, and judges a held player against all the others", () => {
    const few = Array.from({ length: 10 }, (_, i): [string, Rates] => [`h${i}`, { pts: 10 + i * 0.1 }]);
    const cheat: [string, Rates] = ["cheat", { pts: 1e9 }];
    const small = judgePass(pass([...few, cheat]), partialOfRates([...few, cheat].map(([, r]) => r)), {}, settings);
    expect(small).toEqual({ verdicts: new Map(), exactRecomputes: 0 });
    const many = Array.from({ length: 40 }, (_, i): [string, Rates] => [`h${i}`, { pts: 10 + (i % 5) * 0.1 }]);
    const held = judgePass(pass([...many, ["held", { pts: 50 }]], ["held"]), partialOfRates(many.map(([, r]) => r)), {}, settings);
    expect([...held.verdicts.keys()]).toEqual(["held"]);
    expect(held.verdicts.get("held")!.n).toBe(40);
  });
});

describe("newcomers and veterans (one 30-minute session a day, 14-day event)", () => {
  // Deterministic pseudo-random numbers (mulberry32), so the simulation is the same on every run.
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const DAY = 86_400_000;
  const CAP = 2 * MIN;
  /**
   * A player who joins on `firstDay` and plays one 30-minute session a day until day 14, posting every 30 s what they
   * earned at `pace` per minute of play: their progress, active time (as the shard keeps it) and wall-clock span.
   */
  function play(firstDay: number, pace: number, random: () => number) {
    let amount = 0;
    let activeMs = 0;
    let last = 0;
    let joinedAt = 0;
    for (let day = firstDay; day < 14; day++) {
      const start = T0 + day * DAY + Math.floor(random() * 12) * 3_600_000;
      if (day === firstDay) last = joinedAt = start;
      for (let t = start + 30_000; t <= start + 30 * MIN; t += 30_000) {
        amount += pace / 2;
        activeMs += activeGain(last, t, CAP);
        last = t;
      }
    }
    return { active: { objectives: { pts: amount }, activeMs }, wallClockMs: last - joinedAt };
  }
  const random = rng(14);
  // 1,000 honest players, paces spread ±15 % around 10 a minute, joining on any of the 14 days (a few each day).
  const honest = Array.from({ length: 1000 }, (_, i) => play(i % 14, 10 * (0.85 + 0.3 * random()), random));
  const settings = { minSample: 30, sigma: 3 };

  it("would flag newcomers if the rate ran on wall-clock time since joining (the simulation has the old bias: 71 of 1,000)", () => {
    const wall = honest.map((p) => ({ objectives: p.active.objectives, activeMs: Math.max(p.wallClockMs, MIN) }));
    const population = partialOf(wall, ["pts"]);
    const flagged = wall.filter((p) => judge(p, population, settings)).length;
    expect(flagged).toBeGreaterThan(10);
  });

  it("flags no honest player on active time, newcomer or veteran, and flags a cheater 4σ above them", () => {
    const players = honest.map((p) => p.active);
    const population = partialOf(players, ["pts"]);
    expect(players.filter((p) => judge(p, population, settings))).toEqual([]);
    const rates = players.map((p) => progressRate(p.objectives.pts, p.activeMs)!);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const cheater = play(10, mean + 4 * sampleSd(rates), rng(99)).active;
    const withCheater = partialOf([...players, cheater], ["pts"]);
    const verdict = judge(cheater, withCheater, settings);
    expect(verdict?.z).toBeGreaterThan(settings.sigma);
    expect(players.filter((p) => judge(p, withCheater, settings))).toEqual([]);
  });
});

describe("review rules", () => {
  const HOUR = 3_600_000;
  it("flags an outlier, escalates one still outlying after the review delay, dismisses one back in range", () => {
    expect(systemMove(null, null, "outlier", T0, HOUR)).toEqual({ to: "flagged", cause: "statistical_outlier" });
    expect(systemMove(null, null, "normal", T0, HOUR)).toBeNull();
    expect(systemMove("flagged", T0, "outlier", T0 + HOUR - 1, HOUR)).toBeNull();
    expect(systemMove("flagged", T0, "outlier", T0 + HOUR, HOUR)).toEqual({ to: "under_review", cause: "still_outlier" });
    expect(systemMove("flagged", T0, "implausible", T0, HOUR)).toEqual({ to: "under_review", cause: "implausible_while_flagged" });
    expect(systemMove("flagged", T0, "normal", T0, HOUR)).toEqual({ to: "dismissed", cause: "back_within_range" });
    expect(systemMove("under_review", T0, "normal", T0, HOUR)).toBeNull();
    expect(systemMove("dismissed", T0, "outlier", T0, HOUR)?.to).toBe("flagged");
    // ops' decisions stand against later passes
    expect(systemMove("cleared", T0, "outlier", T0 + 2 * HOUR, HOUR)).toBeNull();
    expect(systemMove("confirmed", T0, "normal", T0, HOUR)).toBeNull();
  });
  it("lets ops close an open flag only", () => {
    expect(opsMove("flagged", "clear")).toEqual({ ok: true, value: { to: "cleared", cause: "ops_clear" } });
    expect(opsMove("under_review", "confirm")).toEqual({ ok: true, value: { to: "confirmed", cause: "ops_confirm" } });
    expect(opsMove(null, "clear")).toMatchObject({ ok: false, status: 404, code: "flag_not_found" });
    for (const s of ["cleared", "confirmed", "dismissed"] as const) expect(opsMove(s, "confirm")).toMatchObject({ ok: false, status: 409, code: "flag_closed" });
  });
  it("holds rewards while open and for a confirmed cheat", () => {
    expect(["flagged", "under_review", "confirmed", "cleared", "dismissed", null].map((s) => holdsRewards(s as never))).toEqual([true, true, true, false, false, false]);
  });
});
