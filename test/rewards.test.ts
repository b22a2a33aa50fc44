// Rewards with the built-in inventory ledger (capacity 5 slots in this suite): claims, receipts, the grace window,
// auto-claim, the overflow inbox and the audit ledger, all through the real objects and D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GRACE_PERIOD_MS } from "../src/domain/lifecycle";
import { HOUR, apiKey, call, playerToken } from "./helpers";
import { claim, claimRows, earn, ledgerRows, runInDurableObject, settle, shardStubFor, tickEvent, verifyReceiptJws, liveRewardEvents } from "./rewards-helpers";

const live = liveRewardEvents();

describe("claims", () => {
  it("50 concurrent claims with the same key: one grant, one receipt, replayed to all", async () => {
    const e = await live();
    const token = await earn(e.eventId, "same-key", 10);
    const results = await Promise.all(Array.from({ length: 50 }, () => claim(e.eventId, token, 1, "key-1")));
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(results.map((r) => r.json.receipt.claimId)).size).toBe(1);
    const receipt = results[0].json.receipt;
    expect(receipt).toMatchObject({ playerId: "same-key", eventId: e.eventId, milestoneIndex: 1, rewards: [expect.objectContaining({ itemId: "hat.gold" }), expect.objectContaining({ itemId: "gems" })] });
    expect(await verifyReceiptJws(receipt)).toBe(true);
    await settle(e.eventId, e.shardCount);
    expect(await claimRows(e.eventId)).toEqual([{ player_id: "same-key", milestone_index: 1, source: "claim", claim_id: receipt.claimId }]);
    expect(await ledgerRows(e.eventId)).toEqual([expect.objectContaining({ player_id: "same-key", source: "claim", receipt_id: receipt.claimId, delivered_via: "ledger" })]);
  });

  it("50 concurrent claims with different keys: one grant, the rest 409 with the original receipt", async () => {
    const e = await live();
    const token = await earn(e.eventId, "many-keys", 10);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(e.eventId, token, 0, `k-${i}`)));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    const lost = results.filter((r) => r.status === 409);
    expect(lost).toHaveLength(49);
    for (const r of lost) expect(r.json.error).toMatchObject({ code: "already_claimed", details: { receipt: { claimId: won[0].json.receipt.claimId } } });
    await settle(e.eventId, e.shardCount);
    expect(await claimRows(e.eventId)).toHaveLength(1);
    expect(await ledgerRows(e.eventId)).toHaveLength(1);
  });

  it("refuses locked milestones, missing keys and unknown milestones; reuse of a key for another milestone is 422", async () => {
    const e = await live();
    const token = await earn(e.eventId, "half", 5);
    expect((await claim(e.eventId, token, 1, "a")).json.error.code).toBe("milestone_locked");
    expect((await claim(e.eventId, token, 0, null)).status).toBe(400);
    expect((await claim(e.eventId, token, 7, "b")).status).toBe(404);
    expect((await claim(e.eventId, token, 0, "c")).status).toBe(201);
    expect((await claim(e.eventId, token, 1, "c")).json.error.code).toBe("idempotency_key_reused");
    const states = await call("GET", `/v1/events/${e.eventId}/rewards`, { token });
    expect(states.json.milestones.map((m: any) => m.state)).toEqual(["claimed", "locked"]);
    expect(states.json.milestones[0].receipt.claimId).toBeTruthy();
  });

  it("rate limits claims per player with 429 and Retry-After", async () => {
    const e = await live();
    const token = await earn(e.eventId, "spammer", 5);
    const statuses: number[] = [];
    let last: any;
    for (let i = 0; i < 62; i++) {
      last = await claim(e.eventId, token, 1, `spam-${i}`);
      statuses.push(last.status);
    }
    // The default limit is 60 claim attempts per player per minute.
    expect(statuses.slice(0, 60).every((s) => s === 409)).toBe(true);
    expect(statuses.slice(60)).toEqual([429, 429]);
    expect(Number(last.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(last.json.error.code).toBe("rate_limited");
  });

  it("a forged or altered receipt fails verification", async () => {
    const e = await live();
    const token = await earn(e.eventId, "forger", 5);
    const { receipt } = (await claim(e.eventId, token, 0, "f")).json;
    expect(await verifyReceiptJws(receipt)).toBe(true);
    expect(await verifyReceiptJws({ ...receipt, rewards: [{ ...receipt.rewards[0], quantity: 100000 }] })).toBe(false);
    expect(await verifyReceiptJws({ ...receipt, playerId: "someone-else" })).toBe(false);
    expect(await verifyReceiptJws({ ...receipt, jws: receipt.jws.replace(/\.[^.]+$/, `.${"A".repeat(86)}`) })).toBe(false);
    // An HMAC signature is no proof any more: knowing the old secret forges nothing.
    expect(await verifyReceiptJws({ ...receipt, jws: undefined, signature: "0".repeat(64) })).toBe(false);
  });
});

