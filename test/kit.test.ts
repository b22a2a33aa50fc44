// The actor kit through the real runtime: versioned schema adoption of pre-kit storage, the schedule table behind
// the single alarm (backoff persisted, hot-path booking that respects it), and the outbox's revision guard, against
// a real object's SQLite and the real D1.
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EVENT_ACTOR_SCHEMA } from "../src/actors/event/schema";
import { INVENTORY_SCHEMA } from "../src/actors/inventory/schema";
import { migrate } from "../src/actors/kit/migrate";
import { OUTBOX_TABLE, Outbox } from "../src/actors/kit/outbox";
import { Schedule } from "../src/actors/kit/schedule";
import { runInDurableObject } from "./helpers";

/** A scratch object: an EventActor id no event was ever created under. Its storage is ours to reshape. */
const scratch = (name: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(`kit-${name}-${crypto.randomUUID()}`));
const wipe = (sql: SqlStorage) => {
  for (const { name } of sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").toArray()) {
    sql.exec(`DROP TABLE IF EXISTS "${name}"`);
  }
};

describe("migrate", () => {
  it("adopts an event object's pre-kit storage: schedule rows keep their times and attempts under (kind, key)", async () => {
    const out = await runInDurableObject(scratch("adopt"), (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      wipe(sql);
      // Exactly what the pre-kit EventActor created, with a few pending rows.
      sql.exec(`
        CREATE TABLE schedule (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempt INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE sinks (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, last_seq INTEGER NOT NULL, failures INTEGER NOT NULL);
        INSERT INTO schedule VALUES ('expire', 5000, 0), ('notify:urgency', 3000, 1), ('project', 1200, 2), ('calendar', 1100, 1);
        INSERT INTO sinks VALUES ('project', 3, 7, 2), ('calendar', 2, 0, 1);`);
      const version = migrate(s.storage, EVENT_ACTOR_SCHEMA);
      const again = migrate(s.storage, EVENT_ACTOR_SCHEMA); // a second run is a no-op
      return {
        version,
        again,
        schedule: sql.exec("SELECT kind, key, due_at, attempt FROM schedule ORDER BY due_at").toArray(),
        sinks: sql.exec("SELECT * FROM sinks ORDER BY name").toArray(),
      };
    });
    expect(out.version).toBe(EVENT_ACTOR_SCHEMA.length);
    expect(out.again).toBe(EVENT_ACTOR_SCHEMA.length);
    expect(out.schedule).toEqual([
      { kind: "sink", key: "scheduler", due_at: 1100, attempt: 1 },
      { kind: "sink", key: "project", due_at: 1200, attempt: 2 },
      { kind: "notify", key: "urgency", due_at: 3000, attempt: 1 },
      { kind: "expire", key: "", due_at: 5000, attempt: 0 },
    ]);
    expect(out.sinks).toEqual([
      { name: "project", revision: 3, last_seq: 7 },
      { name: "scheduler", revision: 2, last_seq: 0 },
    ]);
  });

  it("adopts an inventory's pre-kit storage: rows D1 had not yet received move to the outbox", async () => {
    const out = await runInDurableObject(scratch("inventory"), (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      wipe(sql);
      sql.exec(`
        CREATE TABLE ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, ledger_id TEXT UNIQUE NOT NULL, row TEXT NOT NULL, slots INTEGER NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE inbox (item_id TEXT PRIMARY KEY, row TEXT NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
        INSERT INTO ledger (ledger_id, row, slots, projected) VALUES ('l1', '{"ledgerId":"l1"}', 1, 1), ('l2', '{"ledgerId":"l2"}', 1, 0);
        INSERT INTO inbox (item_id, row, projected) VALUES ('i1', '{"itemId":"i1"}', 0), ('i2', '{"itemId":"i2"}', 1);`);
      migrate(s.storage, INVENTORY_SCHEMA);
      return {
        outbox: sql.exec("SELECT topic, id FROM outbox ORDER BY rowid").toArray(),
        ledgerColumns: sql.exec<{ name: string }>("PRAGMA table_info(ledger)").toArray().map((c) => c.name),
      };
    });
    expect(out.outbox).toEqual([
      { topic: "ledger", id: "l2" },
      { topic: "inbox", id: "i1" },
    ]);
    expect(out.ledgerColumns).not.toContain("projected");
  });

  it("refuses storage written by newer code instead of writing into a schema it does not know", async () => {
    const message = await runInDurableObject(scratch("newer"), (_o, s: DurableObjectState) => {
      s.storage.sql.exec("UPDATE schema_version SET version = 99");
      try {
        migrate(s.storage, EVENT_ACTOR_SCHEMA);
        return "migrated";
      } catch (err) {
        return String(err);
      }
    });
    expect(message).toContain("schema version 99");
  });
});

