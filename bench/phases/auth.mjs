// Phase auth: what authentication costs on a cheap route. A player GET (the countdown: one Durable Object call) with
// one reused HS256 token, where the Worker's per-isolate verified-token cache answers, then with a new token on every
// request, so every request pays a full jose verification: HS256 from PLAYER_TOKEN_SECRET, RS256 and ES256 from a
// JWKS served by a local HTTP server (../jwks-server.mjs) with `iss` and `aud` checked. Then an admin GET with an
// operator API key (hashed in D1, cached 30 s per isolate) and with the bootstrap ADMIN_TOKEN. Every figure is read
// as a ratio against a baseline from the same run: the echo phase's req/s if it ran, else a short echo run of its own.
import { adminApi } from "../admin.mjs";
import { startCpuWatch } from "../cpu.mjs";
import { startJwksServer } from "../jwks-server.mjs";
import { BENCH_AUDIENCE, BENCH_ISSUER } from "../jwt.mjs";
import { runLoad } from "../load-runner.mjs";
import { fmtCounts, fmtInt, fmtLatency, fmtNum, target } from "../stats.mjs";

const status = (t) => (t.met ? "met" : "MISSED");
const ratio = (a, b) => (a?.requestsPerSec && b?.requestsPerSec ? a.requestsPerSec / b.requestsPerSec : null);

const MODES = [
  ["hs256-cached", "player GET, one reused HS256 token (cache hits)"],
  ["hs256-fresh", "player GET, a new HS256 token per request"],
  ["rs256-fresh", "player GET, a new RS256 token per request (JWKS)"],
  ["es256-fresh", "player GET, a new ES256 token per request (JWKS)"],
  ["admin-key", "admin GET, operator API key"],
  ["admin-bootstrap", "admin GET, bootstrap ADMIN_TOKEN"],
];
/** The JWKS host may be fetched this often in the whole phase: once for the first asymmetric token, once spare. */
const MAX_JWKS_FETCHES = 2;

export default {
  name: "auth",
  title: "Phase auth: player tokens and operator keys (GET countdown, GET admin event)",

  /** Before the Worker starts: the JWKS host its PLAYER_JWKS_URL must name, and the claims it must check. */
  async beforeServer() {
    const jwks = await startJwksServer();
    return {
      vars: { PLAYER_JWKS_URL: jwks.url, PLAYER_JWT_ISSUER: BENCH_ISSUER, PLAYER_JWT_AUDIENCE: BENCH_AUDIENCE },
      jwks,
      stop: () => jwks.close(),
    };
  },

  async run(ctx) {
    const { config } = ctx;
    const jwks = ctx.prepared?.auth?.jwks;
    if (!jwks) throw new Error("the JWKS server was not started before the Worker");
    const m = ctx.measured;
    m.jwksFetchesBeforePhase = jwks.fetches();

    m.step = "baseline";
    let baseline = ctx.results.echo?.metrics?.requestsPerSec ? { source: "echo phase", ...ctx.results.echo.metrics } : null;
    if (!baseline) {
      ctx.log(`Phase auth: no echo phase in this run; a ${config.authBaselineSeconds} s echo for the baseline…`);
      const echo = await runLoad("./load-http.mjs", {
        scenario: "echo",
        baseUrl: ctx.baseUrl,
        concurrency: config.concurrency,
        seconds: config.authBaselineSeconds,
        warmupSeconds: 1,
        maxRequests: 2_000_000,
      });
      if (echo.requests === 0) throw new Error("the baseline echo completed no request");
      baseline = { source: `own ${config.authBaselineSeconds} s echo`, ...echo };
    }
    m.baseline = baseline;
    m.rows = [baselineRow(baseline)];

    m.step = "setup";
    const api = adminApi(ctx.baseUrl, ctx.adminToken, ctx.serverAlive);
    await api.createTemplate("bench-auth");
    const event = await api.createActiveEvent({ templateId: "bench-auth", shardCount: 1, expectedParticipants: 100 });
    const key = await api.call("POST", "/v1/admin/keys", { kind: "operator", name: "bench", role: "operator" }, [201]);
    m.eventId = event.eventId;
    m.keyId = key.keyId;

    // Enough pre-minted tokens for the window at 1.5 × the baseline rate (no route here is faster than the echo).
    const perMode = Math.min(60_000, Math.max(2_000, Math.ceil(baseline.requestsPerSec * (config.authSeconds + 1) * 1.5)));
    m.scenarios = {};
    for (const [mode, label] of MODES) {
      m.step = mode;
      ctx.log(`Phase auth: ${label} for ${config.authSeconds} s…`);
      const before = jwks.fetches();
      // Per mode, because the modes are compared with each other: a mode run while something else took the CPUs
      // looks slower than it is, and its row says so.
      const cpuWatch = startCpuWatch();
      const load = await runLoad("./load-auth.mjs", {
        mode,
        baseUrl: ctx.baseUrl,
        eventId: event.eventId,
        concurrency: config.concurrency,
        seconds: config.authSeconds,
        warmupSeconds: 1,
        maxRequests: mode.endsWith("-fresh") ? perMode : 2_000_000,
        playerSecret: ctx.playerSecret,
        adminToken: ctx.adminToken,
        apiKey: key.key,
        keys: jwks.keys,
      });
      m.scenarios[mode] = { ...load, jwksFetches: jwks.fetches() - before, ratioToBaseline: ratio(load, baseline), cpu: cpuWatch() };
      // If a later mode stops the phase, the table still shows the ones measured (run.mjs reports measured.rows).
      m.rows = [...m.rows, modeRow(m.scenarios[mode], label)];
      ctx.log(
        `  ${fmtNum(load.requestsPerSec)} req/s (${fmtNum(ratio(load, baseline), 2)} × baseline), p50/p95/p99 ${fmtLatency(load.latencyMs)} ms, ` +
          `errors: ${fmtCounts(load.errors)}${load.ranOutOfTokens ? "; ran out of pre-minted tokens" : ""}`,
      );
    }
    m.step = "report";
    m.jwksFetches = jwks.fetches() - m.jwksFetchesBeforePhase;
    return report(m, baseline);
  },
};

