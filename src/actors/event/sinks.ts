// Where an EventActor's changes go after they are durable in its own storage: the D1 projection, its progress
// shards and the calendar's copy of its window. Each sink remembers the last revision it took; one that fails keeps
// its mark and gets a backoff row in the schedule table, so nothing is lost, only delayed, and a retry is harmless
// because every sink is revision-guarded.
import type { EventInstance } from "../../domain/model";
import type { EventInfo } from "../../domain/progress";
import { windowOf } from "../../domain/scheduling";
import type { SchedulerWindow } from "../contracts";

export const SINK_NAMES = ["project", "calendar", "shards"] as const;
export type SinkName = (typeof SINK_NAMES)[number];
export const MAX_SINK_BACKOFF_MS = 5 * 60_000;

export function eventInfo(i: EventInstance, revision: number): EventInfo {
  return {
    eventId: i.eventId,
    name: i.name,
    state: i.state,
    startTime: i.startTime,
    endTime: i.endTime,
    objectives: i.objectives,
    milestones: i.milestones,
    minimumPlayerLevel: i.minimumPlayerLevel,
    requiresClan: i.requiresClan,
    eligibleClanIds: i.eligibleClanIds,
    shardCount: i.shardCount,
    revision,
  };
}

/** The calendar's copy of this event: just what the scheduling rules look at. */
export function calendarWindow(i: EventInstance, revision: number): SchedulerWindow {
  return { ...windowOf(i), state: i.state, revision };
}

/** Pushes `revision` to one sink if it is behind; `push` returns the last transition seq the sink now has. */
export async function flushSink(sql: SqlStorage, name: SinkName, revision: number, now: number, push: (lastSeq: number) => Promise<number>) {
  const mark = sql.exec<{ revision: number; last_seq: number; failures: number }>("SELECT * FROM sinks WHERE name = ?", name).toArray()[0] ?? {
    revision: 0,
    last_seq: 0,
    failures: 0,
  };
  if (mark.revision >= revision) return;
  try {
    const lastSeq = await push(mark.last_seq);
    sql.exec("INSERT OR REPLACE INTO sinks (name, revision, last_seq, failures) VALUES (?, ?, ?, 0)", name, revision, lastSeq);
    sql.exec("DELETE FROM schedule WHERE kind = ?", name);
  } catch (err) {
    const failures = mark.failures + 1;
    console.error(JSON.stringify({ msg: `${name} sink failed`, failures, error: String(err) }));
    sql.exec("INSERT OR REPLACE INTO sinks (name, revision, last_seq, failures) VALUES (?, ?, ?, ?)", name, mark.revision, mark.last_seq, failures);
    const delay = Math.min(1000 * 2 ** (failures - 1), MAX_SINK_BACKOFF_MS);
    sql.exec("INSERT OR REPLACE INTO schedule (kind, due_at, attempt) VALUES (?, ?, ?)", name, now + delay, failures);
  }
}