describe("Schedule", () => {
  const policy = () => ({ baseMs: 1000, maxMs: 8000 });
  // Alarms in the past fire at once, so the rows live a day ahead; each test clears its alarm when done.
  const T = Date.now() + 86_400_000;
  const rowsOf = (schedule: Schedule<string>) => schedule.list().map((r) => [r.kind, r.dueAt - T, r.attempt]);

  it("runs due rows in time order, retries a failing one with persisted backoff, and arms the alarm at the earliest row", async () => {
    const out = await runInDurableObject(scratch("tick"), async (_o, s: DurableObjectState) => {
      const schedule = new Schedule<string>(s, policy);
      const ran: string[] = [];
      schedule.set("b", T + 2000);
      schedule.set("a", T + 1000);
      schedule.set("later", T + 60_000);
      schedule.set("boom", T + 1500);
      await schedule.tick(T + 3000, (row) => {
        ran.push(row.kind);
        if (row.kind === "boom") throw new Error("down");
      });
      const afterFirst = rowsOf(schedule);
      // Still failing: the attempt count grows and the wait doubles, from what is stored, not from memory.
      const again = new Schedule<string>(s, policy);
      await again.tick(T + 4000, (row) => {
        if (row.kind === "boom") throw new Error("still down");
      });
      const alarm = (await s.storage.getAlarm())! - T;
      await s.storage.deleteAlarm();
      return { ran, afterFirst, afterSecond: rowsOf(again), alarm };
    });
    expect(out.ran).toEqual(["a", "boom", "b"]);
    expect(out.afterFirst).toEqual([
      ["boom", 3000 + 1000, 1],
      ["later", 60_000, 0],
    ]);
    expect(out.afterSecond).toEqual([
      ["boom", 4000 + 2000, 2],
      ["later", 60_000, 0],
    ]);
    expect(out.alarm).toBe(6000);
  });

  it("a woken object whose rows have no alarm behind them rings at the earliest row", async () => {
    const stub = scratch("heal");
    await runInDurableObject(stub, async (_o, s: DurableObjectState) => {
      const schedule = new Schedule<string>(s, policy);
      schedule.set("orphan", T + 700);
      await s.storage.deleteAlarm(); // as after a migration that booked rows, or an alarm the runtime gave up on
    });
    await evictDurableObject(stub);
    const alarm = await runInDurableObject(stub, async (_o, s: DurableObjectState) => {
      const at = await s.storage.getAlarm();
      await s.storage.deleteAlarm();
      return at;
    });
    expect(alarm! - T).toBe(700);
  });

  it("keeps a row its handler moved, and never pulls a backing-off row earlier from the hot path", async () => {
    const out = await runInDurableObject(scratch("ensure"), async (_o, s: DurableObjectState) => {
      const schedule = new Schedule<string>(s, policy);
      schedule.set("moves", T + 100);
      await schedule.tick(T + 100, (row) => schedule.set(row.kind, T + 5000));
      schedule.failed("drain", "", T + 1000, "D1 down"); // due T + 2000, attempt 1
      schedule.ensure("drain", T + 1500); // a busy hot path would like it sooner: the backoff wins
      schedule.ensure("fresh", T + 3000);
      schedule.ensure("fresh", T + 9000); // already due earlier: nothing to write
      schedule.ensure("fresh", T + 2500); // earlier: moves
      await schedule.arm();
      const alarm = (await s.storage.getAlarm())! - T;
      await s.storage.deleteAlarm();
      return { rows: rowsOf(schedule), alarm };
    });
    expect(out.rows).toEqual([
      ["drain", 2000, 1],
      ["fresh", 2500, 0],
      ["moves", 5000, 0],
    ]);
    expect(out.alarm).toBe(2000);
  });

  it("a row asked for again while its handler runs is booked again, not deleted with the run that missed the new work", async () => {
    const out = await runInDurableObject(scratch("rerun"), async (_o, s: DurableObjectState) => {
      const schedule = new Schedule<string>(s, policy);
      const ran: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      schedule.set("top", T + 100);
      schedule.set("quiet", T + 100);
      const tick = schedule.tick(T + 100, async (row) => {
        ran.push(row.kind);
        if (row.kind === "top") await gate; // the handler is awaiting I/O: a command arrives meanwhile
      });
      await new Promise((r) => setTimeout(r, 0));
      schedule.ensure("top", T + 50); // the new work: the running handler has already read what it sends
      release();
      await tick;
      const rows = rowsOf(schedule);
      // Ticks deleting a row nobody asked for again still do.
      await schedule.tick(T + 200, (row) => void ran.push(row.kind));
      const after = rowsOf(schedule);
      // A handler that moves its own row further out does not push back a request made while it ran.
      schedule.set("later", T + 300);
      let ask!: () => void;
      const asked = new Promise<void>((r) => (ask = r));
      const third = schedule.tick(T + 300, async (row) => {
        schedule.set(row.kind, T + 9000);
        await asked;
      });
      await new Promise((r) => setTimeout(r, 0));
      schedule.ensure("later", T + 400);
      ask();
      await third;
      const moved = rowsOf(schedule);
      await s.storage.deleteAlarm();
      return { ran, rows, after, moved };
    });
    // "top" ran once in the first tick, was asked for again, so it is due again right after that tick; "quiet" is gone.
    expect(out.rows).toEqual([["top", 101, 0]]);
    expect(out.ran).toEqual(["quiet", "top", "top"]);
    expect(out.after).toEqual([]);
    expect(out.moved).toEqual([["later", 400, 0]]);
  });
});

