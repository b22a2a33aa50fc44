// scripts/token.mjs from the outside: what it signs, and what it refuses to sign. A token the Worker would reject
// (see verifyPlayerToken in src/http/auth.ts) must be refused here with a reason and a non-zero exit, not printed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SECRET = "token-test-secret";

function token(...args) {
  const r = spawnSync(process.execPath, ["scripts/token.mjs", ...args], {
    cwd: root,
    env: { ...process.env, PLAYER_TOKEN_SECRET: SECRET },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

/** The claims of a token, after checking its HS256 signature with the secret. */
function claimsOf(jwt) {
  const [h, c, sig] = jwt.split(".");
  assert.equal(sig, createHmac("sha256", SECRET).update(`${h}.${c}`).digest("base64url"), "signature");
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url")), { alg: "HS256", typ: "JWT" });
  return JSON.parse(Buffer.from(c, "base64url"));
}

describe("npm run token", () => {
  test("signs the player, level, clan and lifetime asked for", () => {
    const now = Math.floor(Date.now() / 1000);
    const r = token("p1", "--level", "12", "--clan", "wolves", "--tz", "America/Santiago", "--hours", "2");
    assert.equal(r.code, 0, r.err);
    const claims = claimsOf(r.out);
    assert.equal(claims.sub, "p1");
    assert.equal(claims.tz, "America/Santiago");
    assert.equal(claims.lvl, 12);
    assert.equal(claims.clan, "wolves");
    assert.ok(Math.abs(claims.exp - (now + 7200)) <= 5, `exp ${claims.exp} ≈ now + 2 h`);
  });

  test("defaults: no level or clan claim, 24 h; the options may come first and take --name=value", () => {
    const now = Math.floor(Date.now() / 1000);
    const plain = claimsOf(token("p2").out);
    assert.deepEqual(Object.keys(plain).sort(), ["exp", "sub"]);
    assert.ok(Math.abs(plain.exp - (now + 86400)) <= 5);
    const r = token("--level=0", "--hours", "0.5", "p3");
    assert.equal(r.code, 0, r.err);
    const claims = claimsOf(r.out);
    assert.equal(claims.sub, "p3");
    assert.equal(claims.lvl, 0);
    assert.ok(Math.abs(claims.exp - (now + 1800)) <= 5);
  });

  const refusals = [
    [["p", "--level", "abc"], /--level must be a whole number ≥ 0, got "abc"/],
    [["p", "--level", "-1"], /--level must be a whole number/],
    [["p", "--level", "1.5"], /--level must be a whole number/],
    [["p", "--level", "0x10"], /--level must be a whole number/],
    [["p", "--level", " "], /--level must be a whole number/],
    [["p", "--level"], /--level needs a value/],
    [["p", "--hours", "abc"], /--hours must be a positive number of hours, got "abc"/],
    [["p", "--hours", "0"], /--hours must be a positive number/],
    [["p", "--hours", "-3"], /--hours must be a positive number/],
    [["p", "--hours", "Infinity"], /--hours must be a positive number/],
    [["p", "--hours="], /--hours needs a value/],
    [["p", "--clan"], /--clan needs a value/],
    [["p", "--tz", "Mars/Olympus_Mons"], /--tz must be an IANA time zone such as Europe\/London, got "Mars\/Olympus_Mons"/],
    [["p", "--lvl", "3"], /unknown option --lvl/],
    [["p", "--level", "1", "--level", "2"], /--level is given twice/],
    [["p", "q"], /one player id, not 2/],
    [[], /missing <playerId>/],
    [["x".repeat(65)], /longer than 64 characters/],
  ];
  for (const [args, why] of refusals) {
    test(`refuses ${JSON.stringify(args.join(" ")).slice(0, 40)}`, () => {
      const r = token(...args);
      assert.notEqual(r.code, 0, `exit code for ${args.join(" ")}`);
      assert.equal(r.out, "", "prints no token");
      assert.match(r.err, why);
      assert.match(r.err, /usage: npm run token/);
    });
  }
});
