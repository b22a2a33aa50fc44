// A receipt verified by a stock JWT library outside our runtime: the real `npm start` (scripts/start.mjs, with the
// dev key from .dev.vars.example) serves the Worker; a player earns and claims a milestone whose item name is not
// ASCII; Python's PyJWT (Debian's python3-jwt and python3-cryptography) fetches the keys from /.well-known/jwks.json
// with PyJWKClient, picks the receipt's kid and verifies it. An altered receipt must fail there too.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = "/usr/bin/python3"; // Debian's, where apt puts python3-jwt (a pyenv or venv python would not see it)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// CALENDAR_DOMAIN under `npm start` (wrangler.toml's default): receipts name their deployment in `iss`.
const ISSUER = "live-events.invalid";
const VERIFY = `
import json, sys, jwt
ISSUER = "${ISSUER}"
url, token = sys.argv[1], sys.argv[2]
key = jwt.PyJWKClient(url).get_signing_key_from_jwt(token)
try:
    claims = jwt.decode(token, key.key, algorithms=["EdDSA", "ES256"], issuer=ISSUER)
except jwt.InvalidTokenError as e:
    print(json.dumps({"valid": False, "error": type(e).__name__}))
else:
    print(json.dumps({"valid": True, "kid": key.key_id, "claims": claims}, ensure_ascii=False))
`;


let server = null;
const state = mkdtempSync(join(tmpdir(), "live-events-pyjwt-test-"));
after(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    process.kill(server.pid, "SIGTERM"); // start.mjs stops wrangler and waits for its processes
    await new Promise((resolve) => server.once("exit", resolve));
  }
  rmSync(state, { recursive: true, force: true });
});

function pyjwt(url, token) {
  const r = spawnSync(PYTHON, ["-c", VERIFY, url, token], { encoding: "utf8" });
  assert.equal(r.status, 0, `PyJWT failed to run (is python3-jwt installed? apt-get install -y python3-jwt python3-cryptography):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

test("PyJWT verifies a claim receipt with the keys from /.well-known/jwks.json, and refuses an altered one", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter), WRANGLER_SEND_METRICS: "false" };
  server = spawn(process.execPath, ["scripts/start.mjs", "--port", String(port), "--persist-to", state], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  server.stdout.on("data", (d) => (output += d));
  server.stderr.on("data", (d) => (output += d));
  for (let i = 0; !output.includes("is serving on"); i++) {
    assert.ok(server.exitCode === null && i < 900, `npm start did not serve:\n${output.slice(-3000)}`);
    await sleep(100);
  }

  const admin = readFileSync(join(root, ".dev.vars"), "utf8").match(/^ADMIN_TOKEN=(.*)$/m)[1].trim();
  const api = async (method, path, token, body, headers = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const item = "Épée du Dragon ⚔️ 龍の剣";
  const templateId = `pyjwt-${Date.now()}`;
  await api("POST", "/v1/admin/templates", admin, {
    templateId,
    type: "seasonal",
    tier: "mini",
    name: "Receipts",
    description: "PyJWT",
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: [{ index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "sword", type: "item", itemId: item, quantity: 1 }] }],
  });
  const event = await api("POST", "/v1/admin/events", admin, { templateId, startTime: "now", endTime: new Date(Date.now() + 7_200_000).toISOString() });
  const player = execFileSync(process.execPath, ["scripts/token.mjs", "pyjwt-player"], { cwd: root, env, encoding: "utf8" }).trim();
  await api("POST", `/v1/events/${event.eventId}/progress`, player, { updates: [{ objectiveId: "pts", amount: 10, seq: 1 }] });
  const { receipt } = await api("POST", `/v1/events/${event.eventId}/milestones/0/claim`, player, undefined, { "Idempotency-Key": "pyjwt-1" });

  const verified = pyjwt(`${base}/.well-known/jwks.json`, receipt.jws);
  assert.equal(verified.valid, true, JSON.stringify(verified));
  assert.equal(verified.kid, "dev-receipts-1");
  assert.deepEqual(
    { ...verified.claims },
    { iss: ISSUER, jti: receipt.claimId, sub: "pyjwt-player", iat: Math.floor(Date.parse(receipt.claimedAt) / 1000), claimId: receipt.claimId, playerId: "pyjwt-player", eventId: event.eventId, milestoneIndex: 0, rewards: receipt.rewards, claimedAt: receipt.claimedAt },
  );
  assert.equal(verified.claims.rewards[0].itemId, item);

  const [h, p, s] = receipt.jws.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  const altered = Buffer.from(JSON.stringify({ ...claims, rewards: [{ ...claims.rewards[0], quantity: 1000 }] })).toString("base64url");
  assert.deepEqual(pyjwt(`${base}/.well-known/jwks.json`, `${h}.${altered}.${s}`), { valid: false, error: "InvalidSignatureError" });
});
