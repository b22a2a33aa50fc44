// What an ingest request mirrors to Analytics Engine: its newly stored records only, within the platform's limit.
import { describe, expect, it } from "vitest";
import { MIRROR_MAX_PER_REQUEST, rowsToMirror } from "./telemetry";

describe("rowsToMirror", () => {
  it("skips records D1 already had (resends, duplicates) and keeps the order", () => {
    const rows = ["a", "b", "c", "d"].map((id) => ({ id }));
    expect(rowsToMirror(rows, ["d", "b"]).map((r) => r.id)).toEqual(["b", "d"]);
    expect(rowsToMirror(rows, [])).toEqual([]);
  });

  it("stops at 250 writes per request (Analytics Engine's limit per invocation)", () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: `r${i}` }));
    const mirrored = rowsToMirror(rows, rows.map((r) => r.id));
    expect(MIRROR_MAX_PER_REQUEST).toBe(250);
    expect(mirrored).toHaveLength(250);
    expect(mirrored[249].id).toBe("r249");
  });
});
