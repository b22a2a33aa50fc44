// Shared test plumbing: real HTTP requests into the Worker under test, real tokens, real fixtures.
import { env, runInDurableObject as runIn } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";

export const ADMIN = "test-admin-token";

export async function playerToken(sub: string, claims: Record<string, unknown> = {}, secret = env.PLAYER_TOKEN_SECRET) {
  return sign({ sub, exp: Math.floor(Date.now() / 1000) + 3600, ...claims }, secret, "HS256");
}

type Init = { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> };

export async function call(method: string, path: string, init: Init = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  const token = init.token === undefined ? ADMIN : init.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["Content-Type"] = "application/json";
  }
  const res = await exports.default.fetch(new Request(`http://live-events.test${path}`, { method, headers, body }));
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** A new API key made by the bootstrap admin: an operator key with a role, or a server key with scopes. */
export async function apiKey(spec: { name: string; role: "viewer" | "operator" | "admin" } | { name: string; scopes: string[] }) {
  const body = "role" in spec ? { kind: "operator", ...spec } : { kind: "server", ...spec };
  const res = await call("POST", "/v1/admin/keys", { body });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return { key: res.json.key as string, keyId: res.json.keyId as string, actor: `key:${res.json.keyId}:${spec.name}` };
}

let counter = 0;
export const uniqueSlug = (prefix = "tpl") => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export function templateBody(overrides: Record<string, unknown> = {}) {
  return {
    templateId: uniqueSlug(),
    type: "seasonal",
    // Mini events are exempt from the scheduling rules, so tests that are not about them never collide in the
    // one shared calendar. Scheduler tests choose their tiers and windows explicitly.
    tier: "mini",
    name: "Winter Festival",
    description: "Collect snowflakes",
    objectives: [
      { objectiveId: "snowflakes", description: "Collect snowflakes", type: "collect", targetValue: 100, trackingKey: "item.snowflake" },
      { objectiveId: "bosses", description: "Defeat frost bosses", type: "defeat", targetValue: 5, trackingKey: "boss.frost", maxPerUpdate: 1 },
    ],
    milestones: [
      { index: 0, progressThreshold: 0.25, rewards: [{ rewardId: "coins-1", type: "currency", itemId: "coins", quantity: 100 }], unlockMessage: "A start!" },
      { index: 1, progressThreshold: 0.5, rewards: [{ rewardId: "hat", type: "cosmetic", itemId: "hat.winter", quantity: 1, rarity: "rare" }] },
      { index: 2, progressThreshold: 1, rewards: [{ rewardId: "skin", type: "character", itemId: "skin.yeti", quantity: 1, rarity: "legendary", isExclusive: true }] },
    ],
    theme: { color: "#88ccff" },
    ...overrides,
  };
}

export async function createTemplate(overrides: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/admin/templates", { body: templateBody(overrides) });
  if (res.status !== 201) throw new Error(`template create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

export const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * The next local date, at least `minDays` days from now, on which `zone`'s UTC offset at noon differs from the day
 * before's (forward: it grew, a spring-forward night). Tests of DST nights use it so they hold whatever today is.
 */
export function nextDstChange(zone: string, forward: boolean, minDays = 3): string {
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  const offset = (ms: number) => {
    const p = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - Math.floor(ms / 60000) * 60000;
  };
  const today = new Date();
  for (let i = minDays; i < minDays + 400; i++) {
    const noon = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + i, 12);
    const delta = offset(noon) - offset(noon - DAY);
    if (forward ? delta > 0 : delta < 0) return new Date(noon).toISOString().slice(0, 10);
  }
  throw new Error(`no DST change in ${zone} within a year`);
}
/** The date `days` after `date` (YYYY-MM-DD). */
export const dayOf = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
/** The instant `days` after `date` at UTC `h`:`m`. */
export const utcOn = (date: string, days: number, h: number, m = 0) => Date.parse(`${date}T00:00:00Z`) + days * DAY + h * HOUR + m * 60_000;

export async function createEvent(templateId: string, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/admin/events", { body: { templateId, startTime: inMs(HOUR), endTime: inMs(2 * HOUR), ...body } });
  if (res.status !== 201) throw new Error(`event create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

// Loosely typed on purpose: the actors' RPC types are deep enough to exhaust tsc's instantiation limit.
export const runInDurableObject = runIn as unknown as (stub: unknown, fn: (o: any, state: DurableObjectState) => unknown) => Promise<any>;

/** Reads again (every 50 ms, about 5 s at most) until `ok` holds; the last reading either way, for the test to assert. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}
