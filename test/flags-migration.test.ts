// D1 migration 0006 run over rows in the shape 0002 created (one per refused update): they survive, aggregated per
// player, objective and reason, and what the shards flag afterwards adds to those counts. This file rebuilds the
// table for the purpose; each test file has its own D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardName } from "../src/domain/sharding";
import { HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { drainShard } from "./rewards-helpers";

const LEGACY_TABLE = [
  "DROP TABLE progress_flags",
  `CREATE TABLE progress_flags (flag_id text PRIMARY KEY NOT NULL, player_id text NOT NULL, event_id text NOT NULL,
     objective_id text NOT NULL, amount text NOT NULL, reason text NOT NULL, at integer NOT NULL)`,
  "CREATE INDEX idx_flags_event ON progress_flags (event_id, at)",
  "CREATE INDEX idx_flags_player ON progress_flags (player_id, at)",
];

describe("migration 0006", () => {
  it("aggregates existing flag rows and keeps counting on top of them", async () => {
    const t = await createTemplate({
      objectives: [{ objectiveId: "gems", description: "Gems", type: "collect", targetValue: 1000, trackingKey: "gems", maxPerUpdate: 50 }],
      milestones: [{ index: 0, progressThreshold: 1 }],
    });
    const e = await createEvent(t.templateId, { startTime: "now", endTime: inMs(2 * HOUR), shardCount: 1 });
    for (const q of LEGACY_TABLE) await env.DB.prepare(q).run();
    const legacy: [string, string, string, string, string, number][] = [
      ["old", "gems", "51", "amount 51 exceeds maxPerUpdate 50 for gems", "f1", 1000],
      ["old", "gems", "60", "amount 60 exceeds maxPerUpdate 50 for gems", "f2", 3000],
      ["old", "gems", "55", "amount 55 exceeds maxPerUpdate 50 for gems", "f3", 2000],
      ["old", "nope", "1", "unknown objective nope", "f4", 1500],
      ["old", "zap", "1", "unknown objective zap", "f5", 2500],
      ["old", "gems", "-1", "amount must be greater than 0, got -1", "f6", 1200],
      ["old", "gems", "99", "legacy", "f7", 900],
      ["other", "gems", "\"lots\"", "amount must be a finite number, got \"lots\"", "f8", 4000],
    ];
    for (const [player, objective, amount, reason, id, at] of legacy) {
      await env.DB.prepare("INSERT INTO progress_flags VALUES (?, ?, ?, ?, ?, ?, ?)").bind(id, player, e.eventId, objective, amount, reason, at).run();
    }
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0006_"))!;
    expect(migration).toBeTruthy();
    for (const q of migration.queries) await env.DB.prepare(q).run();

    const rows = await env.DB.prepare(
      "SELECT player_id, objective_id, reason, count, first_seen, last_seen, sample_amount, sample_detail FROM progress_flags WHERE event_id = ? ORDER BY player_id, objective_id, reason",
    )
      .bind(e.eventId)
      .all<any>();
    expect(rows.results).toEqual([
      { player_id: "old", objective_id: "*", reason: "unknown_objective", count: 2, first_seen: 1500, last_seen: 2500, sample_amount: "1", sample_detail: "unknown objective zap" },
      { player_id: "old", objective_id: "gems", reason: "legacy", count: 1, first_seen: 900, last_seen: 900, sample_amount: "99", sample_detail: "legacy" },
      { player_id: "old", objective_id: "gems", reason: "max_per_update", count: 3, first_seen: 1000, last_seen: 3000, sample_amount: "60", sample_detail: "amount 60 exceeds maxPerUpdate 50 for gems" },
      { player_id: "old", objective_id: "gems", reason: "not_positive", count: 1, first_seen: 1200, last_seen: 1200, sample_amount: "-1", sample_detail: "amount must be greater than 0, got -1" },
      { player_id: "other", objective_id: "gems", reason: "not_a_number", count: 1, first_seen: 4000, last_seen: 4000, sample_amount: "\"lots\"", sample_detail: "amount must be a finite number, got \"lots\"" },
    ]);

    // The shard's own counts start at zero and add to what the migration carried over.
    const r = await call("POST", `/v1/events/${e.eventId}/progress`, { token: await playerToken("old"), body: { updates: [{ objectiveId: "gems", amount: 70, seq: 1 }] } });
    expect(r.status).toBe(422);
    const stub = env.PROGRESS_SHARD_ACTOR.get(env.PROGRESS_SHARD_ACTOR.idFromName(shardName(e.eventId, 0)));
    await drainShard(stub);
    const merged = await env.DB.prepare("SELECT count, first_seen, last_seen, sample_amount FROM progress_flags WHERE event_id = ? AND player_id = 'old' AND reason = 'max_per_update'")
      .bind(e.eventId)
      .first<any>();
    expect(merged).toMatchObject({ count: 4, first_seen: 1000, sample_amount: "70" });
    expect(merged.last_seen).toBeGreaterThan(3000);
    await runInDurableObject(env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(e.eventId)), (_o, s) => s.storage.deleteAlarm());
    await runInDurableObject(stub, (_o, s) => s.storage.deleteAlarm());
  });
});
