// Claim receipts as compact JWS (EdDSA) with the public keys at /.well-known/jwks.json: verified here with `jose`
// exactly as a game server would (keys fetched from the endpoint, nothing shared), and outside the runtime with
// PyJWT (test/scripts/receipt-pyjwt.test.mjs). Receipts issued before, in the HMAC form, stay as issued and verifiable.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, type JSONWebKeySet } from "jose";
import { call, createEvent, createTemplate, HOUR, inMs } from "./helpers";
import { claim, clearAlarms, earn, REWARD_MILESTONES, runInDurableObject, shardStubFor, verifyReceipt } from "./rewards-helpers";
import { receiptPayload } from "../src/domain/rewards";

const events: { eventId: string; shardCount: number }[] = [];
afterEach(async () => {
  for (const e of events.splice(0)) await clearAlarms(e.eventId, e.shardCount);
});
async function live(milestones = REWARD_MILESTONES) {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones,
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2 });
  events.push(e);
  return e;
}

async function jwks() {
  const res = await call("GET", "/.well-known/jwks.json", { token: null });
  return { res, set: res.json as JSONWebKeySet };
}
/** What a game server does: verify the JWS against the published keys, accepting only the algorithms we sign with. */
async function verifyJws(jws: string) {
  return jwtVerify(jws, createLocalJWKSet((await jwks()).set), { algorithms: ["EdDSA", "ES256"] });
}

describe("GET /.well-known/jwks.json", () => {
  it("publishes every receipt key's public half, the signing key first, cacheable for a few minutes, without auth", async () => {
    const { res, set } = await jwks();
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(set.keys.map((k) => [k.kid, k.alg, k.kty, k.crv, k.use])).toEqual([
      ["test-receipts-1", "EdDSA", "OKP", "Ed25519", "sig"],
      ["test-receipts-0", "ES256", "EC", "P-256", "sig"],
    ]);
    // Public parts only: a private member published would let anyone forge.
    for (const k of set.keys) expect(Object.keys(k).filter((m) => ["d", "p", "q", "dp", "dq", "qi", "k"].includes(m))).toEqual([]);
  });
});

describe("claim receipts (JWS)", () => {
  it("a claim's receipt carries a compact JWS that verifies with the published keys and states the claim", async () => {
    const e = await live();
    const token = await earn(e.eventId, "jws-player", 10);
    const r = await claim(e.eventId, token, 1, "jws-1");
    expect(r.status).toBe(201);
    const { receipt } = r.json;
    expect(receipt.signature).toBeUndefined();
    expect(decodeProtectedHeader(receipt.jws)).toEqual({ alg: "EdDSA", kid: "test-receipts-1", typ: "receipt+jwt" });
    const { payload } = await verifyJws(receipt.jws);
    // A verifier may insist on both: this deployment (CALENDAR_DOMAIN) issued it, and it is a receipt.
    await jwtVerify(receipt.jws, createLocalJWKSet((await jwks()).set), { issuer: env.CALENDAR_DOMAIN, typ: "receipt+jwt" });
    await expect(jwtVerify(receipt.jws, createLocalJWKSet((await jwks()).set), { issuer: "other.example" })).rejects.toThrow(/iss/);
    expect(payload).toEqual({
      iss: env.CALENDAR_DOMAIN,
      jti: receipt.claimId,
      sub: "jws-player",
      iat: Math.floor(Date.parse(receipt.claimedAt) / 1000),
      claimId: receipt.claimId,
      playerId: "jws-player",
      eventId: e.eventId,
      milestoneIndex: 1,
      rewards: receipt.rewards,
      claimedAt: receipt.claimedAt,
    });
    expect(receipt.rewards).toEqual(REWARD_MILESTONES[1].rewards.map((x) => ({ isExclusive: false, rarity: "common", ...x })));
    // The replay and the milestone list hand out the same receipt, JWS and all.
    expect((await claim(e.eventId, token, 1, "jws-1")).json.receipt).toEqual(receipt);
    expect((await call("GET", `/v1/events/${e.eventId}/rewards`, { token })).json.milestones[1].receipt).toEqual(receipt);
  });

  it("an altered payload, a forged signature or a key not published fails verification", async () => {
    const e = await live();
    const token = await earn(e.eventId, "jws-forger", 10);
    const { jws } = (await claim(e.eventId, token, 0, "f")).json.receipt;
    const [header, payload, signature] = jws.split(".");
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
    const altered = btoa(JSON.stringify({ ...claims, rewards: [{ ...claims.rewards[0], quantity: 100000 }] })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    await expect(verifyJws(`${header}.${altered}.${signature}`)).rejects.toThrow(/signature verification failed/);
    await expect(verifyJws(`${header}.${payload}.${"A".repeat(86)}`)).rejects.toThrow(/signature verification failed/);
    // Someone with their own Ed25519 key, claiming to be our kid.
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "test-receipts-1" }).sign(privateKey);
    await expect(verifyJws(forged)).rejects.toThrow(/signature verification failed/);
  });

  it("a non-ASCII item name is signed and verified byte for byte", async () => {
    const rewards = [{ rewardId: "sword", type: "item", itemId: "Épée du Dragon ⚔️ 龍の剣", quantity: 1 }];
    const e = await live([{ index: 0, progressThreshold: 0.5, rewards }]);
    const token = await earn(e.eventId, "joueur-é", 10);
    const { receipt } = (await claim(e.eventId, token, 0, "utf8")).json;
    const { payload } = await verifyJws(receipt.jws);
    expect((payload.rewards as { itemId: string }[])[0].itemId).toBe("Épée du Dragon ⚔️ 龍の剣");
    expect(payload.playerId).toBe("joueur-é");
  });
});

describe("receipts issued before the JWS form (HMAC)", () => {
  it("stay as issued: listed and refused-again with their HMAC signature, which still verifies", async () => {
    const e = await live();
    const token = await earn(e.eventId, "old-receipt", 10);
    const claimedAt = new Date(Date.now() - 60_000).toISOString();
    const fields = { claimId: "clm_legacy000000000000000001", playerId: "old-receipt", eventId: e.eventId, milestoneIndex: 0, rewards: REWARD_MILESTONES[0].rewards, claimedAt };
    // Signed as the old code did: hex HMAC-SHA256 of the canonical JSON, with REWARD_SIGNING_SECRET.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("test-reward-secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(receiptPayload(fields as Parameters<typeof receiptPayload>[0]))));
    const old = { ...fields, signature: [...mac].map((b) => b.toString(16).padStart(2, "0")).join("") };
    await runInDurableObject(shardStubFor(e.eventId, "old-receipt", e.shardCount), (_o, s) => {
      s.storage.sql.exec("INSERT INTO claims (player_id, milestone_index, claim_id, receipt, source, delivery) VALUES (?, 0, ?, ?, 'claim', ?)", "old-receipt", old.claimId, JSON.stringify(old), JSON.stringify({ outcome: "delivered", via: "ledger" }));
    });
    const listed = (await call("GET", `/v1/events/${e.eventId}/rewards`, { token })).json.milestones[0];
    expect(listed).toMatchObject({ state: "claimed", receipt: old });
    expect(await verifyReceipt(listed.receipt, "test-reward-secret")).toBe(true);
    expect(await verifyReceipt({ ...listed.receipt, playerId: "someone-else" }, "test-reward-secret")).toBe(false);
    const again = await claim(e.eventId, token, 0, "again");
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "already_claimed", details: { receipt: old } });
    // The next milestone gets a receipt in the new form.
    expect((await claim(e.eventId, token, 1, "new")).json.receipt).toMatchObject({ jws: expect.any(String) });
  });
});
