// `npm run setup:cloudflare [-- --env staging] [--dry-run] [--config wrangler.toml]`: everything a Cloudflare account
// needs before the first `npm run deploy`, through the project's own wrangler. Idempotent: each step looks first and
// only creates what is missing, so running it again changes nothing (a secret given in the environment is put again).
//   1. the D1 database (`wrangler d1 list --json`, else `d1 create`), whose id is written into wrangler.toml;
//   2. the queues the config names (`wrangler queues info`, else `queues create`; info answers for one name exactly,
//      where the list is a paginated table);
//   3. the secrets, named by .dev.vars.example so the list never drifts: each from the environment, else left alone
//      if the Worker has it already, else asked for (hidden input). RECEIPT_SIGNING_KEY is generated only when wrangler
//      says the Worker does not exist yet; PRIVACY_SALT whenever the Worker lacks one; if `secret list` fails any
//      other way, the script stops and puts nothing.
//      Secrets marked (optional) there may stay unset. All go in one `wrangler secret bulk`, on stdin (never argv);
//   4. the remote D1 migrations (`wrangler d1 migrations apply DB --remote`).
// --dry-run still runs the read-only lookups (they need a login) and prints every command that would change something
// instead of running it; wrangler.toml is left as it is. WRANGLER_BIN replaces the wrangler it runs (tests use a fake).
import { spawn } from "node:child_process";
import { generateKeyPairSync, createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const USAGE = "usage: npm run setup:cloudflare [-- --env <name>] [--dry-run] [--config <wrangler.toml>]";
const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

function fail(why) {
  console.error(`setup:cloudflare: ${why}`);
  process.exit(1);
}

// ---- arguments ------------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const opts = { env: null, dryRun: false, config: join(root, "wrangler.toml") };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--dry-run") opts.dryRun = true;
  else if (a === "--env" || a === "-e") opts.env = argv[++i];
  else if (a.startsWith("--env=")) opts.env = a.slice(6);
  else if (a === "--config" || a === "-c") opts.config = resolve(argv[++i] ?? "");
  else if (a === "--help" || a === "-h") {
    console.log(USAGE);
    process.exit(0);
  } else {
    console.error(`setup:cloudflare: unknown argument ${a}\n${USAGE}`);
    process.exit(2);
  }
}
if (opts.env === undefined || opts.env === "") fail(`--env needs a name\n${USAGE}`);

// ---- wrangler.toml: the few things this script needs, read and written as text so comments and layout stay ---------

/** Each [[table]] / [table] of the file: its header, where it starts and ends, and its `key = "string"` pairs. */
function tables(text) {
  const lines = text.split("\n");
  const out = [];
  let current = { header: "", start: 0, values: {} };
  lines.forEach((line, n) => {
    const header = line.match(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$/);
    if (header) {
      current.end = n;
      out.push(current);
      current = { header: header[1], start: n, values: {} };
      return;
    }
    const kv = line.match(/^\s*([A-Za-z0-9_]+)\s*=\s*"([^"]*)"/);
    if (kv) current.values[kv[1]] = kv[2];
  });
  current.end = lines.length;
  out.push(current);
  return out;
}

const tomlText = (() => {
  try {
    return readFileSync(opts.config, "utf8");
  } catch (err) {
    return fail(`cannot read ${opts.config}: ${err.message}`);
  }
})();
const prefix = opts.env ? `env.${opts.env}.` : "";
const all = tables(tomlText);
if (opts.env && !all.some((t) => t.header === `env.${opts.env}`)) fail(`${opts.config} has no [env.${opts.env}] section`);
const own = (name) => all.filter((t) => t.header === `${prefix}${name}`);
const d1 = own("d1_databases").find((t) => t.values.binding === "DB");
if (!d1?.values.database_name) fail(`no [[${prefix}d1_databases]] with binding = "DB" and a database_name in ${opts.config}`);
const queueNames = [
  ...new Set(
    [...own("queues.producers"), ...own("queues.consumers")].flatMap((t) => [t.values.queue, t.values.dead_letter_queue]).filter(Boolean),
  ),
];
const envArgs = opts.env ? ["--env", opts.env] : [];
const configArgs = ["--config", opts.config];

/** wrangler.toml with the DB's database_id set; the same text when it already is. */
function withDatabaseId(text, id) {
  const lines = text.split("\n");
  const block = tables(text).find((t) => t.header === `${prefix}d1_databases` && t.values.binding === "DB");
  for (let n = block.start + 1; n < block.end; n++) {
    if (/^\s*database_id\s*=/.test(lines[n])) {
      lines[n] = lines[n].replace(/"[^"]*"/, `"${id}"`);
      return lines.join("\n");
    }
  }
  lines.splice(block.start + 1, 0, `database_id = "${id}"`);
  return lines.join("\n");
}

