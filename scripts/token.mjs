// `npm run token -- <playerId> [--level N] [--clan C] [--hours H]` prints an HS256 player JWT for local use,
// signed with PLAYER_TOKEN_SECRET from .dev.vars (or the environment). Games mint these on their own auth server.
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

const args = process.argv.slice(2);
const playerId = args.find((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").startsWith("--"));
if (!playerId) {
  console.error("usage: npm run token -- <playerId> [--level N] [--clan C] [--hours H]");
  process.exit(2);
}
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const varsFile = existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example";
const secret = process.env.PLAYER_TOKEN_SECRET ?? readFileSync(varsFile, "utf8").match(/^PLAYER_TOKEN_SECRET=(.*)$/m)?.[1]?.trim();
if (!secret) {
  console.error("PLAYER_TOKEN_SECRET is not set in the environment or .dev.vars");
  process.exit(2);
}
const claims = { sub: playerId, exp: Math.floor(Date.now() / 1000) + Number(flag("hours") ?? 24) * 3600 };
if (flag("level") !== undefined) claims.lvl = Number(flag("level"));
if (flag("clan") !== undefined) claims.clan = flag("clan");
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
console.log(`${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`);