describe("the grace window", () => {
  /** Moves the shard's view of endTime, as the event object would push it, to stand at a window boundary. */
  async function endedAt(eventId: string, playerId: string, shardCount: number, endTime: number) {
    await runInDurableObject(shardStubFor(eventId, playerId, shardCount), async (o: any) => {
      const info = o.info ?? o.loadInfo();
      await o.syncEvent({ ...info, state: "expired", endTime, revision: info.revision + 1 });
    });
  }

  it("claims stay open until endTime + 24 h and close after it with 410", async () => {
    const e = await live();
    const t1 = await earn(e.eventId, "grace-in", 10);
    const t2 = await earn(e.eventId, "grace-out", 10);
    await endedAt(e.eventId, "grace-in", e.shardCount, Date.now() - GRACE_PERIOD_MS + 5_000);
    expect((await claim(e.eventId, t1, 0, "g1")).status).toBe(201);
    await endedAt(e.eventId, "grace-out", e.shardCount, Date.now() - GRACE_PERIOD_MS - 1);
    const closed = await claim(e.eventId, t2, 0, "g2");
    expect(closed.status).toBe(410);
    expect(closed.json.error.code).toBe("claim_window_closed");
  });

  it("claims work while paused and after expiry", async () => {
    const e = await live();
    const token = await earn(e.eventId, "pauser", 10);
    await call("POST", `/v1/admin/events/${e.eventId}/pause`);
    expect((await claim(e.eventId, token, 0, "p0")).status).toBe(201);
    await call("POST", `/v1/admin/events/${e.eventId}/end-now`);
    expect((await claim(e.eventId, token, 1, "p1")).status).toBe(201);
  });
});

describe("auto-claim at endTime + 24 h", () => {
  it("grants every earned, unclaimed milestone exactly once, even when the alarm runs twice, then archives", async () => {
    const e = await live();
    const players = ["ac-1", "ac-2", "ac-3", "ac-4"];
    const tokens = await Promise.all(players.map((p, i) => earn(e.eventId, p, [10, 5, 10, 2][i])));
    await claim(e.eventId, tokens[0], 0, "manual"); // one claimed by hand
    const ended = (await call("POST", `/v1/admin/events/${e.eventId}/end-now`)).json;
    const archiveAt = Date.parse(ended.endTime) + GRACE_PERIOD_MS;

    await tickEvent(e.eventId, archiveAt - HOUR); // the warning, one hour before
    const warnings = await env.DB.prepare("SELECT target_player_id, status FROM notification_queue WHERE event_id = ? AND notification_type = 'auto_claim_warning' ORDER BY target_player_id NULLS FIRST").bind(e.eventId).all();
    expect(warnings.results).toEqual([
      { target_player_id: null, status: "pending" }, // the event-level row: the push fan-out marks it sent
      { target_player_id: "ac-1", status: "pending" },
      { target_player_id: "ac-2", status: "pending" },
      { target_player_id: "ac-3", status: "pending" },
    ]);

    await tickEvent(e.eventId, archiveAt);
    await tickEvent(e.eventId, archiveAt);
    // A second, independent auto-claim run (as a duplicate alarm on a shard would do) grants nothing more.
    for (const p of players) await runInDurableObject(shardStubFor(e.eventId, p, e.shardCount), (o: any) => o.autoClaim().catch(() => null));
    expect((await call("GET", `/v1/admin/events/${e.eventId}`)).json.state).toBe("archived");
    await settle(e.eventId, e.shardCount);

    const claims = await claimRows(e.eventId);
    expect(claims.map((c: any) => `${c.player_id}/${c.milestone_index}/${c.source}`)).toEqual([
      "ac-1/0/claim",
      "ac-1/1/auto_claim",
      "ac-2/0/auto_claim",
      "ac-3/0/auto_claim",
      "ac-3/1/auto_claim",
    ]);
    const states = await call("GET", `/v1/events/${e.eventId}/rewards`, { token: tokens[0] });
    expect(states.json.milestones.map((m: any) => m.state)).toEqual(["claimed", "auto_claimed"]);
    expect((await claim(e.eventId, tokens[1], 1, "late")).status).toBe(410);
  });
});

