// D1 bills rows read, so every per-player query must find its rows by index. The real query texts are captured by
// running the src/db functions against the migrated test D1 (a wrapper only records what they prepare and bind),
// then each is run again under EXPLAIN QUERY PLAN on the same database.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventsToEvaluate } from "../src/db/alerts";
import { countPushFailure, feedRows, notificationStatements, recordInteraction, setPushStatus } from "../src/db/notifications";
import { flagStatements, progressStatements, progressTotals } from "../src/db/progress";
import { participationCountsStatement } from "../src/db/projection";
import { claimStatements, inboxStatements, ledgerStatements } from "../src/db/rewards";
import { adaptationStatements } from "../src/db/adaptive";
import { recomputeProfiles, recommendationInputs, touchedPlayers, writeNeeds } from "../src/db/profiles";
import { eventStates, listSeries, occurrenceStatements, publicSeriesLinks, seriesStatements } from "../src/db/series";
import { DAY } from "./helpers";

type Captured = { sql: string; args: unknown[] };

/** The real D1 with every prepared statement's text and bindings noted; execution is the real database's. */
function recording(d1: D1Database) {
  const captured: Captured[] = [];
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement, entry: Captured): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args), Object.assign(entry, { args }));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          const entry = { sql, args: [] };
          captured.push(entry);
          return wrap(target.prepare(sql), entry);
        };
      if (prop === "batch") return (stmts: D1PreparedStatement[]) => target.batch(stmts.map((s) => real.get(s) ?? s));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, captured };
}

const plan = async (q: Captured) =>
  (await env.DB.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).bind(...q.args).all<{ detail: string }>()).results.map((r) => r.detail);

/** A full pass over a table: any SCAN but of a JSON parameter being unpacked (json_each) or a constant row. */
const fullScans = (lines: string[]) => lines.filter((l) => /^SCAN /.test(l) && !/VIRTUAL TABLE|CONSTANT ROW/.test(l));

const NOW = Date.now();
const PLAYER = "plan-player";

/** Fired notifications of every kind the feed must tell apart. */
async function seedNotifications(eventId: string) {
  const row = (n: number, type: string, playerId: string | null, scheduledTime: number) => ({
    notificationId: `${eventId}:${n}`,
    eventId,
    type: type as never,
    playerId,
    scheduledTime,
    payload: JSON.stringify({ title: `t${n}`, body: "b" }),
    createdAt: scheduledTime,
  });
  const rows = [
    row(1, "start", null, NOW - 1000),
    row(2, "milestone", PLAYER, NOW - 2000),
    row(3, "milestone", "someone-else", NOW - 3000),
    row(4, "ending", null, NOW - 4000), // a broadcast type the feed does not show
    row(5, "preview", null, NOW - 40 * DAY), // outside the 30-day window
    row(6, "urgency", null, NOW + 1000), // not fired yet
    row(7, "expiration_warning", PLAYER, NOW - 5000),
    row(8, "preview", null, NOW - 6000),
  ];
  await env.DB.batch(notificationStatements(env.DB, rows));
  await env.DB.prepare("UPDATE notification_queue SET status = 'cancelled' WHERE notification_id = ?").bind(`${eventId}:8`).run();
}

