import { describe, expect, it } from "vitest";
import { Sha256, sha256Hex } from "./sha256";

async function subtle(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("sha256Hex", () => {
  it("matches the standard vectors and WebCrypto across block boundaries and non-ASCII text", async () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const text = "é1\t".repeat(n).slice(0, n);
      expect(sha256Hex(text)).toBe(await subtle(text));
    }
  });

  it("gives the same digest fed in pieces as in one string (a board hashes its standings line by line)", async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `${i + 1}\tplayer-${"é".repeat(i % 7)}\t${1000 - i}\t${i * 13}`);
    const whole = `ev\ncohort\n${lines.join("\n")}`;
    const hash = new Sha256().update("ev\ncohort\n");
    lines.forEach((l, i) => hash.update(i ? `\n${l}` : l));
    expect(hash.hex()).toBe(await subtle(whole));
    expect(new Sha256().hex()).toBe(sha256Hex(""));
  });
});
