// scripts/setup-cloudflare.mjs without a Cloudflare account: WRANGLER_BIN points it at test/scripts/fake-wrangler.mjs,
// which keeps a pretend account in a JSON file and records every call. Each test works on its own copy of
// wrangler.toml. What must hold: a first run creates what is missing and writes the database id (default and staging),
// secrets come from the environment, a second run creates nothing, --dry-run changes nothing; and the staging
// environment bundles (`npm run build -- --env staging`, wrangler's own dry run).
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const FAKE = join(root, "test", "scripts", "fake-wrangler.mjs");
const PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
const SECRET_NAMES = [...readFileSync(join(root, ".dev.vars.example"), "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
const PATH = [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter);
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh pretend account and a copy of wrangler.toml. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "live-events-setup-test-"));
  dirs.push(dir);
  const config = join(dir, "wrangler.toml");
  copyFileSync(join(root, "wrangler.toml"), config);
  const stateFile = join(dir, "account.json");
  writeFileSync(stateFile, JSON.stringify({ databases: [], queues: [], secrets: {}, calls: [] }));
  const state = () => JSON.parse(readFileSync(stateFile, "utf8"));
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SECRET_NAMES.includes(k)));
  const setup = (args = [], env = {}) => {
    const before = state().calls.length;
    const r = spawnSync(process.execPath, [join(root, "scripts", "setup-cloudflare.mjs"), "--config", config, ...args], {
      cwd: root,
      encoding: "utf8",
      input: "", // no terminal: nothing can be asked
      env: { ...base, PATH, WRANGLER_BIN: FAKE, FAKE_WRANGLER_STATE: stateFile, ...env },
    });
    return { ...r, output: `${r.stdout}${r.stderr}`, calls: state().calls.slice(before).map((c) => c.args.filter((a, i, all) => a !== "--config" && all[i - 1] !== "--config").join(" ")) };
  };
  return { dir, config, toml: () => readFileSync(config, "utf8"), state, stateFile, setup };
}

/** database_id of the DB binding in the given section prefix ("" or "env.staging."). */
function databaseId(toml, prefix) {
  const block = toml.split(/^(?=\[)/m).find((b) => b.startsWith(`[[${prefix}d1_databases]]`));
  return block.match(/database_id = "([^"]*)"/)[1];
}
const MUTATIONS = /^(d1 create|queues create|secret bulk)/;

