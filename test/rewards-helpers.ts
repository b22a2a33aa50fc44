// Shared set-up for the reward suites: a live event, players with known progress, and ways to move its clock.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach } from "vitest";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { receiptPayload, type ClaimReceipt } from "../src/domain/rewards";
import { shardName, shardOf } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken } from "./helpers";

import { runInDurableObject } from "./helpers";
export { runInDurableObject };

export const REWARD_MILESTONES = [
  { index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "coins", type: "currency", itemId: "coins", quantity: 100 }] },
  {
    index: 1,
    progressThreshold: 1,
    rewards: [
      { rewardId: "hat", type: "cosmetic", itemId: "hat.gold", quantity: 1, rarity: "epic" },
      { rewardId: "gems", type: "currency", itemId: "gems", quantity: 25 },
    ],
  },
];

export async function rewardEvent(extra: Record<string, unknown> = {}) {
  const t = await createTemplate({
    objectives: [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }],
    milestones: REWARD_MILESTONES,
  });
  return createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2, ...extra });
}

/**
 * A suite's maker of reward events: each one's alarms are cleared after every test, since the runtime does not reset
 * alarms between tests. Call it once at the top of a test file.
 */
export function liveRewardEvents() {
  const events: { eventId: string; shardCount: number }[] = [];
  afterEach(async () => {
    for (const e of events.splice(0)) await clearAlarms(e.eventId, e.shardCount);
  });
  const track = (e: { eventId: string; shardCount: number }) => {
    events.push(e);
    return e;
  };
  /** `live(extra)` makes one; `live.track(e)` adds an event made otherwise. */
  return Object.assign(async (extra: Record<string, unknown> = {}) => track(await rewardEvent(extra)), { track });
}

/** Gives a player `points` of 10: 5 unlocks milestone 0, 10 unlocks both. */
export async function earn(eventId: string, playerId: string, points: number) {
  const token = await playerToken(playerId);
  const r = await call("POST", `/v1/events/${eventId}/progress`, { token, body: { updates: [{ objectiveId: "pts", amount: points, seq: 1 }] } });
  if (r.status !== 200) throw new Error(`progress failed: ${JSON.stringify(r.json)}`);
  return token;
}

export const claim = (eventId: string, token: string, index: number, key: string | null) =>
  call("POST", `/v1/events/${eventId}/milestones/${index}/claim`, { token, headers: key ? { "Idempotency-Key": key } : {} });

export const eventStub = (eventId: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(eventId));
export const shardStubFor = (eventId: string, playerId: string, shardCount: number) =>
  env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, shardOf(playerId, shardCount))));
export const tickEvent = (eventId: string, at: number) => runInDurableObject(eventStub(eventId), (o: any) => o.tick(at));

/**
 * Runs a shard's drain now, as its alarm would within a second: the booked drain row is made due, then the alarm
 * runs (runDurableObjectAlarm fires it early, and the schedule only runs rows that are due).
 */
export async function drainShard(stub: DurableObjectStub) {
  await runInDurableObject(stub, (_o, s) => {
    s.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'drain'", Date.now());
  });
  await runDurableObjectAlarm(stub);
}

/** Drains every shard's outbox and every listed player's inventory flush into D1. */
export async function settle(eventId: string, shardCount: number) {
  for (let n = 0; n < shardCount; n++) await drainShard(env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, n))));
}

export async function clearAlarms(eventId: string, shardCount: number) {
  await runInDurableObject(eventStub(eventId), (_o, s) => s.storage.deleteAlarm());
  for (let n = 0; n < shardCount; n++) {
    await runInDurableObject(env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(eventId, n))), (_o, s) => s.storage.deleteAlarm());
  }
}

export const ledgerRows = async (eventId: string) =>
  (await env.DB.prepare("SELECT player_id, milestone_index, source, receipt_id, rewards, delivered_via FROM reward_ledger WHERE event_id = ? ORDER BY player_id, milestone_index").bind(eventId).all<any>()).results;
export const claimRows = async (eventId: string) =>
  (await env.DB.prepare("SELECT player_id, milestone_index, source, claim_id FROM rewards_claimed WHERE event_id = ? ORDER BY player_id, milestone_index").bind(eventId).all<any>()).results;

/**
 * What a game server did with a receipt issued before the JWS form: rebuild the signed bytes (canonical JSON of the
 * receipt's fields) and check the HMAC with the shared secret, in constant time (WebCrypto's verify).
 */
export async function verifyReceipt(receipt: ClaimReceipt, secret: string): Promise<boolean> {
  if (!receipt || typeof receipt.signature !== "string" || !/^[0-9a-f]{64}$/.test(receipt.signature)) return false;
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signature = new Uint8Array(receipt.signature.match(/../g)!.map((h) => parseInt(h, 16)));
  return crypto.subtle.verify("HMAC", key, signature, enc.encode(receiptPayload(receipt)));
}

/**
 * What a game server does with a receipt now: verify its JWS with the keys published at /.well-known/jwks.json, and
 * trust the fields the JWS states (here: check that the ones shown beside it say the same).
 */
export async function verifyReceiptJws(receipt: ClaimReceipt): Promise<boolean> {
  if (typeof receipt?.jws !== "string") return false;
  const keys = (await call("GET", "/.well-known/jwks.json", { token: null })).json as JSONWebKeySet;
  try {
    const { payload } = await jwtVerify(receipt.jws, createLocalJWKSet(keys), { algorithms: ["EdDSA", "ES256"] });
    const { claimId, playerId, eventId, milestoneIndex, rewards, claimedAt } = receipt;
    return JSON.stringify({ claimId, playerId, eventId, milestoneIndex, rewards, claimedAt }) ===
      JSON.stringify({ claimId: payload.claimId, playerId: payload.playerId, eventId: payload.eventId, milestoneIndex: payload.milestoneIndex, rewards: payload.rewards, claimedAt: payload.claimedAt });
  } catch {
    return false;
  }
}
