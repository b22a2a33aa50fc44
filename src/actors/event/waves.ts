// A local-time event's notifications, one wave per zone group (domain/local-time.ts wavePlan): ("wave", key) rows in
// the event object's kit schedule, recomputed with the lifecycle timers after every change. A preview, start or
// ending-soon wave is a broadcast: one feed row naming its zones, live frames through the shards, and one topic push
// (`audience: "zones"`) per group of its zones that quiet hours let out at one instant, so players no shard has seen
// are pushed too. An expiration warning asks every attached shard for its players with unclaimed rewards and when each
// may be pushed. Pushes due now go on the push queue at once; those deferred by quiet hours get a
// ("wave", "push|<at>|<wave key>") row of their own at the end of the quiet period (without a second frame or feed row).
import { notificationStatements } from "../../db/notifications";
import { parseWaveKey, pushInstant, timelyZones, wavePlan, wavePushGroups, waveZones } from "../../domain/local-time";
import type { EventInstance } from "../../domain/model";
import { notificationRow, notificationText } from "../../domain/notifications";
import { iso } from "../../domain/time";
import type { PushMessage, WaveTarget } from "../contracts";
import { progressShardActor } from "../stubs";

type WaveSchedule = {
  set(kind: "wave", dueAt: number, key: string, attempt?: number): void;
  cancel(kind: "wave", key?: string): void;
  list(kind: "wave"): { key: string; dueAt: number }[];
};

const PLAYERS_PER_PUSH = 100;
const MESSAGES_PER_SEND = 100;

const fired = (sql: SqlStorage) => new Set(sql.exec<{ key: string }>("SELECT key FROM waves_fired").toArray().map((r) => r.key));

const live = (instance: EventInstance) => instance.state === "scheduled" || instance.state === "active";

/**
 * Replaces the pending wave rows with the plan for the instance as it is now. Deferred pushes finish a wave that has
 * fired, so they are never re-planned: they stay while the event is scheduled or active; a pause parks them at the
 * envelope's end (no push while paused, and a pause that outlasts every window drops them there), and the resume
 * brings them back at their own instant, or at once if it has passed (fireWave then leaves out the zones whose
 * window has closed meanwhile, and holds the push again if quiet hours hold now). A cancelled or ended event sends none.
 */
export function syncWaves(sql: SqlStorage, schedule: WaveSchedule, instance: EventInstance, now: number) {
  const plan = instance.localTime ? wavePlan(instance, fired(sql), now) : [];
  const wanted = new Map(plan.map((r) => [r.key, r.dueAt]));
  for (const row of schedule.list("wave")) {
    if (!row.key.startsWith("push|")) {
      if (!wanted.has(row.key)) schedule.cancel("wave", row.key);
      continue;
    }
    // A push row is due at its own instant, always before the envelope's end; one due at or past the end is parked.
    const at = Number(row.key.split("|")[1]);
    if (instance.state === "paused") {
      if (row.dueAt < instance.endTime) schedule.set("wave", instance.endTime, row.key);
    } else if (!live(instance)) schedule.cancel("wave", row.key);
    else if (row.dueAt >= instance.endTime) schedule.set("wave", Math.max(at, now), row.key);
  }
  for (const [key, dueAt] of wanted) schedule.set("wave", dueAt, key);
}