describe("Schedule: a row asked for while it runs", () => {
  const policy = () => ({ baseMs: 1000, maxMs: 8000 });
  const T = Date.now() + 86_400_000;

  it("books it again after the run (never in the same tick), and a handler's own recorded failure keeps its backoff", async () => {
    const out = await runInDurableObject(scratch("rerun"), async (_o, s: DurableObjectState) => {
      const schedule = new Schedule<string>(s, policy);
      for (const kind of ["frame", "own-failure", "same"]) schedule.set(kind, T + 100);
      let started!: () => void;
      let release!: () => void;
      const inRun = new Promise<void>((r) => (started = r));
      const gate = new Promise<void>((r) => (release = r));
      const ran: string[] = [];
      const ticking = schedule.tick(T + 200, async (row) => {
        ran.push(row.kind);
        if (row.kind === "frame") {
          started();
          await gate; // a frame being sent: another request lands meanwhile
        }
        if (row.kind === "same") schedule.set("same", T + 100); // asks for itself at its own time
        if (row.kind === "own-failure") {
          schedule.failed("own-failure", "", T + 200, "down");
          schedule.ensure("own-failure", T + 300); // a hot path would like it sooner: the backoff wins
        }
      });
      await inRun;
      schedule.ensure("frame", T + 1200);
      schedule.ensure("frame", T + 150); // the earliest request wins, but not before the tick's now + 1
      release();
      await ticking;
      const rows = schedule.list().map((r) => [r.kind, r.dueAt - T, r.attempt]);
      // A request after the run is the ordinary path again.
      schedule.ensure("frame", T + 50);
      const after = schedule.get("frame")!.dueAt - T;
      await s.storage.deleteAlarm();
      return { ran, rows, after };
    });
    expect(out.ran).toEqual(["frame", "own-failure", "same"]);
    expect(out.rows).toEqual([
      ["frame", 201, 0],
      ["same", 201, 0],
      ["own-failure", 1200, 1],
    ]);
    expect(out.after).toBe(50);
  });
});

describe("Outbox", () => {
  it("marks written exactly what reached D1: a row changed while its batch was in flight stays pending", async () => {
    await env.DB.exec("CREATE TABLE IF NOT EXISTS kit_outbox_probe (id TEXT PRIMARY KEY, v TEXT NOT NULL)");
    const write = (d1: D1Database, rows: { id: string; v: string }[]) =>
      rows.map((r) => d1.prepare("INSERT OR REPLACE INTO kit_outbox_probe (id, v) VALUES (?, ?)").bind(r.id, r.v));
    const out = await runInDurableObject(scratch("outbox"), async (_o, s: DurableObjectState) => {
      s.storage.sql.exec(OUTBOX_TABLE);
      const outbox = new Outbox(s.storage);
      const prefix = crypto.randomUUID();
      outbox.put("probe", `${prefix}-a`, { id: `${prefix}-a`, v: "1" });
      outbox.put("probe", `${prefix}-b`, { id: `${prefix}-b`, v: "1" });
      outbox.add("probe", `${prefix}-b`, { id: `${prefix}-b`, v: "ignored" }); // add never replaces
      const source = outbox.source("probe", write);
      // The player changes "a" after the batch was built and before it lands.
      const racing = (d1: D1Database, limit: number) => {
        const pending = source(d1, limit);
        outbox.put("probe", `${prefix}-a`, { id: `${prefix}-a`, v: "2" });
        return pending;
      };
      const first = await outbox.flush(env.DB, [racing]);
      const left = outbox.count("probe");
      const second = await outbox.flush(env.DB, [source]);
      // A batch D1 refuses marks nothing.
      outbox.put("probe", `${prefix}-c`, { id: `${prefix}-c`, v: "1" });
      const refused = await outbox.flush(env.DB, [outbox.source("probe", (d1) => [d1.prepare("INSERT INTO no_such_table VALUES (1)")])]).catch((e) => String(e));
      return { prefix, first, left, second, afterRefusal: outbox.count("probe"), refused };
    });
    expect(out.first).toEqual({ rows: 2, statements: 2 });
    expect(out.left).toBe(1);
    expect(out.second).toEqual({ rows: 1, statements: 1 });
    expect(out.refused).toContain("no_such_table");
    expect(out.afterRefusal).toBe(1);
    const { results } = await env.DB.prepare("SELECT id, v FROM kit_outbox_probe WHERE id LIKE ? ORDER BY id").bind(`${out.prefix}%`).all();
    expect(results).toEqual([
      { id: `${out.prefix}-a`, v: "2" },
      { id: `${out.prefix}-b`, v: "1" },
    ]);
  });
});