describe("npm run setup:cloudflare", () => {
  test("a first run creates the database, writes its id, creates the queues and puts the secrets; a second creates nothing", () => {
    const box = sandbox();
    const first = box.setup([], { ADMIN_TOKEN: "ops-admin", PLAYER_TOKEN_SECRET: "player-secret" });
    assert.equal(first.status, 0, first.output);
    assert.deepEqual(first.calls.filter((c) => MUTATIONS.test(c)), [
      "d1 create live-events",
      "queues create inventory-deliveries",
      "queues create push-notifications",
      "queues create push-notifications-dlq",
      "secret bulk",
    ]);
    assert.equal(first.calls.at(-1), "d1 migrations apply DB --remote");
    const [db] = box.state().databases;
    assert.equal(databaseId(box.toml(), ""), db.uuid, "the default environment's database_id is the new database's");
    assert.equal(databaseId(box.toml(), "env.staging."), PLACEHOLDER, "staging is left alone");
    // Secrets from the environment; the receipt key and the privacy salt generated; optional ones left unset.
    const secrets = box.state().secrets["live-events"];
    assert.deepEqual(Object.keys(secrets).sort(), ["ADMIN_TOKEN", "PLAYER_TOKEN_SECRET", "PRIVACY_SALT", "RECEIPT_SIGNING_KEY"]);
    assert.match(secrets.PRIVACY_SALT, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(secrets.ADMIN_TOKEN, "ops-admin");
    const key = JSON.parse(secrets.RECEIPT_SIGNING_KEY);
    assert.deepEqual([key.kty, key.crv, key.alg, typeof key.d, typeof key.kid], ["OKP", "Ed25519", "EdDSA", "string", "string"]);
    assert.ok(!first.output.includes("ops-admin") && !first.output.includes(key.d), "no secret value is printed");
    assert.ok(!box.state().calls.some((c) => c.args.some((a) => a.includes("ops-admin"))), "secret values go on stdin, never argv");

    const toml = box.toml();
    const second = box.setup();
    assert.equal(second.status, 0, second.output);
    assert.deepEqual(second.calls.filter((c) => MUTATIONS.test(c)), [], `the second run changed something:\n${second.output}`);
    assert.equal(box.toml(), toml, "wrangler.toml is unchanged");
    assert.equal(JSON.parse(box.state().secrets["live-events"].RECEIPT_SIGNING_KEY).kid, key.kid, "the receipt key is kept");
    // A secret given again in the environment is put again (a rotation), and only that one.
    const third = box.setup([], { ADMIN_TOKEN: "ops-admin-2" });
    assert.equal(third.status, 0, third.output);
    assert.deepEqual(third.calls.filter((c) => MUTATIONS.test(c)), ["secret bulk"], `the third run:\n${third.output}\ncalls: ${third.calls.join(" | ")}`);
    assert.deepEqual(JSON.parse(box.state().calls.at(-2).stdin), { ADMIN_TOKEN: "ops-admin-2" });
  });

  test("--env staging sets up the staging database, queues and Worker and writes the id into [env.staging]", () => {
    const box = sandbox();
    box.setup([], { ADMIN_TOKEN: "a", PLAYER_TOKEN_SECRET: "p" }); // production first: staging must not touch it
    const prodId = databaseId(box.toml(), "");
    const r = box.setup(["--env", "staging"], { ADMIN_TOKEN: "sa", PLAYER_TOKEN_SECRET: "sp", INVENTORY_WEBHOOK_SECRET: "whsec_c2VjcmV0" });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.calls.filter((c) => MUTATIONS.test(c)), [
      "d1 create live-events-staging",
      "queues create inventory-deliveries-staging",
      "queues create push-notifications-staging",
      "queues create push-notifications-dlq-staging",
      "secret bulk --env staging",
    ]);
    assert.equal(r.calls.at(-1), "d1 migrations apply DB --remote --env staging");
    const staging = box.state().databases.find((d) => d.name === "live-events-staging");
    assert.equal(databaseId(box.toml(), "env.staging."), staging.uuid);
    assert.equal(databaseId(box.toml(), ""), prodId);
    assert.deepEqual(Object.keys(box.state().secrets["live-events-staging"]).sort(), ["ADMIN_TOKEN", "INVENTORY_WEBHOOK_SECRET", "PLAYER_TOKEN_SECRET", "PRIVACY_SALT", "RECEIPT_SIGNING_KEY"]);
    assert.equal(box.state().secrets["live-events"].ADMIN_TOKEN, "a");
  });

  test("--dry-run runs only lookups, prints each change it would make, and changes nothing", () => {
    const box = sandbox();
    const toml = box.toml();
    const r = box.setup(["--dry-run"], { ADMIN_TOKEN: "a", PLAYER_TOKEN_SECRET: "p" });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.calls, [
      "d1 list --json",
      "queues info inventory-deliveries",
      "queues info push-notifications",
      "queues info push-notifications-dlq",
      "secret list --format json",
    ]);
    for (const line of ["would run: wrangler d1 create live-events", "would run: wrangler queues create push-notifications-dlq", "would run: wrangler secret bulk", "would run: wrangler d1 migrations apply DB --remote"]) {
      assert.ok(r.output.includes(line), `missing "${line}" in:\n${r.output}`);
    }
    assert.deepEqual(box.state().databases, []);
    assert.equal(box.toml(), toml);
  });

  test("a required secret with no value and no terminal to ask on stops the run, naming it; nothing is put", () => {
    const box = sandbox();
    const r = box.setup([], { ADMIN_TOKEN: "a" });
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /no value for PLAYER_TOKEN_SECRET/);
    assert.ok(!r.calls.some((c) => c.startsWith("secret bulk") || c.startsWith("d1 migrations")));
  });

  test("when `secret list` fails for any reason but a missing Worker, it stops and puts nothing (above all no new receipt key)", () => {
    const box = sandbox();
    assert.equal(box.setup([], { ADMIN_TOKEN: "a", PLAYER_TOKEN_SECRET: "p" }).status, 0);
    const key = box.state().secrets["live-events"].RECEIPT_SIGNING_KEY;
    const account = box.state();
    for (const failure of [
      "Authentication error [code: 10000]",
      "A request to the Cloudflare API (/accounts/x/workers/scripts/live-events/secrets) failed. fetch failed",
    ]) {
      writeFileSync(box.stateFile, JSON.stringify({ ...account, secretListFails: failure }));
      const r = box.setup([], { ADMIN_TOKEN: "a2" });
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, /`wrangler secret list` failed, so it is unknown which secrets are set/);
      assert.ok(r.output.includes(failure), r.output);
      assert.ok(!r.calls.some((c) => c.startsWith("secret bulk") || c.startsWith("d1 migrations")), r.calls.join("\n"));
      assert.equal(box.state().secrets["live-events"].RECEIPT_SIGNING_KEY, key, "the receipt key is untouched");
    }
  });

  test("a Worker that exists without a receipt key gets none generated: the run asks for one and names the command that makes it", () => {
    const box = sandbox();
    const state = box.state();
    writeFileSync(box.stateFile, JSON.stringify({ ...state, secrets: { "live-events": { ADMIN_TOKEN: "a", PLAYER_TOKEN_SECRET: "p" } } }));
    const r = box.setup();
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /no value for RECEIPT_SIGNING_KEY.*npm run keys:receipt/);
    assert.ok(!r.calls.some((c) => c.startsWith("secret bulk")));
    const given = box.setup([], { RECEIPT_SIGNING_KEY: '{"kty":"OKP"}' });
    assert.equal(given.status, 0, given.output);
    assert.equal(box.state().secrets["live-events"].RECEIPT_SIGNING_KEY, '{"kty":"OKP"}');
  });

  test("bad arguments and an unknown environment are refused", () => {
    const box = sandbox();
    assert.equal(box.setup(["--frobnicate"]).status, 2);
    const r = box.setup(["--env", "qa"]);
    assert.equal(r.status, 1);
    assert.match(r.output, /has no \[env\.qa\] section/);
    assert.deepEqual(r.calls, []);
  });
});

