// Per-player read budgets through the real runtime (the Rate Limiting binding as miniflare runs it): one player
// polling in a loop is refused with a clear 429 while another player's reads go on, and writes are not counted.
import { describe, expect, it } from "vitest";
import { call, playerToken } from "./helpers";

describe("player read budget", () => {
  it("refuses one player's flood of reads with 429 and Retry-After, and never another player's", async () => {
    const flooder = await playerToken(`flood-${crypto.randomUUID()}`);
    const bystander = await playerToken(`calm-${crypto.randomUUID()}`);
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | null = null;
    // The budget is 300 reads per 10 s per player (wrangler.toml PLAYER_READS). The count starts afresh at each 10 s
    // boundary, so a flood that straddles one may need up to 600 reads before one is refused.
    for (let i = 0; i < 700 && !refused; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => call("GET", "/v1/events/active", { token: flooder })));
      for (const r of batch) {
        statuses.push(r.status);
        if (r.status === 429 && !refused) refused = r;
      }
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(250);
    expect(refused).not.toBeNull();
    expect(refused!.json).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("reads"), details: { retryAfter: 10 } } });
    expect(refused!.headers.get("Retry-After")).toBe("10");
    // Someone else reading at the same moment is served.
    const other = await call("GET", "/v1/events/active", { token: bystander });
    expect(other.status).toBe(200);
    // A refused read changed nothing, and the flooder's writes still reach their own budgets (here: a claim refused
    // for its own reason, not for the read budget).
    const write = await call("POST", "/v1/events/evt_000000000000000000000000/milestones/0/claim", { token: flooder, body: {}, headers: { "Idempotency-Key": "k1" } });
    expect(write.json.error.code).not.toBe("rate_limited");
  });

  it("counts a player's own export (a read sent as POST) against the same budget", async () => {
    const player = await playerToken(`export-flood-${crypto.randomUUID()}`);
    // Flood in wide batches until a read is refused, then export at once (inside the same 10 s window). On a loaded
    // machine a window may roll over between the two: flood again, a few times at most.
    let exported: Awaited<ReturnType<typeof call>> | null = null;
    for (let round = 0; round < 3 && exported?.status !== 429; round++) {
      let refused = false;
      for (let i = 0; i < 600 && !refused; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => call("GET", "/v1/events/active", { token: player })));
        refused = batch.some((r) => r.status === 429);
      }
      expect(refused).toBe(true);
      exported = await call("POST", "/v1/me/export", { token: player });
    }
    expect(exported!.status).toBe(429);
    expect(exported!.json.error.message).toContain("reads");
  });
});
