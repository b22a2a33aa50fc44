// The event report's holdout section (issue 15) on synthetic populations whose effect is known: struggling players as
// the progress shards record them (adaptive_decisions), their progress and their sessions after the end, through the
// real D1 queries, the JSON route and the CSV.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, storeReport } from "../src/db/analytics";
import { DAY, HOUR, call, createEvent, createTemplate, inMs } from "./helpers";

type Arm = { arm: "treated" | "control"; players: number; completers: number; retained: number };

/** `players` struggling players of an arm: the first `completers` finish both objectives, the first `retained` come back. */
async function population(eventId: string, end: number, arms: Arm[]) {
  const progress: unknown[] = [];
  const decisions: unknown[] = [];
  const sessions: unknown[] = [];
  for (const a of arms) {
    for (let i = 0; i < a.players; i++) {
      const playerId = `${eventId}-${a.arm}-${i}`;
      const objectives = i < a.completers ? { snowflakes: 100, bosses: 5 } : { snowflakes: 40, bosses: 1 };
      progress.push({ id: `${eventId}:${playerId}`, playerId, objectives: JSON.stringify(objectives) });
      decisions.push({ playerId, arm: a.arm });
      if (i < a.retained) sessions.push({ id: `${playerId}-back`, playerId, start: end + DAY + i });
    }
  }
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO player_progress (progress_id, player_id, event_id, objectives, unlocked_milestones, completion, last_seq, revision, is_synced, last_updated, created_at)
       SELECT j.value ->> '$.id', j.value ->> '$.playerId', ?2, j.value ->> '$.objectives', '[]', 0, 1, 1, 1, ?3, ?3 FROM json_each(?1) j`,
    ).bind(JSON.stringify(progress), eventId, end - HOUR),
    env.DB.prepare(
      `INSERT INTO adaptive_decisions (event_id, player_id, arm, reason, decided_at, completion, pace)
       SELECT ?2, j.value ->> '$.playerId', j.value ->> '$.arm', 'pace', ?3, 0.1, 0.01 FROM json_each(?1) j`,
    ).bind(JSON.stringify(decisions), eventId, end - 2 * HOUR),
    env.DB.prepare(
      `INSERT INTO telemetry_sessions (session_id, player_id, start, duration_sec, ends_at, platform, received_at)
       SELECT j.value ->> '$.id', j.value ->> '$.playerId', j.value ->> '$.start', 60, (j.value ->> '$.start') + 60000, 'pc', ?2 FROM json_each(?1) j`,
    ).bind(JSON.stringify(sessions), end),
  ]);
}

let large: { eventId: string; end: number };
let none: { eventId: string; end: number };

beforeAll(async () => {
  const t = await createTemplate();
  const make = async (days: number) => {
    const e = await createEvent(t.templateId, { startTime: inMs(days * DAY), endTime: inMs(days * DAY + 3 * HOUR) });
    return { eventId: e.eventId as string, end: Date.parse(e.endTime) };
  };
  large = await make(50);
  none = await make(52);
  // A large effect: completion 60 % vs 30 %, retention 75 % vs 40 %.
  await population(large.eventId, large.end, [
    { arm: "treated", players: 200, completers: 120, retained: 150 },
    { arm: "control", players: 200, completers: 60, retained: 80 },
  ]);
  // No effect: 40 % and 40 %.
  await population(none.eventId, none.end, [
    { arm: "treated", players: 50, completers: 20, retained: 20 },
    { arm: "control", players: 50, completers: 20, retained: 20 },
  ]);
});

describe("holdout: treated vs control struggling players", () => {
  it("a large known effect: the estimate is it, its 95 % interval contains it and excludes 0", async () => {
    const report = (await buildReport(env.DB, large.eventId, large.end + 8 * DAY))!;
    const h = report.holdout!;
    expect(h.struggling).toBe(400);
    expect(h.treated).toEqual({ players: 200, completers: 120, completionRate: 0.6, retained: 150, retention7d: 0.75 });
    expect(h.control).toEqual({ players: 200, completers: 60, completionRate: 0.3, retained: 80, retention7d: 0.4 });
    expect(h.completionDifference!.estimate).toBe(0.3);
    expect(h.completionDifference!.low).toBeGreaterThan(0);
    expect(h.completionDifference!.low).toBeLessThan(0.3);
    expect(h.completionDifference!.high).toBeGreaterThan(0.3);
    expect(h.retentionDifference!.estimate).toBe(0.35);
    expect(h.retentionDifference!.low).toBeGreaterThan(0);
    expect(h.method).toBe("newcombe-hybrid-wilson-95");
  });

  it("no effect: the interval straddles 0; retention is null until the 7 days have passed", async () => {
    const h = (await buildReport(env.DB, none.eventId, none.end + 8 * DAY))!.holdout!;
    expect(h.completionDifference!.estimate).toBe(0);
    expect(h.completionDifference!.low).toBeLessThan(0);
    expect(h.completionDifference!.high).toBeGreaterThan(0);
    const early = (await buildReport(env.DB, none.eventId, none.end + DAY))!.holdout!;
    expect(early.treated.retained).toBeNull();
    expect(early.retentionDifference).toBeNull();
    expect(early.completionDifference).not.toBeNull();
  });

  it("is in the stored report's JSON and CSV", async () => {
    await storeReport(env.DB, (await buildReport(env.DB, large.eventId, large.end + 8 * DAY))!);
    const json = await call("GET", `/v1/admin/events/${large.eventId}/report`);
    expect(json.status).toBe(200);
    expect(json.json.holdout.treated.players).toBe(200);
    const csv = await call("GET", `/v1/admin/events/${large.eventId}/report?format=csv`);
    const lines = (csv.json as string).trim().split("\n");
    expect(lines).toContain("holdout,,struggling,400");
    expect(lines).toContain("holdout,treated,completionRate,0.6");
    expect(lines).toContain("holdout,completionDifference,estimate,0.3");
    expect(lines.some((l) => l.startsWith("holdout,completionDifference,low,0."))).toBe(true);
    expect(lines).toContain("holdout,,method,newcombe-hybrid-wilson-95");
  });
});
