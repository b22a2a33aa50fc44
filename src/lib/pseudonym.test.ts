import { describe, expect, it } from "vitest";
import { PrivacySaltMissing, isPseudonym, privacySalt, pseudonym } from "./pseudonym";

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

  it("has no fallback: an unset or empty PRIVACY_SALT is refused, since any salt in the repository is public", () => {
    expect(privacySalt({ PRIVACY_SALT: "real" })).toBe("real");
    expect(() => privacySalt({ PRIVACY_SALT: "" })).toThrow(PrivacySaltMissing);
    expect(() => privacySalt({})).toThrow(PrivacySaltMissing);
  });
});