describe("per-player queries use indexes", () => {
  it("the feed reads by idx_notifications_player in both arms and sorts nothing", async () => {
    const { db, captured } = recording(env.DB);
    await feedRows(db, PLAYER, "UTC", NOW);
    const lines = await plan(captured[0]);
    expect(fullScans(lines)).toEqual([]);
    expect(lines).not.toContain("USE TEMP B-TREE FOR ORDER BY");
    expect(lines.filter((l) => l.includes("USING INDEX idx_notifications_player"))).toHaveLength(2);
  });

  it("the feed returns what the single-OR query returned", async () => {
    const eventId = `evt_plan_${NOW.toString(36)}`;
    await seedNotifications(eventId);
    await recordInteraction(env.DB, PLAYER, "UTC", `${eventId}:1`, "clicked", NOW);
    const before = await env.DB.prepare(
      `SELECT q.notification_id, q.event_id, q.notification_type, q.scheduled_time, q.payload, i.shown_at, i.clicked_at
       FROM notification_queue q
       LEFT JOIN notification_interactions i ON i.notification_id = q.notification_id AND i.player_id = ?1
       WHERE q.payload IS NOT NULL AND q.status != 'cancelled' AND q.scheduled_time > ?2 AND q.scheduled_time <= ?3
         AND (q.target_player_id = ?1 OR (q.target_player_id IS NULL AND q.notification_type IN ('preview', 'start', 'urgency')))
       ORDER BY q.scheduled_time DESC LIMIT 500`,
    )
      .bind(PLAYER, NOW - 30 * DAY, NOW)
      .all();
    const after = await feedRows(env.DB, PLAYER, "UTC", NOW);
    expect(after).toEqual(before.results);
    const mine = after.filter((r) => r.event_id === eventId);
    expect(mine.map((r) => r.notification_id)).toEqual([1, 2, 7].map((n) => `${eventId}:${n}`));
    expect(mine[0]).toMatchObject({ shown_at: NOW, clicked_at: NOW });
  });

  it("every other query a player's actions run finds its rows by index", async () => {
    const eventId = `evt_plan2_${NOW.toString(36)}`;
    await seedNotifications(eventId);
    const { db, captured } = recording(env.DB);
    await recordInteraction(db, PLAYER, "UTC", `${eventId}:2`, "shown", NOW);
    await setPushStatus(db, `${eventId}:1`, [PLAYER], "sent", NOW);
    await countPushFailure(db, `${eventId}:1`);
    const progress = { playerId: PLAYER, objectives: '{"pts":1}', unlockedMilestones: "[]", completion: 0.1, lastSeq: 1, revision: 1, lastUpdated: NOW, createdAt: NOW };
    const flag = { playerId: PLAYER, objectiveId: "pts", reason: "negative", count: 1, firstSeen: NOW, lastSeen: NOW, sampleAmount: "-1", sampleDetail: "amount must be greater than 0" };
    const grant = { playerId: PLAYER, eventId, milestoneIndex: 0, rewards: "[]", source: "claim" };
    const extra = [
      ...claimStatements(db, [{ ...grant, claimId: `${eventId}:c`, signature: "s", claimedAt: NOW }]),
      ...ledgerStatements(db, [{ ...grant, ledgerId: `${eventId}:l`, receiptId: "r", deliveredVia: "ledger", at: NOW }]),
      ...inboxStatements(db, [{ ...grant, itemId: `${eventId}:i`, receiptId: "r", reason: "inventory_full", status: "pending", arrivedAt: NOW, expiresAt: NOW + DAY, claimedAt: null }]),
    ];
    // One drain, as the shard sends it: players, flags, the participation counts and the reward rows in one batch.
    await db.batch([...progressStatements(db, eventId, [progress]), ...flagStatements(db, eventId, [flag]), participationCountsStatement(db, eventId, 1), ...extra]);
    await progressTotals(db, eventId);

    expect(captured.length).toBeGreaterThanOrEqual(11);
    for (const q of captured) {
      const lines = await plan(q);
      expect(fullScans(lines), q.sql).toEqual([]);
      expect(lines, q.sql).not.toContain("USE TEMP B-TREE FOR ORDER BY");
    }
  });

  it("personalization's queries (profile job, recommendations, needs, adaptive decisions) find their rows by index", async () => {
    const { db, captured } = recording(env.DB);
    await touchedPlayers(db, { at: NOW - DAY, player: null }, NOW);
    await recomputeProfiles(db, [PLAYER, "plan-other"], NOW);
    await writeNeeds(db, PLAYER, { level: 3 }, NOW);
    await recommendationInputs(db, PLAYER, NOW, NOW + 7 * DAY, { level: 10, clan: "blue" });
    const decision = { eventId: "evt_plan3", playerId: PLAYER, arm: "treated" as const, reason: "pace" as const, decidedAt: NOW, completion: 0.1, pace: 0.01, factor: 0.8, targets: "{}", assist: null };
    await db.batch(adaptationStatements(db, [decision]));
    expect(captured.length).toBeGreaterThanOrEqual(12);
    for (const q of captured) {
      const lines = await plan(q);
      // A window function's result is materialized and walked (SCAN (subquery-n)): its rows, not a table's.
      expect(fullScans(lines).filter((l) => !l.startsWith("SCAN (subquery-")), q.sql).toEqual([]);
    }
  });
});

describe("the per-minute alert run", () => {
  it("finds the events to watch by index ranges: ended events by end or update time, never all of them", async () => {
    const { db, captured } = recording(env.DB);
    await eventsToEvaluate(db, NOW);
    expect(captured).toHaveLength(1);
    const lines = await plan(captured[0]);
    expect(fullScans(lines), captured[0].sql).toEqual([]);
    expect(lines).toContain("SEARCH instances USING INDEX idx_instances_state_end (state=? AND end_time>?)");
    expect(lines).toContain("SEARCH instances USING INDEX idx_instances_state_updated (state=? AND updated_at>?)");
    // The one arm that takes a whole state is the running events (active, paused): ended ones are not read by state alone.
    expect(lines.filter((l) => /^SEARCH instances .*\(state=\?\)$/.test(l))).toHaveLength(1);
  });
});

