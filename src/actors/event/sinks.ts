// What an EventActor's sinks receive: the progress shards' copy of the event and the scheduler's copy of its window.
// Both carry the revision they were taken at, so the receiver drops a late, out-of-order copy.
import type { EventInstance } from "../../domain/model";
import type { EventInfo } from "../../domain/progress";
import { windowOf } from "../../domain/scheduling";
import type { SchedulerWindow } from "../contracts";

export type SinkName = "project" | "shards" | "scheduler";

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
    clan: i.clan ?? null,
    localTime: i.localTime ?? null,
    board: i.leaderboard ? { eventId: i.eventId, templateId: i.templateId, endTime: i.endTime, definition: i.leaderboard } : null,
  };
}

/** The scheduler's copy of this event: just what the scheduling rules look at. */
export function schedulerWindow(i: EventInstance, revision: number): SchedulerWindow {
  return { ...windowOf(i), state: i.state, revision };
}