describe("inventory ledger and overflow inbox", () => {
  it("full inventory goes to the inbox; the game pulling frees slots; the inbox claim delivers it; ledger sums equal what was earned", async () => {
    const e = await live();
    const token = await earn(e.eventId, "hoarder", 10);
    // Milestone 0 takes 1 slot, milestone 1 takes 2. Fill the 5-slot inventory from a second event first.
    const other = await live();
    await earn(other.eventId, "hoarder", 10);
    await claim(other.eventId, token, 0, "o0");
    await claim(other.eventId, token, 1, "o1");
    expect((await claim(e.eventId, token, 0, "x0")).json.delivery).toMatchObject({ outcome: "delivered", via: "ledger" });
    const overflow = (await claim(e.eventId, token, 1, "x1")).json;
    expect(overflow.delivery).toMatchObject({ outcome: "inbox" });

    const inbox = await call("GET", "/v1/inbox", { token });
    expect(inbox.json.items).toEqual([expect.objectContaining({ itemId: overflow.delivery.itemId, reason: "inventory_full", status: "pending", source: "claim", receiptId: overflow.receipt.claimId })]);
    const expiresIn = Date.parse(inbox.json.items[0].expiresAt) - Date.parse(inbox.json.items[0].arrivedAt);
    expect(expiresIn).toBe(30 * 24 * HOUR);
    const itemId = overflow.delivery.itemId;
    expect((await call("POST", `/v1/inbox/${itemId}/claim`, { token, headers: { "Idempotency-Key": "i1" } })).json.error.code).toBe("inventory_full");

    const pulled = await call("GET", "/v1/inventory?since=0", { token });
    expect(pulled.json).toMatchObject({ slotsUsed: 4, capacity: 5 });
    expect(pulled.json.entries).toHaveLength(3);
    // Paging with since never frees a slot: only a game server's acknowledgement does.
    expect((await call("GET", `/v1/inventory?since=${pulled.json.nextCursor}`, { token })).json).toMatchObject({ slotsUsed: 4, acknowledged: 0 });
    const server = await apiKey({ name: "game-server", scopes: ["inventory:ack"] });
    const acked = await call("POST", "/v1/server/players/hoarder/inventory/ack", { token: server.key, body: { upTo: pulled.json.nextCursor } });
    expect(acked.json).toEqual({ acknowledged: pulled.json.nextCursor, slotsUsed: 0, capacity: 5 }); // the game took them
    const claimed = await call("POST", `/v1/inbox/${itemId}/claim`, { token, headers: { "Idempotency-Key": "i2" } });
    expect(claimed.status).toBe(200);
    expect(claimed.json.item.status).toBe("claimed");
    const again = await call("POST", `/v1/inbox/${itemId}/claim`, { token, headers: { "Idempotency-Key": "i2" } });
    expect(again.json).toEqual(claimed.json);
    expect((await call("POST", `/v1/inbox/${itemId}/claim`, { token, headers: { "Idempotency-Key": "i3" } })).status).toBe(409);

    await settle(e.eventId, e.shardCount);
    const ledger = await ledgerRows(e.eventId);
    expect(ledger.map((l: any) => l.source)).toEqual(["claim", "inbox_claim"]);
    const earned = { coins: 100, "hat.gold": 1, gems: 25 };
    const sums: Record<string, number> = {};
    for (const l of ledger) for (const r of JSON.parse(l.rewards)) sums[r.itemId] = (sums[r.itemId] ?? 0) + r.quantity;
    expect(sums).toEqual(earned);
    const inboxRow = await env.DB.prepare("SELECT status, reason FROM inbox_items WHERE item_id = ?").bind(itemId).first();
    expect(inboxRow).toEqual({ status: "claimed", reason: "inventory_full" });
  });

  it("expired inbox items are kept for audit but cannot be claimed", async () => {
    const e = await live();
    const token = await earn(e.eventId, "late-claimer", 10);
    const other = await live();
    await earn(other.eventId, "late-claimer", 10);
    for (const [ev, i] of [[other.eventId, 0], [other.eventId, 1], [e.eventId, 0], [e.eventId, 1]] as const) await claim(ev, token, i, `${ev}-${i}`);
    const items = (await call("GET", "/v1/inbox", { token })).json.items;
    expect(items).toHaveLength(1);
    const inv = env.PLAYER_INVENTORY_ACTOR.get(env.PLAYER_INVENTORY_ACTOR.idFromName("late-claimer"));
    await runInDurableObject(inv, (_o, s) => {
      s.storage.sql.exec("UPDATE inbox SET row = json_set(row, '$.expiresAt', ?)", Date.now() - 1);
    });
    const listed = (await call("GET", "/v1/inbox", { token })).json.items;
    expect(listed[0].status).toBe("expired");
    const r = await call("POST", `/v1/inbox/${items[0].itemId}/claim`, { token, headers: { "Idempotency-Key": "late" } });
    expect(r.status).toBe(410);
    expect(r.json.error.code).toBe("inbox_item_expired");
  });
});
