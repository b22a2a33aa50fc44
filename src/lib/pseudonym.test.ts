import { describe, expect, it } from "vitest";
import { DEV_PRIVACY_SALT, isPseudonym, privacySalt, pseudonym } from "./pseudonym";

describe("pseudonym", () => {
  it("is stable per salt and player, differs across salts and players, and fits where a player id fits", async () => {
    const a = await pseudonym("salt-1", "player-1");
    expect(a).toBe(await pseudonym("salt-1", "player-1"));
    expect(a).not.toBe(await pseudonym("salt-2", "player-1"));
    expect(a).not.toBe(await pseudonym("salt-1", "player-2"));
    expect(isPseudonym(a)).toBe(true);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).not.toContain("player-1");
  });

  it("falls back to the dev-only salt only when PRIVACY_SALT is unset or empty", () => {
    expect(privacySalt({ PRIVACY_SALT: "real" })).toBe("real");
    expect(privacySalt({ PRIVACY_SALT: "" })).toBe(DEV_PRIVACY_SALT);
    expect(privacySalt({})).toBe(DEV_PRIVACY_SALT);
  });
});