describe("npm run deploy", () => {
  test("applies the migrations and deploys to the same environment", () => {
    const box = sandbox();
    const bin = join(box.dir, "bin");
    mkdirSync(bin);
    symlinkSync(FAKE, join(bin, "wrangler"));
    const r = spawnSync(process.execPath, [join(root, "scripts", "deploy.mjs"), "--env", "staging"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PATH: [bin, PATH].join(delimiter), FAKE_WRANGLER_STATE: box.stateFile },
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.deepEqual(box.state().calls.map((c) => c.args.join(" ")), ["d1 migrations apply DB --remote --env staging", "deploy --env staging"]);
  });
});

/** The setting names in one [vars]-like section of wrangler.toml (environments do not inherit [vars]). */
function varNames(toml, header) {
  const at = toml.indexOf(`\n${header}\n`);
  assert.ok(at >= 0, `wrangler.toml has no ${header}`);
  const body = toml.slice(at + header.length + 2).split(/\n\[/)[0];
  return [...body.matchAll(/^([A-Z0-9_]+)\s*=/gm)].map((m) => m[1]).sort();
}

describe("the staging environment", () => {
  test("has every setting the default environment has (a new [vars] entry must be added to both)", () => {
    const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
    const names = varNames(toml, "[vars]");
    assert.ok(names.length > 20, `read only ${names.length} settings from [vars]`);
    assert.deepEqual(varNames(toml, "[env.staging.vars]"), names);
  });

  test("bundles: npm run build -- --env staging (wrangler deploy --dry-run)", { timeout: 180_000 }, () => {
    const r = spawnSync("npm", ["run", "build", "--", "--env", "staging"], { cwd: root, encoding: "utf8", env: { ...process.env, PATH, WRANGLER_SEND_METRICS: "false" } });
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, output);
    for (const binding of ["env.DB (live-events-staging)", "env.INVENTORY_QUEUE (inventory-deliveries-staging)", "env.PROGRESS_SHARD_ACTOR (ProgressShardActor)"]) {
      assert.ok(output.includes(binding), `missing ${binding} in:\n${output}`);
    }
    assert.ok(!output.includes("WARNING"), `wrangler warned:\n${output}`);
  });
});
