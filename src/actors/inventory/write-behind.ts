// The inventory's write-behind toward D1 (reward_ledger, inbox_items). A ledger entry or inbox row is durable in the
// object's SQLite first and queued in the outbox under its topic; right after the change that made it, everything
// queued goes to D1 as one batch, so D1 is current by the time the call returns. A batch that fails is retried
// through the schedule ("flush") with backoff; nothing is dropped, and D1's writes are idempotent upserts, so a
// batch sent twice is harmless.
import { inboxStatements, ledgerStatements, type InboxRow, type LedgerRow } from "../../db/rewards";
import type { BackoffPolicy } from "../../domain/backoff";
import { MINUTE_MS, SECOND_MS } from "../../domain/time";
import { FLUSH_MAX_ROWS, Outbox, type OutboxSource } from "../kit/outbox";
import type { Schedule } from "../kit/schedule";

export type InventoryScheduleKind = "flush";

/**
 * D1 hiccups are usually over within seconds, so the first retry comes after 1 s; doubling from there, capped at
 * 5 min, so a long outage is still polled but not hammered by every player's object at once.
 */
export const FLUSH_RETRY: BackoffPolicy = { baseMs: SECOND_MS, maxMs: 5 * MINUTE_MS };

/**
 * Before the immediate flush, a flush is booked this far ahead. If the object is evicted while the batch is in
 * flight, that row still brings the queued rows to D1 instead of leaving them until the player's next delivery.
 */
const FLUSH_SAFETY_NET_MS = 5 * SECOND_MS;

export class InventoryWriteBehind {
  private readonly outbox: Outbox;
  private readonly sources: OutboxSource[];

  constructor(
    storage: DurableObjectStorage,
    private readonly d1: D1Database,
    private readonly schedule: Schedule<InventoryScheduleKind>,
  ) {
    this.outbox = new Outbox(storage);
    this.sources = [this.outbox.source("ledger", ledgerStatements), this.outbox.source("inbox", inboxStatements)];
    // Rows queued with no flush to carry them (adopted from the old `projected` flags) go out on the next alarm.
    if (this.outbox.count() > 0) this.schedule.ensure("flush", Date.now());
  }

  /** A new ledger entry; entries never change, so it is queued once. */
  ledger(row: LedgerRow): void {
    this.outbox.add("ledger", row.ledgerId, row);
  }

  /** An inbox row, new or changed (claimed). Re-putting bumps its revision, so a copy already in flight stays pending. */
  inbox(row: InboxRow): void {
    this.outbox.put("inbox", row.itemId, row);
  }

  /**
   * Sends what is queued, right after a change. While an earlier failure is backing off, the booked retry takes
   * these rows too: trying on every delivery during an outage would defeat the backoff.
   */
  async flushNow(now: number): Promise<void> {
    if (this.outbox.count() === 0) return;
    this.schedule.ensure("flush", now + FLUSH_SAFETY_NET_MS);
    const held = this.schedule.get("flush");
    if (held && held.attempt > 0 && held.dueAt > now) return;
    try {
      await this.drain();
      if (this.outbox.count() === 0) {
        // The safety net is not needed: drop its row and its alarm, or every delivery would cost an empty wake-up.
        this.schedule.cancel("flush");
        await this.schedule.arm();
      }
    } catch (err) {
      this.schedule.failed("flush", "", Date.now(), err);
      await this.schedule.arm();
    }
  }

  /** Every queued row to D1, one batch at a time; throws if D1 refuses (the schedule then backs off). */
  async drain(): Promise<void> {
    for (let more = true; more; ) more = (await this.outbox.flush(this.d1, this.sources)).rows >= FLUSH_MAX_ROWS;
  }
}
