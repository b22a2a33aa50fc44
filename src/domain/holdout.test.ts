import { describe, expect, it } from "vitest";
import { holdoutSection, newcombe, wilson } from "./holdout";

describe("Wilson and Newcombe intervals", () => {
  it("match published values (Newcombe 1998, table II examples)", () => {
    // Newcombe's example (a): 56/70 vs 48/80 → difference 0.2, method 10 interval 0.0524 to 0.3339.
    expect(newcombe(56, 70, 48, 80)).toEqual({ estimate: 0.2, low: 0.0524, high: 0.3339 });
    // Example (b): 9/10 vs 3/10 → 0.6, interval 0.1705 to 0.8090.
    expect(newcombe(9, 10, 3, 10)).toEqual({ estimate: 0.6, low: 0.1705, high: 0.809 });
    // Wilson for 0/10 stays inside [0, 1]: 0 to 0.2775.
    const w = wilson(0, 10)!;
    expect(w.low).toBe(0);
    expect(w.high).toBeCloseTo(0.2775, 4);
    expect(wilson(0, 0)).toBeNull();
    expect(newcombe(1, 2, 0, 0)).toBeNull();
  });

  it("the section: rates per arm, differences only when both arms and the figure exist", () => {
    const s = holdoutSection({ players: 80, completers: 48, retained: null }, { players: 70, completers: 56, retained: null });
    expect(s.struggling).toBe(150);
    expect(s.treated.completionRate).toBe(0.6);
    expect(s.completionDifference).toEqual({ estimate: -0.2, low: -0.3339, high: -0.0524 });
    expect(s.retentionDifference).toBeNull();
    expect(holdoutSection({ players: 5, completers: 1, retained: 1 }, { players: 0, completers: 0, retained: 0 }).completionDifference).toBeNull();
  });
});
