// What ops did to an occurrence's event directly (POST /v1/admin/events/:id/cancel), outside the series. The series
// learns it two ways: the admin cancel route tells the series at once (eventCancelled), and every pass reads the
// states of the events it still lists as scheduled or shifted from D1 (one read by primary key), which catches a
// cancel the route could not report. A learnt cancel is recorded on the occurrence, and the pass leaves it so
// (materialize.ts, heldByOps): no pass or resume makes it again; an edit that moves or resizes it makes a new event.
import { eventStates } from "../../db/series";
import { DAY_MS } from "../../domain/time";
import { eventActor } from "../stubs";
import { OPERATOR_CANCELLED, cancelledBy, type OccurrenceRow } from "./materialize";

/** Event id → the cancelled event's last revision (added to the occurrence's SEQUENCE base, as cancel() does). */
export type Cancelled = Map<string, number>;

const listedLive = (r: OccurrenceRow) => r.eventId !== null && (r.status === "scheduled" || r.status === "shifted");

/**
 * The events among the rows still listed live whose D1 state says cancelled. A failed read learns nothing this time
 * (the next pass reads again): a pass, a pause or an end must never wait on D1 to cancel what it has to.
 */
export async function cancelledOutside(db: D1Database, rows: Iterable<OccurrenceRow>, seriesId: string): Promise<Cancelled> {
  const ids = [...rows].filter(listedLive).map((r) => r.eventId!);
  try {
    const states = await eventStates(db, ids);
    return new Map(ids.flatMap((id) => (states.get(id)?.state === "cancelled" ? [[id, states.get(id)!.revision] as const] : [])));
  } catch (err) {
    console.error(JSON.stringify({ msg: "series pass could not read its events' states; the next pass reads again", seriesId, error: String(err) }));
    return new Map();
  }
}

/**
 * Of the cancels D1 shows, those the series sent itself (a pass cancelled the event, then a crash lost the record):
 * event id → the reason it was sent with. One event read per learnt cancel, which is rare. An event whose read fails
 * is dropped from `cancelled` for this pass (its row stays live; the next pass asks again): counted as ops, the
 * series' own cancel would be held out for ever on one transient error.
 */
export async function ownCancels(env: Env, cancelled: Cancelled, seriesActor: string): Promise<Map<string, string>> {
  const own = new Map<string, string>();
  for (const id of [...cancelled.keys()]) {
    const by = await eventActor(env, id)
      .get()
      .then(
        (v) => (v ? cancelledBy(v) : null),
        (err: unknown) => {
          console.error(JSON.stringify({ msg: "series pass could not read a cancelled event; it asks again next pass", eventId: id, error: String(err) }));
          cancelled.delete(id);
          return null;
        },
      );
    if (by?.actor === seriesActor) own.set(id, by.reason ?? "cancelled by the series");
  }
  return own;
}

/**
 * The rows to record as cancelled (none when no listed event is among them): by ops, unless `own` names the event as
 * the series' own cancel, which keeps its reason (so a resume makes it again).
 */
export function heldOut(rows: Iterable<OccurrenceRow>, cancelled: Cancelled, own: Map<string, string> = new Map()): OccurrenceRow[] {
  return [...rows]
    .filter((r) => listedLive(r) && cancelled.has(r.eventId!))
    .map((r) => ({ ...r, status: "cancelled", reason: own.get(r.eventId!) ?? OPERATOR_CANCELLED, seqBase: r.seqBase + cancelled.get(r.eventId!)! }));
}

/**
 * A paused or ended series makes nothing more, but an occurrence it still lists live (running, or over for less than
 * a day) may yet be cancelled by ops with the word lost: while one remains, a learn-only pass runs daily.
 */
export const learnsStill = (rows: Iterable<OccurrenceRow>, now: number) => [...rows].some((r) => listedLive(r) && r.end + DAY_MS > now);
