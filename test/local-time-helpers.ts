// Shared by the local-time tests: an event object's alarm work driven at a chosen instant.
import { env } from "cloudflare:test";
import { afterEach } from "vitest";
import { runInDurableObject } from "./helpers";
import type { Client } from "./live-helpers";

export const eventStub = (id: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id));

/** The alarm's work at `at`, repeated as the alarm would re-arm while rows are due (a tick runs at most 25). */
export async function tick(id: string, at: number) {
  for (let i = 0; i < 20; i++) {
    await runInDurableObject(eventStub(id), (o) => o.tick(at));
    const due = await runInDurableObject(eventStub(id), (_o, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM schedule WHERE due_at <= ?", at).one().n);
    if (due === 0) return;
  }
  throw new Error("rows still due after 20 ticks");
}

export const OBJ = [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }];

/**
 * The events and sockets a test file makes, cleaned after each test: sockets closed, and each event's alarm deleted
 * (alarms are not reset between tests, and a local-time event's waves would fire into the next one).
 */
export function tracked() {
  const events: string[] = [];
  const sockets: Client[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) if (!s.closed) s.ws.close(1000, "done");
    for (const id of events.splice(0)) await runInDurableObject(eventStub(id), (_o, s) => s.storage.deleteAlarm());
  });
  return { events, sockets };
}
