// GET /openapi.json from a real `wrangler dev`, checked by tools outside the Worker: @readme/openapi-parser validates
// it against the OpenAPI 3.1 schema (plus its own checks: duplicate parameters, component names, …), and
// openapi-typescript generates TypeScript types from it, as a client generator would. Both need Node, not workerd.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compileErrors, validate } from "@readme/openapi-parser";
import openapiTS, { astToString } from "openapi-typescript";
import { freePort } from "./ports.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


let server;
let state;
let doc;

before(async () => {
  const port = await freePort();
  state = mkdtempSync(join(tmpdir(), "live-events-openapi-test-"));
  // Its own process group, so stopping it stops workerd too.
  server = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter), WRANGLER_SEND_METRICS: "false" },
  });
  let output = "";
  server.stdout.on("data", (d) => (output += d));
  server.stderr.on("data", (d) => (output += d));
  for (let i = 0; i < 240 && !doc; i++) {
    if (server.exitCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/openapi.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) doc = await res.json();
    } catch {
      await sleep(250);
    }
  }
  assert.ok(doc, `wrangler dev did not serve /openapi.json:\n${output.slice(-3000)}`);
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    process.kill(-server.pid, "SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (state) rmSync(state, { recursive: true, force: true });
});

describe("GET /openapi.json", { timeout: 120_000 }, () => {
  test("is a valid OpenAPI 3.1 document", async () => {
    assert.match(doc.openapi, /^3\.1\./);
    const result = await validate(structuredClone(doc));
    assert.ok(result.valid, result.valid ? "" : compileErrors(result));
  });

  test("generates TypeScript types with every path and the live channel's frames", async () => {
    const ts = astToString(await openapiTS(structuredClone(doc)));
    for (const path of ["/v1/events/{eventId}/progress", "/v1/events/{eventId}/milestones/{index}/claim", "/v1/admin/events", "/v1/events/{eventId}/live"]) {
      assert.ok(ts.includes(`"${path}"`), `${path} is not in the generated types`);
    }
    for (const name of ["LiveClientFrame", "LiveServerFrame", "Error", "PublicEvent"]) assert.match(ts, new RegExp(`\\b${name}:`), `${name} is not a generated schema`);
  });
});
