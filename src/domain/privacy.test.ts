import { describe, expect, it } from "vitest";
import { OWN_EXPORT_INTERVAL_MS, ownExportWait } from "./privacy";

describe("ownExportWait", () => {
  it("lets a first export through, then makes the player wait out the minute, rounding the wait up to whole seconds", () => {
    expect(ownExportWait(null, 5_000)).toBe(0);
    expect(ownExportWait(0, 0)).toBe(60);
    expect(ownExportWait(0, 1)).toBe(60);
    expect(ownExportWait(0, 59_001)).toBe(1);
    expect(ownExportWait(0, OWN_EXPORT_INTERVAL_MS - 1)).toBe(1);
    expect(ownExportWait(0, OWN_EXPORT_INTERVAL_MS)).toBe(0);
    expect(ownExportWait(0, OWN_EXPORT_INTERVAL_MS + 1)).toBe(0);
  });
});
