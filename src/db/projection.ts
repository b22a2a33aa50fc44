// How EventActors project their state into D1. Every write is idempotent (upsert guarded by revision,
// insert-or-ignore keyed by transition seq), so a retried or duplicated projection is harmless.
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { EventInstance } from "../domain/model";
import type { TransitionRecord } from "../domain/lifecycle";
import { eventTransitions, instances } from "./schema";


/** D1 allows 100 bound parameters per statement; a transition row binds 9. */
const TRANSITIONS_PER_STATEMENT = 11;

export function instanceRow(instance: EventInstance, revision: number) {
  return {
    eventId: instance.eventId,
    templateId: instance.templateId,
    templateVersion: instance.templateVersion,
    eventType: instance.type,
    tier: instance.tier,
    state: instance.state,
    customName: instance.name,
    customDescription: instance.description,
    themeOverride: instance.theme,
    objectives: instance.objectives,
    milestones: instance.milestones,
    rewardPool: instance.rewardPool,
    startTime: instance.startTime,
    endTime: instance.endTime,
    minimumPlayerLevel: instance.minimumPlayerLevel,
    participantCount: instance.participantCount,
    completionCount: instance.completionCount,
    leaderboardId: instance.leaderboardId,
    eligibleClanIds: instance.eligibleClanIds,
    document: instance,
    revision,
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
  };
}

export async function projectEvent(d1: D1Database, instance: EventInstance, revision: number, transitions: TransitionRecord[], extra: D1PreparedStatement[] = []) {
  const db = drizzle(d1);
  const row = instanceRow(instance, revision);
  // Participation counts are written by the progress shards' drains; the event object must not overwrite them.
  const { eventId: _id, createdAt: _c, participantCount: _p, completionCount: _cc, ...changing } = row;
  const writes = [
    db
      .insert(instances)
      .values(row)
      .onConflictDoUpdate({
        target: instances.eventId,
        set: changing,
        // An older projection retried after a newer one landed must not roll the record back.
        setWhere: sql`excluded.revision > ${instances.revision}`,
      }),
  ];
  for (let i = 0; i < transitions.length; i += TRANSITIONS_PER_STATEMENT) {
    const chunk = transitions.slice(i, i + TRANSITIONS_PER_STATEMENT).map((t) => ({ eventId: instance.eventId, ...t }));
    writes.push(db.insert(eventTransitions).values(chunk).onConflictDoNothing() as never);
  }
  await db.batch(writes as [typeof writes[0], ...typeof writes]);
  // Raw statements (e.g. the notification plan) go in a second batch; both are idempotent, so a failure between
  // them is repaired by the retry of the whole projection.
  if (extra.length) await d1.batch(extra);
}

/**
 * The participation counts on an event's record, refreshed by the progress shards' drains (in the same batch as the
 * progress rows they count). Counts come from the record itself, so shards never have to agree with each other on a
 * total; projectEvent never writes these two columns.
 */
export const participationCountsStatement = (d1: D1Database, eventId: string, completionThreshold: number) =>
  d1
    .prepare(
      `UPDATE instances SET
         participant_count = (SELECT COUNT(*) FROM player_progress WHERE event_id = ?1),
         completion_count = (SELECT COUNT(*) FROM player_progress WHERE event_id = ?1 AND completion >= ?2)
       WHERE event_id = ?1`,
    )
    .bind(eventId, completionThreshold);
