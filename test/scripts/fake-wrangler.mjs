#!/usr/bin/env node
// A stand-in for wrangler in test/scripts/setup-cloudflare.test.mjs (via WRANGLER_BIN): no account, no network. It
// keeps an account's state (databases, queues, secrets per Worker) in the JSON file FAKE_WRANGLER_STATE, records every
// call's argv (and stdin, for `secret bulk`), and answers the list/info commands the way wrangler prints them.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(file, "utf8"));
const args = process.argv.slice(2);
const stdin = args[0] === "secret" && args[1] === "bulk" ? readFileSync(0, "utf8") : undefined;
state.calls.push(stdin === undefined ? { args } : { args, stdin });
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const worker = opt("--env") ? `live-events-${opt("--env")}` : "live-events";
const save = () => writeFileSync(file, JSON.stringify(state, null, 2));
const [a, b, c] = args;
let code = 0;

if (a === "d1" && b === "list") {
  // wrangler prints a banner-free JSON array with --json
  console.log(JSON.stringify(state.databases.map((d) => ({ uuid: d.uuid, name: d.name, created_at: "2026-01-01T00:00:00Z", version: "production" })), null, 2));
} else if (a === "d1" && b === "create") {
  const uuid = `${String(state.databases.length + 1).padStart(8, "0")}-1111-4222-8333-444455556666`;
  state.databases.push({ name: c, uuid });
  console.log(`✅ Successfully created DB '${c}'\n{ "d1_databases": [{ "binding": "DB", "database_name": "${c}", "database_id": "${uuid}" }] }`);
} else if (a === "queues" && b === "info") {
  if (state.queues.includes(c)) console.log(`Queue Name: ${c}\nQueue ID: q-${c}`);
  else {
    console.error(`✘ [ERROR] Queue "${c}" does not exist. To create it, run: wrangler queues create ${c}`);
    code = 1;
  }
} else if (a === "queues" && b === "create") {
  state.queues.push(c);
  console.log(`✅ Created queue '${c}'.`);
} else if (a === "secret" && b === "list") {
  if (state.secretListFails) {
    // Anything but "no such Worker": an expired login, a network error, an API outage. Set by the test.
    console.error(`✘ [ERROR] ${state.secretListFails}`);
    code = 1;
  } else if (!state.secrets[worker]) {
    // As wrangler 4 prints it (API code 10007); wrangler 3 said "This Worker does not exist on your account. [code: 10007]".
    console.error(`✘ [ERROR] Worker "${worker}"${opt("--env") ? ` (env: ${opt("--env")})` : ""} not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\nOtherwise, check that the Worker name is correct and you're logged into the right account.`);
    code = 1;
  } else console.log(JSON.stringify(Object.keys(state.secrets[worker]).map((name) => ({ name, type: "secret_text" }))));
} else if (a === "secret" && b === "bulk") {
  state.secrets[worker] = { ...state.secrets[worker], ...JSON.parse(stdin) };
  console.log(`✨ ${Object.keys(JSON.parse(stdin)).length} secrets successfully uploaded`);
} else if (a === "d1" && b === "migrations" && c === "apply") {
  console.log("✅ No migrations to apply!");
} else if (a === "deploy") {
  console.log(`Uploaded ${worker}`);
} else {
  console.error(`fake wrangler: unexpected ${args.join(" ")}`);
  code = 3;
}
save();
process.exit(code);