/** One due wave row (or deferred push). Every part is idempotent: fixed row ids, webhook ids per (wave, push instant, batch). */
export async function fireWave(env: Env, sql: SqlStorage, schedule: WaveSchedule, key: string, instance: EventInstance, shardNos: number[], now: number) {
  const push = key.startsWith("push|");
  const pushAt = push ? Number(key.split("|")[1]) : null;
  const waveKey = push ? key.split("|").slice(2).join("|") : key;
  const wave = parseWaveKey(waveKey);
  const lt = instance.localTime;
  // A push row due while paused was booked by a wave handler the pause overtook (it awaited the shards or the queue):
  // it parks at the envelope's end like the others, for the resume to bring back, rather than being lost.
  if (push && wave && lt && instance.state === "paused" && now < instance.endTime) return schedule.set("wave", instance.endTime, key, 0);
  if (!wave || !lt || !live(instance)) return;
  if (!push && fired(sql).has(waveKey)) return;
  // The wave's first attempt, kept across retries of its row (`begun|<wave key>`): quiet hours, the time left and the
  // webhook ids are all counted from it, so a retry at a later instant sends nothing under a new id.
  if (!push) sql.exec("INSERT OR IGNORE INTO waves_fired (key, fired_at) VALUES (?, ?)", `begun|${waveKey}`, now);
  // A push row reads it too, never the wave's own row: that is written last, so a push booked by an attempt that then
  // threw would find none (and count from its own now, under another webhook id). The wave's row stands in only for
  // waves fired before `begun|` was kept.
  const firedAt = Number(sql.exec<{ fired_at: number }>("SELECT fired_at FROM waves_fired WHERE key IN (?, ?) ORDER BY key = ? DESC LIMIT 1", `begun|${waveKey}`, waveKey, `begun|${waveKey}`).toArray()[0]?.fired_at ?? now);
  // The instant the wave speaks about is its own: the group's start (preview, start) or end (the warnings).
  const call = { ...wave, leftMs: Math.max(0, wave.at - firedAt), feed: !push, firedAt };
  const base = `${instance.eventId}:${wave.type}@${iso(wave.at)}`;
  const envelope = { start: instance.startTime, end: instance.endTime };
  const byPushAt = new Map<number, Push>();
  if (wave.type !== "expiration_warning") {
    // Preview, start and ending soon are the wave's broadcast: one feed row naming its zones, which the feed shows to
    // every reader in one of them, and one topic push per group of its zones that quiet hours let out at one instant,
    // to every device in those zones (seen by a shard or not). The shards only add live frames for their sockets.
    // Only the zones the wave still tells something now: a start that fires late (a resume, a late alarm) skips those
    // whose window has closed, on the feed, in frames (the shards judge alike) and in pushes.
    const zones = timelyZones(lt, wave.type, waveZones(lt, wave.edge, wave.at, envelope), now, envelope);
    if (!push && zones.length) {
      const text = notificationText(wave.type, instance.name, { leftMs: call.leftMs });
      const row = notificationRow({ notificationId: base, type: wave.type, eventId: instance.eventId, playerId: null, ...text, data: { wave: iso(wave.at), zones } }, now);
      await env.DB.batch(notificationStatements(env.DB, [row]));
      await Promise.all(shardNos.map((n) => progressShardActor(env, instance.eventId, n).localWave(call)));
    }
    for (const group of wavePushGroups(lt, zones, wave.type, firedAt, envelope)) {
      // A push that goes late (after a resume) counts the time left from when it really goes.
      const text = notificationText(wave.type, instance.name, { leftMs: Math.max(0, wave.at - Math.max(group.at, now)) });
      byPushAt.set(group.at, { zones: group.zones, title: text.title, body: text.body });
    }
  } else {
    // Expiration warnings are per player (only unclaimed rewards): each shard names its players and their push instants.
    const lists = await Promise.all(shardNos.map((n) => progressShardActor(env, instance.eventId, n).localWave(call)));
    for (const t of lists.flat()) {
      const p = byPushAt.get(t.pushAt);
      if (p?.players) p.players.push(t);
      else byPushAt.set(t.pushAt, { players: [t] });
    }
  }
  for (const [at, p] of byPushAt) {
    if (pushAt !== null && at !== pushAt) continue;
    // A push that goes late (a resume, a late alarm, a retry after backoff) is judged again now: if quiet hours hold in
    // one of its zones, its row waits for their end under the same key, so its webhook id does not change.
    const due = at > now ? at : Math.max(now, ...pushZones(p).map((zone) => pushInstant(now, zone, lt.quietHours)));
    // The batch carries the push instant (its deferral from the wave's recorded firing, exact): two instants seconds
    // apart get two webhook ids, and a retried alarm computes the same ones.
    if (due <= now) await enqueue(env, base, instance.eventId, wave.type, p, at - firedAt);
    else schedule.set("wave", due, `push|${at}|${waveKey}`, 0);
  }
  if (!push) sql.exec("INSERT OR IGNORE INTO waves_fired (key, fired_at) VALUES (?, ?)", waveKey, firedAt);
}

/** One push instant of a wave: a topic push to its zones (with its words), or the players an expiration warning reaches. */
type Push = { zones: string[]; title: string; body: string; players?: undefined } | { players: WaveTarget[]; zones?: undefined };
const pushZones = (p: Push) => p.zones ?? [...new Set(p.players.map((t) => t.zone))];

/**
 * A wave push's batch number: the milliseconds of deferral above, the batch's index below, so each push instant has
 * its own webhook ids. The index has room for 10^6 batches (10^8 players in one push instant of one wave); a deferral
 * of up to 10 days stays a safe integer.
 */
export const waveBatch = (deferredMs: number, index: number) => deferredMs * 1_000_000 + index;

/** One topic push naming the zones, or batches of 100 players; numbered by waveBatch. */
async function enqueue(env: Env, notificationId: string, eventId: string, type: string, p: Push, deferredMs: number) {
  let messages: PushMessage[];
  if (p.zones) messages = [{ notificationId, eventId, type, title: p.title, body: p.body, audience: "zones", zones: p.zones, batch: waveBatch(deferredMs, 0) }];
  else {
    const targets = p.players;
    messages = Array.from({ length: Math.ceil(targets.length / PLAYERS_PER_PUSH) }, (_, i) => {
      const slice = targets.slice(i * PLAYERS_PER_PUSH, (i + 1) * PLAYERS_PER_PUSH);
      return { notificationId, eventId, type, title: slice[0].title, body: slice[0].body, audience: "players" as const, playerIds: slice.map((t) => t.playerId), batch: waveBatch(deferredMs, i) };
    });
  }
  for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
    await env.PUSH_QUEUE.sendBatch(messages.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
  }
}