// ---- running wrangler -----------------------------------------------------------------------------------------------

const wranglerBin = process.env.WRANGLER_BIN || join(root, "node_modules", ".bin", "wrangler");
// node_modules/.bin first: it has Node 24, which wrangler needs. CI=true: wrangler asks nothing (this script does).
const childEnv = { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter), CI: "true", WRANGLER_SEND_METRICS: "false" };
const shown = (args) => `wrangler ${args.join(" ")}`;

/** Runs wrangler and collects its output; `input` goes to its stdin. */
function run(args, { input = "", echo = false } = {}) {
  return new Promise((done) => {
    const proc = spawn(wranglerBin, args, { cwd: dirname(opts.config), env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => {
      stdout += d;
      if (echo) process.stdout.write(d);
    });
    proc.stderr.on("data", (d) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    proc.on("error", (err) => fail(`cannot run ${wranglerBin}: ${err.message} (run \`npm install\` first)`));
    proc.on("close", (code) => done({ code, stdout, stderr }));
    proc.stdin.end(input);
  });
}

/** A command that changes the account: printed under --dry-run, else run (its output shown) and required to work. */
async function change(args, { input, what } = {}) {
  if (opts.dryRun) {
    console.log(`  [dry-run] would run: ${shown(args)}${input ? "   (secret values on stdin)" : ""}`);
    return;
  }
  console.log(`  $ ${shown(args)}`);
  const r = await run(args, { input, echo: true });
  if (r.code !== 0) fail(`${what ?? shown(args)} failed (exit ${r.code})`);
}

async function lookup(args) {
  const r = await run(args);
  return { ...r, text: `${r.stdout}\n${r.stderr}` };
}

// ---- secrets --------------------------------------------------------------------------------------------------------

/** The secret names .dev.vars.example lists, each optional when the comment just above it says "(optional)". */
function secretSpecs() {
  const lines = readFileSync(join(root, ".dev.vars.example"), "utf8").split("\n");
  return lines.flatMap((line, n) => {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=/);
    if (!m) return [];
    let k = n - 1;
    const comment = [];
    while (k >= 0 && lines[k].startsWith("#")) comment.unshift(lines[k--]);
    return [{ name: m[1], optional: /\(optional\b/.test(comment.join(" ")) }];
  });
}

function freshReceiptKey() {
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
  const kid = createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest("base64url");
  return JSON.stringify({ ...jwk, kid, alg: "EdDSA", use: "sig" });
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question) {
  return new Promise((done) => {
    const { stdin, stdout } = process;
    stdout.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    let value = "";
    const onData = (chunk) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          stdout.write("\n");
          return done(value);
        }
        if (ch === "\u0003") process.exit(130); // Ctrl-C
        if (ch === "\u007f") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

// ---- the steps ------------------------------------------------------------------------------------------------------

console.log(`setup:cloudflare: ${opts.env ? `environment "${opts.env}"` : "the default environment"}, config ${opts.config}${opts.dryRun ? " (dry run)" : ""}`);

// 1. D1
console.log(`\n1. D1 database "${d1.values.database_name}"`);
async function findDatabase() {
  const r = await lookup(["d1", "list", "--json", ...configArgs]);
  if (r.code !== 0) fail(`\`wrangler d1 list --json\` failed (are you logged in? \`npm exec -- wrangler login\`, or set CLOUDFLARE_API_TOKEN):\n${r.text.trim()}`);
  let list;
  try {
    list = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
  } catch {
    fail(`\`wrangler d1 list --json\` printed something that is not JSON:\n${r.stdout.trim()}`);
  }
  return list.find((db) => db.name === d1.values.database_name) ?? null;
}
let database = await findDatabase();
if (database) console.log(`  exists: ${database.uuid}`);
else {
  await change(["d1", "create", d1.values.database_name, ...configArgs]);
  if (!opts.dryRun) {
    database = await findDatabase();
    if (!database) fail(`created "${d1.values.database_name}" but \`wrangler d1 list\` does not show it`);
  }
}
if (database && d1.values.database_id !== database.uuid) {
  if (opts.dryRun) console.log(`  [dry-run] would set database_id = "${database.uuid}" in ${opts.config}`);
  else {
    writeFileSync(opts.config, withDatabaseId(readFileSync(opts.config, "utf8"), database.uuid));
    console.log(`  wrote database_id = "${database.uuid}" into ${opts.config}`);
  }
} else if (database) console.log(`  ${opts.config} already has its id`);
else if (d1.values.database_id === PLACEHOLDER_ID) console.log(`  [dry-run] would write the new database's id into ${opts.config}`);

// 2. Queues
console.log(`\n2. Queues: ${queueNames.join(", ")}`);
for (const name of queueNames) {
  const r = await lookup(["queues", "info", name, ...configArgs]);
  if (r.code === 0) console.log(`  exists: ${name}`);
  else if (/does not exist/i.test(r.text)) await change(["queues", "create", name, ...configArgs]);
  else fail(`\`wrangler queues info ${name}\` failed:\n${r.text.trim()}`);
}

// 3. Secrets
const specs = secretSpecs();
console.log(`\n3. Secrets: ${specs.map((s) => s.name).join(", ")}`);
const listed = await lookup(["secret", "list", "--format", "json", ...envArgs, ...configArgs]);
// What wrangler prints when the Worker itself is missing (API codes 10007 / 10090), in wrangler 4's words and in 3's.
// Only then is "no secrets yet" known; any other failure (a lapsed login, the network) says nothing about them.
const NO_WORKER = /Worker "[^"]*"(?: \(env: [^)]*\))? not found|This Worker does not exist on your account|\[code: 100(?:07|90)\]/;
let existing;
let workerAbsent = false;
if (listed.code === 0) {
  try {
    existing = new Set(JSON.parse(listed.stdout.slice(listed.stdout.indexOf("["))).map((s) => s.name));
  } catch {
    fail(`\`wrangler secret list\` printed something that is not a JSON list, so it is unknown which secrets are set; nothing was put:\n${listed.text.trim()}`);
  }
} else if (NO_WORKER.test(listed.text)) {
  // No Worker yet (its first deploy comes after this), so no secrets either: `secret bulk` creates it.
  existing = new Set();
  workerAbsent = true;
  console.log("  no Worker yet: every secret is new");
} else {
  fail(
    `\`wrangler secret list\` failed, so it is unknown which secrets are set; stopping rather than overwrite one (a new RECEIPT_SIGNING_KEY would orphan every receipt already issued). Nothing was put:\n${listed.text.trim()}`,
  );
}
const toPut = {};
const missing = [];
for (const { name, optional } of specs) {
  const fromEnv = process.env[name];
  if (fromEnv) {
    toPut[name] = fromEnv;
    console.log(`  ${name}: from the environment`);
  } else if (existing.has(name)) console.log(`  ${name}: already set`);
  // Generated only for a Worker that does not exist yet: for an existing one, a receipt key it lacks is a mystery
  // worth a human's look (a key set outside this script under another name?), not something to paper over.
  else if (name === "RECEIPT_SIGNING_KEY" && workerAbsent) {
    toPut[name] = freshReceiptKey();
    console.log(`  ${name}: generated a fresh Ed25519 key (kid ${JSON.parse(toPut[name]).kid})`);
  } else if (name === "PRIVACY_SALT") {
    // A salt has nothing to match elsewhere, so any Worker without one gets a fresh one (without it, pseudonyms use
    // the dev-only fallback that anyone reading the repository knows).
    toPut[name] = randomBytes(32).toString("base64url");
    console.log(`  ${name}: generated a fresh salt`);
  } else if (process.stdin.isTTY && !opts.dryRun) {
    const value = (await askHidden(`  ${name}${optional ? " (optional, Enter to skip)" : ""}: `)).trim();
    if (value) toPut[name] = value;
    else if (!optional) missing.push(name);
  } else if (!optional) missing.push(name);
  else console.log(`  ${name}: optional, left unset`);
}
const receiptHint = missing.includes("RECEIPT_SIGNING_KEY") ? " (`npm run keys:receipt` prints a new RECEIPT_SIGNING_KEY)" : "";
if (missing.length && !opts.dryRun) fail(`no value for ${missing.join(", ")}: set ${missing.length > 1 ? "them" : "it"} in the environment or run this in a terminal${receiptHint}`);
if (missing.length) console.log(`  [dry-run] would ask for: ${missing.join(", ")}`);
if (Object.keys(toPut).length) await change(["secret", "bulk", ...envArgs, ...configArgs], { input: JSON.stringify(toPut), what: "putting the secrets" });

// 4. Migrations
console.log("\n4. Remote D1 migrations");
await change(["d1", "migrations", "apply", "DB", "--remote", ...envArgs, ...configArgs]);

console.log(`\nsetup:cloudflare: ${opts.dryRun ? "dry run done, nothing changed" : "done"}. Next: npm run deploy${opts.env ? ` -- --env ${opts.env}` : ""}`);
