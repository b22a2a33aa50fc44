// `npm run client:csharp`: a C# client (Unity, .NET) generated from client/openapi.json, and compiled to prove it.
// NSwag (the npm package `nswag`, its .NET Framework build run by Mono) generates it; Mono's `mcs` compiles it
// against Newtonsoft.Json, which NSwag ships. Needs Debian's mono-devel (`apt-get install -y mono-devel`).
// Writes dist/csharp/LiveEventsClient.cs and LiveEventsClient.dll; prints the compiler's verdict.
//   --input <file>   another OpenAPI document (default client/openapi.json)
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareForNswag } from "./lib/nswag-prep.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const at = process.argv.indexOf("--input");
const input = at > 0 ? process.argv[at + 1] : join(root, "client", "openapi.json");
const out = join(root, "dist", "csharp");
const nswag = join(root, "node_modules", "nswag", "bin", "binaries", "Win");
const facades = "/usr/lib/mono/4.5/Facades/netstandard.dll";

function fail(msg) {
  console.error(`[client:csharp] ${msg}`);
  process.exit(1);
}
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: out, encoding: "utf8", timeout: 120_000 });
  if (r.error) fail(`${cmd} could not run: ${r.error.message}`);
  return r;
}

if (spawnSync("mono", ["--version"]).error || !existsSync(facades)) fail("Mono is missing: apt-get install -y mono-devel");
if (!existsSync(join(nswag, "NSwag.exe"))) fail("node_modules/nswag is missing: npm install");
if (!existsSync(input)) fail(`${input} not found (npm run client:generate writes client/openapi.json)`);

mkdirSync(out, { recursive: true });
writeFileSync(join(out, "openapi.nswag.json"), JSON.stringify(prepareForNswag(JSON.parse(readFileSync(input, "utf8"))), null, 2));
const gen = run("mono", [
  join(nswag, "NSwag.exe"),
  "openapi2csclient",
  "/input:openapi.nswag.json",
  "/classname:LiveEventsClient",
  "/namespace:LiveEvents.Client",
  "/output:LiveEventsClient.cs",
]);
if (gen.status !== 0 || !existsSync(join(out, "LiveEventsClient.cs"))) fail(`NSwag failed:\n${gen.stdout}\n${gen.stderr}`);
copyFileSync(join(nswag, "Newtonsoft.Json.dll"), join(out, "Newtonsoft.Json.dll"));
const mcs = run("mcs", [
  "-target:library",
  "-out:LiveEventsClient.dll",
  "-r:System.Net.Http.dll",
  "-r:System.Runtime.Serialization.dll",
  "-r:System.ComponentModel.DataAnnotations.dll",
  "-r:Newtonsoft.Json.dll",
  `-r:${facades}`,
  "LiveEventsClient.cs",
]);
process.stdout.write(mcs.stdout);
process.stderr.write(mcs.stderr);
if (mcs.status !== 0) fail("the generated C# did not compile");
console.error(`[client:csharp] dist/csharp/LiveEventsClient.cs compiled to dist/csharp/LiveEventsClient.dll`);
