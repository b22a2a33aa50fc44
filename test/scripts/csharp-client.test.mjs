// The C# client a Unity or .NET team would generate from /openapi.json (`npm run client:csharp`: NSwag run by Mono)
// compiles, and a C# program using it plays against a real Worker: lists events, joins, reports progress, claims
// with an Idempotency-Key, and reads an error as ApiException<Error> with the server's code. client/openapi.json is
// the committed document, which test/client.test.ts proves equal to what the Worker serves.
// Needs Debian's mono-devel (apt-get install -y mono-devel).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { liveEvent, playerToken, root, startWorker } from "./worker.mjs";

const SMOKE = `
using System;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using LiveEvents.Client;

public static class Smoke {
  public static int Main(string[] args) {
    var http = new HttpClient();
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args[1]);
    var api = new LiveEventsClient(args[0], http);
    var eventId = args[2];
    var active = api.ListActiveEventsAsync().GetAwaiter().GetResult();
    Console.WriteLine("listed " + active.Events.Any(e => e.EventId == eventId));
    var joined = api.JoinEventAsync(eventId).GetAwaiter().GetResult();
    Console.WriteLine("joined " + joined.Completion);
    var body = new ProgressBody();
    body.Updates.Add(new ProgressUpdate { ObjectiveId = "pts", Amount = 5, Seq = 1 });
    var ack = api.ReportProgressAsync(eventId, body).GetAwaiter().GetResult();
    Console.WriteLine("progress " + ack.Completion);
    var key = Guid.NewGuid().ToString();
    var claim = api.ClaimMilestoneAsync(eventId, "0", key).GetAwaiter().GetResult();
    var again = api.ClaimMilestoneAsync(eventId, "0", key).GetAwaiter().GetResult();
    Console.WriteLine("claimed " + claim.Receipt.MilestoneIndex + " " + (claim.Receipt.Jws.Split('.').Length == 3) + " replayed " + again.Replayed + " same " + (again.Receipt.ClaimId == claim.Receipt.ClaimId));
    try {
      api.GetEventAsync("evt_000000000000000000000000").GetAwaiter().GetResult();
      Console.WriteLine("error none");
    } catch (ApiException<Error> e) {
      Console.WriteLine("error " + e.StatusCode + " " + e.Result.Error1.Code);
    }
    return 0;
  }
}
`;

let worker, work, generated;

before(async () => {
  generated = spawnSync(process.execPath, [join(root, "scripts", "csharp-client.mjs")], { cwd: root, encoding: "utf8", timeout: 300_000 });
  worker = await startWorker({ preferredPort: 8795 });
  work = mkdtempSync(join(tmpdir(), "live-events-csharp-"));
});

after(async () => {
  await worker?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the generated C# client", () => {
  test("is generated and compiles", () => {
    assert.equal(generated.status, 0, `npm run client:csharp failed (is mono-devel installed?):\n${generated.stdout}\n${generated.stderr}`);
    assert.ok(existsSync(join(root, "dist", "csharp", "LiveEventsClient.dll")));
  });

  test("plays an event against the real Worker", async () => {
    const out = join(root, "dist", "csharp");
    writeFileSync(join(work, "Smoke.cs"), SMOKE);
    const mcs = spawnSync(
      "mcs",
      ["-out:" + join(work, "Smoke.exe"), `-r:${join(out, "LiveEventsClient.dll")}`, `-r:${join(out, "Newtonsoft.Json.dll")}`, "-r:System.Net.Http.dll", "-r:/usr/lib/mono/4.5/Facades/netstandard.dll", join(work, "Smoke.cs")],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(mcs.status, 0, `${mcs.stdout}\n${mcs.stderr}`);
    const eventId = await liveEvent(worker.baseUrl);
    const run = spawnSync("mono", [join(work, "Smoke.exe"), worker.baseUrl, await playerToken("csharp-p1"), eventId], {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, MONO_PATH: out },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(run.stdout.trim().split("\n"), [
      "listed True",
      "joined 0",
      "progress 0.5",
      "claimed 0 True replayed True same True",
      "error 404 event_not_found",
    ]);
  });
});
