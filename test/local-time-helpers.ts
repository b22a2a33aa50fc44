// Shared by the local-time tests: an event object's alarm work driven at a chosen instant.
import { env } from "cloudflare:test";
import { runInDurableObject } from "./helpers";

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
