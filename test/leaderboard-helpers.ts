// Shared set-up for the leaderboard suites: an arena template with a board, players posting real progress, and a
// way to wait for what the board shows.
import { env } from "cloudflare:test";
import { boardName } from "../src/domain/leaderboard";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";

export const ARENA_OBJECTIVES = [
  { objectiveId: "rating", description: "Reach a rating", type: "reach", targetValue: 3000, trackingKey: "arena.rating" },
  { objectiveId: "wins", description: "Win matches", type: "collect", targetValue: 100, trackingKey: "arena.wins" },
];
export const coins = (quantity: number) => [{ rewardId: `coins-${quantity}`, type: "currency", itemId: "coins", quantity }];

export async function arenaEvent(board: Record<string, unknown>, extra: Record<string, unknown> = {}, templateExtra: Record<string, unknown> = {}) {
  const t = await createTemplate({
    type: "competitive",
    objectives: ARENA_OBJECTIVES,
    milestones: [{ index: 0, progressThreshold: 0.5, rewards: coins(1) }],
    leaderboard: { source: { kind: "trackingKey", trackingKey: "arena.wins" }, ...board },
    ...templateExtra,
  });
  const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 2, ...extra });
  return { eventId: e.eventId as string, templateId: t.templateId as string, shardCount: 2 };
}

const seqs = new Map<string, number>();
/** Posts one update for a player (their seq counted here) and returns the answer. */
export async function post(eventId: string, playerId: string, objectiveId: string, amount: unknown, claims: Record<string, unknown> = {}) {
  const key = `${eventId}/${playerId}`;
  const seq = (seqs.get(key) ?? 0) + 1;
  seqs.set(key, seq);
  const token = await playerToken(playerId, claims);
  return call("POST", `/v1/events/${eventId}/progress`, { token, body: { updates: [{ objectiveId, amount, seq }] } });
}

export async function me(eventId: string, playerId: string, around = 1) {
  return call("GET", `/v1/events/${eventId}/leaderboard/me?around=${around}`, { token: await playerToken(playerId) });
}
export async function top(eventId: string, playerId: string, query = "") {
  return call("GET", `/v1/events/${eventId}/leaderboard${query}`, { token: await playerToken(playerId) });
}

/** Polls until `ok` holds (the shards push every ≤ 250 ms); returns the last answer and how long it took. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<{ value: T; tookMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return { value, tookMs: Date.now() - started };
    if (Date.now() - started > ms) throw new Error(`condition not met in ${ms} ms: ${JSON.stringify(value).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const boardStub = (eventId: string, cohortId: string) => env.LEADERBOARD_ACTOR.get(env.LEADERBOARD_ACTOR.idFromName(boardName(eventId, cohortId)));
export const inBoard = (eventId: string, cohortId: string, fn: (o: any, s: DurableObjectState) => unknown) => runInDurableObject(boardStub(eventId, cohortId), fn);