const baselineRow = (b) => [`baseline (${b.source}): req/s; p50/p99 ms`, `${fmtNum(b.requestsPerSec)}; ${fmtNum(b.latencyMs.p50)} / ${fmtNum(b.latencyMs.p99)}`, "", ""];

function modeRow(l, label) {
  const note = [
    l.ranOutOfTokens ? "tokens ran out" : "",
    l.distinctTokens > 1 ? `${fmtInt(l.requests)} distinct tokens` : "",
    l.cpu ? `other processes ${Math.round(l.cpu.foreign * 100)}% of CPUs${l.cpu.foreign > 0.1 ? " (SKEWED)" : ""}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  return [`${label}: req/s (× baseline); p50/p99 ms`, `${fmtNum(l.requestsPerSec)} (${fmtNum(l.ratioToBaseline, 2)}); ${fmtNum(l.latencyMs.p50)} / ${fmtNum(l.latencyMs.p99)}${note ? `; ${note}` : ""}`, "", ""];
}

function report(m, baseline) {
  const s = m.scenarios;
  const cached = s["hs256-cached"];
  const refused = Object.values(s).reduce((n, l) => n + Object.values(l.errors).reduce((a, b) => a + b, 0), 0);
  const targets = [
    target("auth: player GET (cached HS256) ÷ baseline req/s", ratio(cached, baseline), "≥ 0.7", ratio(cached, baseline) >= 0.7),
    target("auth: fresh HS256 ÷ cached HS256 req/s", ratio(s["hs256-fresh"], cached), "≥ 0.9", ratio(s["hs256-fresh"], cached) >= 0.9),
    target("auth: fresh RS256 ÷ cached HS256 req/s", ratio(s["rs256-fresh"], cached), "≥ 0.8", ratio(s["rs256-fresh"], cached) >= 0.8),
    target("auth: fresh ES256 ÷ cached HS256 req/s", ratio(s["es256-fresh"], cached), "≥ 0.8", ratio(s["es256-fresh"], cached) >= 0.8),
    target("auth: operator key ÷ bootstrap token req/s", ratio(s["admin-key"], s["admin-bootstrap"]), "≥ 0.9", ratio(s["admin-key"], s["admin-bootstrap"]) >= 0.9),
    target("auth: JWKS fetches during the phase", m.jwksFetches, `≤ ${MAX_JWKS_FETCHES}`, m.jwksFetches <= MAX_JWKS_FETCHES),
    target("auth: requests not answered 200", refused, "= 0", refused === 0),
  ];
  const byGoal = (t) => [t.name.replace(/^auth: /, ""), t.name.includes("fetches") || t.name.includes("not answered") ? fmtInt(t.value) : fmtNum(t.value, 2), t.goal, status(t)];
  return {
    metrics: { ...m, step: undefined, rows: undefined, ratios: Object.fromEntries(targets.map((t) => [t.name.replace(/^auth: /, ""), t.value])) },
    rows: [
      baselineRow(baseline),
      ...MODES.map(([mode, label]) => modeRow(s[mode], label)),
      ...targets.map(byGoal),
      ["non-200 answers by mode", MODES.map(([mode]) => `${mode}: ${fmtCounts(s[mode].errors)}`).join("; "), "", ""],
    ],
    targets,
  };
}