describe("the ops series list", () => {
  it("walks an index newest first, whole, by status or by template, in one read: counts from the row, the next start a seek", async () => {
    const { db, captured } = recording(env.DB);
    const after = { createdAt: NOW, seriesId: "ser_ffffffffffffffff" };
    await listSeries(db, {}, { limit: 50 }, NOW);
    await listSeries(db, { status: "active" }, { limit: 50, after }, NOW);
    await listSeries(db, { templateId: "plan-template" }, { limit: 50, after }, NOW);
    await listSeries(db, { status: "paused", templateId: "plan-template" }, { limit: 50 }, NOW);
    const rule = { rrule: "FREQ=DAILY", dtstart: "2027-01-01T10:00:00", duration: "PT1H", timeZone: "UTC", exdates: [], until: null };
    const row = { seriesId: "ser_plan000000000000", templateId: "plan-template", rule, onConflict: "skip", status: "active" as const, sequence: 0, createdAt: NOW, updatedAt: NOW, revision: 0 };
    await env.DB.batch(seriesStatements(env.DB, [row]));
    await listSeries(db, { templateId: "plan-template" }, { limit: 1 }, NOW);
    expect(captured).toHaveLength(5);
    for (const q of captured) {
      const lines = await plan(q);
      // The unfiltered list walks idx_series_created backwards and stops at the LIMIT: a bounded walk, not a pass.
      expect(fullScans(lines).filter((l) => l !== "SCAN series USING INDEX idx_series_created"), q.sql).toEqual([]);
      // No sort and no grouping of any series' history: the counts are the row's columns.
      expect(lines.filter((l) => l.includes("TEMP B-TREE")), q.sql).toEqual([]);
      // The live rows only (a partial index): not the cancelled rows a paused or ended series keeps to its horizon.
      expect(lines, q.sql).toContain("SEARCH o USING INDEX idx_series_occurrences_next_live (series_id=? AND start_time>?)");
    }
  });
});

describe("the next live start of a series that keeps many cancelled rows", () => {
  it("reads the live rows only: a paused series' 1,460 future cancelled rows are not walked", async () => {
    const rule = { rrule: "FREQ=DAILY", dtstart: "2027-01-01T10:00:00", duration: "PT1H", timeZone: "UTC", exdates: [], until: null };
    const seriesId = "ser_walk000000000000";
    const templateId = "plan-walk-template";
    await env.DB.batch(seriesStatements(env.DB, [{ seriesId, templateId, rule, onConflict: "skip", status: "paused", sequence: 0, createdAt: NOW, updatedAt: NOW, revision: 0 }]));
    // A year of four a day, all cancelled by the pause, and one live row after them.
    const rows = Array.from({ length: 1461 }, (_, i) => {
      const start = NOW + (i + 1) * 6 * 3_600_000;
      return { seriesId, key: `k${String(i).padStart(5, "0")}`, eventId: null, status: i === 1460 ? "scheduled" : "cancelled", start, end: start + 3_600_000, shiftedFrom: null, reason: null, updatedAt: NOW, revision: 0, originalStart: start, seqBase: 0 } as any;
    });
    for (let i = 0; i < rows.length; i += 200) await env.DB.batch(occurrenceStatements(env.DB, rows.slice(i, i + 200)));
    const { db, captured } = recording(env.DB);
    const listed = await listSeries(db, { templateId }, { limit: 1 }, NOW);
    expect(listed.series[0].nextStart).toBe(rows[1460].start);
    const res = await env.DB.prepare(captured[0].sql).bind(...captured[0].args).all();
    // The series row by its index, and one live row: a walk of the cancelled ones would read over a thousand.
    expect(res.meta.rows_read).toBeLessThan(20);
  });
});

describe("series on players' views", () => {
  it("one read for a whole page of events: each event by idx_series_occurrences_event, each next start a seek by series and start", async () => {
    const { db, captured } = recording(env.DB);
    const ids = Array.from({ length: 40 }, (_, i) => `evt_plan_series_${i}`);
    await publicSeriesLinks(db, ids);
    await eventStates(db, ids);
    expect(captured).toHaveLength(2);
    for (const q of captured) expect(fullScans(await plan(q)), q.sql).toEqual([]);
    const lines = await plan(captured[0]);
    expect(lines.some((l) => l.includes("USING INDEX idx_series_occurrences_event"))).toBe(true);
    expect(lines.some((l) => l.includes("USING INDEX idx_series_occurrences_next_live (series_id=? AND start_time>?)"))).toBe(true);
  });
});
