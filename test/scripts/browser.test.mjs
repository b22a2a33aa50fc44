// A browser game on another origin, in a real Chromium: the page loads the typed client (client/, bundled for the
// browser) and joins an event, reports progress, claims a milestone and opens the live channel against a real
// `wrangler dev`, across origins, so every request passes the browser's own CORS checks (preflights included: the
// JSON bodies, Authorization and Idempotency-Key all need one). A page on an origin the Worker does not list is
// refused by the browser. Needs Debian's chromium (apt-get install -y chromium), driven by playwright-core.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { liveEvent, playerToken, root, startWorker } from "./worker.mjs";

const CHROMIUM = "/usr/bin/chromium";

/** A static site: the page and the bundled client. Returns its origin. */
async function site(clientJs) {
  const server = createServer((req, res) => {
    if (req.url === "/client.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(clientJs);
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>game</title><p>game</p>");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

let game, stranger, worker, browser, eventId;

before(async () => {
  assert.ok(existsSync(CHROMIUM), "Chromium is missing: apt-get install -y chromium");
  const bundle = await build({ entryPoints: [join(root, "client", "index.ts")], bundle: true, format: "esm", platform: "browser", write: false, target: "es2022" });
  const clientJs = bundle.outputFiles[0].text;
  game = await site(clientJs);
  stranger = await site(clientJs);
  worker = await startWorker({ vars: { CORS_ORIGINS: game.origin }, preferredPort: 8796 });
  eventId = await liveEvent(worker.baseUrl);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await game?.close();
  await stranger?.close();
});

describe("a browser game on another origin", () => {
  test("joins, reports progress, claims and hears the live channel through the typed client", async () => {
    const page = await browser.newPage();
    await page.goto(`${game.origin}/`);
    const result = await page.evaluate(
      async ({ baseUrl, eventId, token }) => {
        const { createLiveEventsClient, newIdempotencyKey } = await import("/client.js");
        const client = createLiveEventsClient({ baseUrl, token });
        const join = await client.POST("/v1/events/{eventId}/join", { params: { path: { eventId } } });
        const progress = await client.ok(client.POST("/v1/events/{eventId}/progress", { params: { path: { eventId } }, body: { updates: [{ objectiveId: "pts", amount: 5, seq: 1 }] } }));
        const claim = await client.POST("/v1/events/{eventId}/milestones/{index}/claim", { params: { path: { eventId, index: "0" }, header: { "idempotency-key": newIdempotencyKey() } } });
        const frames = [];
        const channel = client.live(eventId, { onFrame: (f) => frames.push(f) });
        await channel.connect();
        const deadline = Date.now() + 10_000;
        while (!frames.some((f) => f.type === "event_state") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const ack = await channel.progress([{ objectiveId: "pts", amount: 5, seq: 2 }]);
        channel.close();
        return {
          origin: location.origin,
          joinStatus: join.response.status,
          completion: progress.completion,
          claimStatus: claim.response.status,
          claimed: claim.data?.receipt?.milestoneIndex,
          snapshot: frames.find((f) => f.type === "event_state")?.change,
          ackCompletion: ack.progress.completion,
        };
      },
      { baseUrl: worker.baseUrl, eventId, token: await playerToken("browser-p1") },
    );
    assert.notEqual(result.origin, worker.baseUrl, "the page is on another origin");
    assert.deepEqual(result, { origin: game.origin, joinStatus: 201, completion: 0.5, claimStatus: 201, claimed: 0, snapshot: "snapshot", ackCompletion: 1 });
    await page.close();
  });

  test("on an origin the Worker does not list, the browser refuses the answer", async () => {
    const page = await browser.newPage();
    await page.goto(`${stranger.origin}/`);
    const outcome = await page.evaluate(
      async ({ baseUrl, token }) => {
        try {
          await fetch(`${baseUrl}/v1/events/active`, { headers: { Authorization: `Bearer ${token}` } });
          return "answered";
        } catch (err) {
          return `refused: ${err.name}`;
        }
      },
      { baseUrl: worker.baseUrl, token: await playerToken("browser-p2") },
    );
    assert.equal(outcome, "refused: TypeError");
    await page.close();
  });
});
