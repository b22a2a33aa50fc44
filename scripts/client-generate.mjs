// `npm run client:generate`: regenerates the typed client's types from the Worker's own API description.
// 1. serves the deploy bundle on a free port with a throwaway local state (bench/server.mjs, the same harness the
//    bench uses), 2. saves GET /openapi.json as client/openapi.json, 3. runs openapi-typescript on it into
//    client/schema.d.ts. test/client-schema.test.ts fails when the committed document no longer matches the Worker's,
//    so a route change without a regeneration cannot land.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../bench/server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg) => console.error(`[client:generate] ${msg}`);

/** The dev secrets, so the Worker starts exactly as `npm start` would run it. */
const secrets = Object.fromEntries(
  readFileSync(join(root, ".dev.vars.example"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

const server = await startServer({ root, vars: {}, secrets, preferredPort: 8797, log });
try {
  const res = await fetch(`${server.baseUrl}/openapi.json`);
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  const doc = await res.json();
  // The server answers with its own origin; the committed copy must not depend on which port it ran on.
  delete doc.servers;
  writeFileSync(join(root, "client", "openapi.json"), `${JSON.stringify(doc, null, 2)}\n`);
  log(`client/openapi.json: ${Object.keys(doc.paths ?? {}).length} paths`);
} finally {
  await server.stop();
}
await run(join(root, "node_modules", ".bin", "openapi-typescript"), ["client/openapi.json", "-o", "client/schema.d.ts"]);
log("client/schema.d.ts written");
