// `npm run token -- <playerId> [--level N] [--clan C] [--tz Zone] [--hours H]` prints an HS256 player JWT for local use,
// signed with PLAYER_TOKEN_SECRET from .dev.vars (or the environment). Games mint these on their own auth server.
// Anything the Worker would refuse (a level that is not a whole number ≥ 0, a lifetime that is not a positive number
// of hours) is refused here with a reason, rather than signed into a token that fails later with a bare 401.
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

const USAGE = "usage: npm run token -- <playerId> [--level N] [--clan C] [--tz Zone] [--hours H]";
function refuse(why) {
  console.error(`token: ${why}\n${USAGE}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const flags = {};
const positional = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (!a.startsWith("--")) {
    positional.push(a);
    continue;
  }
  const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
  if (!["level", "clan", "tz", "hours"].includes(name)) refuse(`unknown option ${a}`);
  if (name in flags) refuse(`--${name} is given twice`);
  const value = inline ?? args[++i];
  if (value === undefined || value === "") refuse(`--${name} needs a value`);
  flags[name] = value;
}
if (positional.length !== 1) refuse(positional.length ? `one player id, not ${positional.length}: ${positional.join(" ")}` : "missing <playerId>");
const playerId = positional[0];
if (playerId.length > 64) refuse("the player id is longer than 64 characters (the Worker refuses such a token)");

// Number("") and Number(" ") are 0, and Number("0x10") is 16: only plain decimal numerals are taken.
const decimal = (s) => (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s) ? Number(s) : NaN);
const claims = { sub: playerId };
const hours = flags.hours === undefined ? 24 : decimal(flags.hours);
if (!Number.isFinite(hours) || hours <= 0) refuse(`--hours must be a positive number of hours, got ${JSON.stringify(flags.hours)}`);
claims.exp = Math.floor(Date.now() / 1000 + hours * 3600);
if (flags.level !== undefined) {
  const level = decimal(flags.level);
  if (!Number.isSafeInteger(level) || level < 0) refuse(`--level must be a whole number ≥ 0, got ${JSON.stringify(flags.level)}`);
  claims.lvl = level;
}
if (flags.clan !== undefined) claims.clan = flags.clan;
if (flags.tz !== undefined) {
  // The player's IANA zone for local-time events. A name no Intl knows is refused here; the Worker's own zone list
  // (workerd's) has the last word.
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: flags.tz });
  } catch {
    refuse(`--tz must be an IANA time zone such as Europe/London, got ${JSON.stringify(flags.tz)}`);
  }
  claims.tz = flags.tz;
}

const varsFile = existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example";
const secret = process.env.PLAYER_TOKEN_SECRET ?? readFileSync(varsFile, "utf8").match(/^PLAYER_TOKEN_SECRET=(.*)$/m)?.[1]?.trim();
if (!secret) {
  console.error("PLAYER_TOKEN_SECRET is not set in the environment or .dev.vars");
  process.exit(2);
}
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
console.log(`${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`);
