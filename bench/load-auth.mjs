// The auth phase's load process: one credential mode per run, a cheap GET at `concurrency` in flight. Player modes
// call GET /v1/events/:eventId/countdown with one reused HS256 token (the Worker's verified-token cache answers) or
// with a new token on every request (HS256, RS256 or ES256: a full signature check each time). Admin modes call
// GET /v1/admin/events/:eventId with an operator API key or with the bootstrap ADMIN_TOKEN. Fresh tokens are all
// minted before the measured window, so signing (an RSA signature costs this process ~0.3 ms) never competes with
// the Worker for the CPUs while it is measured. Prints one JSON result on stdout, like load-http.mjs.
import { performance } from "node:perf_hooks";
import { SignJWT, importJWK } from "jose";
import { makeClient, recorder } from "./http-client.mjs";
import { BENCH_AUDIENCE, BENCH_ISSUER, mintPlayerToken } from "./jwt.mjs";
import { pool, watchdog } from "./pool.mjs";
import { summarize } from "./stats.mjs";

const cfg = JSON.parse(process.env.BENCH_LOAD_CONFIG ?? "{}");
const log = (msg) => process.stderr.write(`  [load:auth ${cfg.mode}] ${msg}\n`);
// Minting can take a while on a busy box; the watchdog allows for it.
watchdog(cfg.seconds + (cfg.warmupSeconds ?? 0) + 120, log);

/** `count` distinct tokens for the mode; each names another player and its own jti, so no two are equal. */
async function mintFresh(mode, count) {
  if (mode === "hs256-fresh") return Array.from({ length: count }, (_, i) => mintPlayerToken(cfg.playerSecret, `bench-auth-hs-${i}`, 3600));
  const alg = mode === "rs256-fresh" ? "RS256" : "ES256";
  const { kid, privateJwk } = cfg.keys[alg];
  const key = await importJWK(privateJwk, alg);
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    tokens[i] = await new SignJWT({ jti: `${alg}-${i}` })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setSubject(`bench-auth-${alg.toLowerCase()}-${i}`)
      .setIssuer(BENCH_ISSUER)
      .setAudience(BENCH_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key);
  }
  return tokens;
}

const MODES = ["hs256-cached", "hs256-fresh", "rs256-fresh", "es256-fresh", "admin-key", "admin-bootstrap"];
if (!MODES.includes(cfg.mode)) {
  log(`unknown mode ${JSON.stringify(cfg.mode)}`);
  process.exit(2);
}

const admin = cfg.mode.startsWith("admin-");
const path = admin ? `/v1/admin/events/${cfg.eventId}` : `/v1/events/${cfg.eventId}/countdown`;
let tokens;
let mintSec = 0;
if (cfg.mode.endsWith("-fresh")) {
  const t0 = performance.now();
  tokens = await mintFresh(cfg.mode, cfg.maxRequests);
  mintSec = (performance.now() - t0) / 1000;
  log(`minted ${tokens.length} tokens in ${mintSec.toFixed(1)} s`);
} else {
  tokens = [cfg.mode === "hs256-cached" ? mintPlayerToken(cfg.playerSecret, "bench-auth-cached", 3600) : cfg.mode === "admin-key" ? cfg.apiKey : cfg.adminToken];
}
const headerSets = tokens.map((t) => ({ authorization: `Bearer ${t}` }));

const client = await makeClient(cfg.baseUrl, cfg.concurrency);
const rec = recorder(client);
// Each call takes the next token; reused modes have one. A token is never sent twice in the fresh modes.
let next = 0;
const op = async () => {
  const headers = headerSets.length === 1 ? headerSets[0] : headerSets[next++];
  if (!headers) return;
  await rec.send("GET", path, headers);
};
log(`${cfg.concurrency} concurrent GET ${path} over keep-alive (${client.kind}) for ${cfg.seconds} s`);
// The warm-up opens the connections (and, in the asymmetric modes, makes the Worker fetch the JWKS); unmeasured.
rec.measuring = false;
await pool(cfg.concurrency, cfg.warmupSeconds ?? 0, Math.floor(tokens.length === 1 ? Infinity : tokens.length * 0.1), op, () => {});
rec.measuring = true;
const budget = headerSets.length === 1 ? cfg.maxRequests : headerSets.length - next;
const elapsed = await pool(cfg.concurrency, cfg.seconds, budget, op, (t) => log(`${t.toFixed(0)} s: ${rec.requests} requests`));
await client.close();
const result = {
  mode: cfg.mode,
  path,
  client: client.kind,
  concurrency: cfg.concurrency,
  elapsedSec: elapsed,
  requests: rec.requests,
  requestsPerSec: rec.requests / elapsed,
  latencyMs: summarize(rec.latencies),
  errors: rec.errors,
  distinctTokens: headerSets.length,
  mintSec,
  // The fresh modes stop early when every pre-minted token is spent; the rate is then over the shorter window.
  ranOutOfTokens: headerSets.length > 1 && next >= headerSets.length,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
