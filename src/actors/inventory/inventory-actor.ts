// PlayerInventoryActor: one Durable Object per player, the seed's IInventoryIntegration.
// It hands granted rewards to the game's inventory (a signed webhook) or, with no webhook configured, keeps them in
// a built-in ledger that game servers pull. Whatever cannot be delivered lands in the player's overflow inbox.
// Every grant is keyed by its claim id, so a retried or duplicated delivery never grants twice.
import { DurableObject } from "cloudflare:workers";
import { inboxStatements, ledgerStatements, type InboxRow, type LedgerRow } from "../../db/rewards";
import { INBOX_TTL_MS, slotsFor, type ClaimReceipt, type ClaimSource } from "../../domain/rewards";
import type { RewardData } from "../../domain/model";
import { fail, ok, type Result } from "../../lib/result";
import { postSigned } from "../../lib/webhook";
import { readConfig } from "../../config";

import type { DeliveryOutcome, Grant, InboxItemView, PlayerInventoryActorRpc } from "../contracts";

type ClaimedInboxItem = { item: InboxItemView; delivered: boolean };
type WebhookAnswer = "delivered" | "full" | "retry";

export const MAX_DELIVERY_ATTEMPTS = 5;
export const retryDelaySeconds = (attempt: number) => Math.min(30 * 2 ** Math.max(0, attempt - 1), 3600);

export class PlayerInventoryActor extends DurableObject<Env> implements PlayerInventoryActorRpc {
  private readonly sql: SqlStorage;
  /**
   * Deliveries and inbox claims awaiting the webhook, by key. A second call for the same grant (the shard's drain
   * retrying a claim whose first hand-off is still in flight) joins the first instead of POSTing again.
   */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, ledger_id TEXT UNIQUE NOT NULL, row TEXT NOT NULL,
        slots INTEGER NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS inbox (item_id TEXT PRIMARY KEY, row TEXT NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS deliveries (claim_id TEXT PRIMARY KEY, outcome TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, response TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `);
  }

  private get webhookUrl(): string | null {
    const url = (this.env as unknown as Record<string, string | undefined>).INVENTORY_WEBHOOK_URL;
    return url && url.trim() ? url.trim() : null;
  }

  // ---- delivery --------------------------------------------------------------------------------------------------

  /** First delivery of a grant, from a claim or an auto-claim. */
  async deliver(grant: Grant): Promise<DeliveryOutcome> {
    return this.once(`grant:${grant.claimId}`, () => this.deliverOnce(grant));
  }

  private async once<T>(key: string, run: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<T>;
    const p = run().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async deliverOnce(grant: Grant): Promise<DeliveryOutcome> {
    const done = this.outcomeOf(grant.claimId);
    if (done) return done;
    if (!this.webhookUrl) {
      const fits = this.slotsUsed() + slotsFor(grant.rewards) <= readConfig(this.env).inventoryCapacitySlots;
      const out = fits ? this.recordDelivered(grant, grant.source, "ledger", `grant:${grant.claimId}`) : this.toInbox(grant, "inventory_full");
      await this.flush();
      return out;
    }
    const answer = await this.postWebhook(grant, grant.source);
    if (answer === "retry") {
      // Queue first: if the send fails the caller retries deliver(), which must then find no "retrying" mark.
      await this.env.INVENTORY_QUEUE.send({ grant }, { delaySeconds: retryDelaySeconds(1) });
      this.setOutcome(grant.claimId, { outcome: "retrying", via: "webhook" });
      return { outcome: "retrying", via: "webhook" };
    }
    const out = answer === "delivered" ? this.recordDelivered(grant, grant.source, "webhook", `grant:${grant.claimId}`) : this.toInbox(grant, "inventory_full");
    await this.flush();
    return out;
  }

  /** A queued retry of a webhook delivery. On the last attempt a grant that still cannot go out goes to the inbox. */
  async retryDelivery(grant: Grant, finalAttempt: boolean): Promise<DeliveryOutcome> {
    return this.once(`grant:${grant.claimId}`, () => this.retryOnce(grant, finalAttempt));
  }

  private async retryOnce(grant: Grant, finalAttempt: boolean): Promise<DeliveryOutcome> {
    const done = this.outcomeOf(grant.claimId);
    if (done && done.outcome !== "retrying") return done;
    const answer = this.webhookUrl ? await this.postWebhook(grant, grant.source) : "retry";
    let out: DeliveryOutcome;
    if (answer === "delivered") out = this.recordDelivered(grant, grant.source, "webhook", `grant:${grant.claimId}`);
    else if (answer === "full") out = this.toInbox(grant, "inventory_full");
    else if (finalAttempt) out = this.toInbox(grant, "delivery_failed");
    else return { outcome: "retrying", via: "webhook" };
    await this.flush();
    return out;
  }

  // ---- inbox -----------------------------------------------------------------------------------------------------

  async inbox(now: number) {
    return this.inboxRows().map((r) => this.present(r, now));
  }

  async claimInbox(itemId: string, key: string, now: number): Promise<Result<ClaimedInboxItem>> {
    // One claim of an item at a time; a racing one then sees the outcome (replay for its key, or already claimed).
    for (let running = this.inFlight.get(`inbox:${itemId}`); running; running = this.inFlight.get(`inbox:${itemId}`)) {
      await running.catch(() => undefined);
    }
    return this.once(`inbox:${itemId}`, () => this.claimInboxOnce(itemId, key, now));
  }

  private async claimInboxOnce(itemId: string, key: string, now: number): Promise<Result<ClaimedInboxItem>> {
    const replay = this.sql.exec<{ response: string }>("SELECT response FROM idem WHERE key = ?", key).toArray()[0];
    if (replay) return JSON.parse(replay.response);
    const row = this.inboxRows().find((r) => r.itemId === itemId);
    if (!row) return fail(404, "inbox_item_not_found", "no such inbox item");
    if (row.status === "claimed") return fail(409, "already_claimed", "this inbox item was already claimed", { item: this.present(row, now) });
    if (now > row.expiresAt) return fail(410, "inbox_item_expired", "this inbox item expired 30 days after it arrived", { item: this.present(row, now) });

    const grant = { claimId: row.receiptId, playerId: row.playerId, eventId: row.eventId, milestoneIndex: row.milestoneIndex, rewards: JSON.parse(row.rewards) };
    let answer: WebhookAnswer;
    if (this.webhookUrl) answer = await this.postWebhook({ ...grant, receipt: null }, "inbox_claim");
    else answer = this.slotsUsed() + slotsFor(grant.rewards) <= readConfig(this.env).inventoryCapacitySlots ? "delivered" : "full";
    // Transient refusals are not remembered under the key: the same key may be retried once the inventory has room.
    if (answer === "full") return fail(409, "inventory_full", "the inventory is full; the reward stays in the inbox");
    if (answer === "retry") return fail(503, "inventory_unavailable", "the inventory service did not answer; the reward stays in the inbox");

    const claimed: InboxRow = { ...row, status: "claimed", claimedAt: now };
    let result!: Result<ClaimedInboxItem>;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE inbox SET row = ?, projected = 0 WHERE item_id = ?", JSON.stringify(claimed), itemId);
      this.appendLedger({ ...grant, source: "inbox_claim" }, this.webhookUrl ? "webhook" : "ledger", `inbox:${itemId}`, now);
      result = ok({ item: this.present(claimed, now), delivered: true });
      this.sql.exec("INSERT INTO idem (key, response) VALUES (?, ?)", key, JSON.stringify(result));
    });
    await this.flush();
    return result;
  }

  // ---- built-in ledger -------------------------------------------------------------------------------------------

  /**
   * Entries after `since`. Reading with `since = N` acknowledges everything up to N as taken into the game, which
   * frees those slots: that is how a game server "empties" the built-in inventory.
   */
  async inventory(since: number, limit: number) {
    // A cursor past the newest entry would acknowledge entries that do not exist yet and switch capacity off.
    const newest = this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM ledger").one().n ?? 0;
    since = Math.min(since, newest);
    if (since > this.ackCursor()) this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('ack', ?)", String(since));
    const rows = this.sql
      .exec<{ seq: number; row: string }>("SELECT seq, row FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?", since, limit + 1)
      .toArray();
    const page = rows.slice(0, limit).map((r) => ({ cursor: r.seq, ...(JSON.parse(r.row) as LedgerRow), rewards: JSON.parse(JSON.parse(r.row).rewards) }));
    return {
      entries: page,
      nextCursor: page.length ? page[page.length - 1].cursor : since,
      hasMore: rows.length > limit,
      slotsUsed: this.slotsUsed(),
      capacity: readConfig(this.env).inventoryCapacitySlots,
    };
  }

  override async alarm(): Promise<void> {
    await this.flush();
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private ackCursor(): number {
    return Number(this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'ack'").toArray()[0]?.v ?? 0);
  }

  private slotsUsed(): number {
    if (this.webhookUrl) return 0; // the game's own inventory keeps count
    return this.sql.exec<{ n: number | null }>("SELECT SUM(slots) AS n FROM ledger WHERE seq > ?", this.ackCursor()).one().n ?? 0;
  }

  private outcomeOf(claimId: string): DeliveryOutcome | null {
    const row = this.sql.exec<{ outcome: string }>("SELECT outcome FROM deliveries WHERE claim_id = ?", claimId).toArray()[0];
    return row ? JSON.parse(row.outcome) : null;
  }

  private setOutcome(claimId: string, out: DeliveryOutcome) {
    this.sql.exec("INSERT OR REPLACE INTO deliveries (claim_id, outcome) VALUES (?, ?)", claimId, JSON.stringify(out));
  }

  private recordDelivered(grant: Grant, source: ClaimSource, via: "ledger" | "webhook", ledgerId: string): DeliveryOutcome {
    const out: DeliveryOutcome = { outcome: "delivered", via };
    this.ctx.storage.transactionSync(() => {
      this.appendLedger({ ...grant, source }, via, ledgerId, Date.now());
      this.setOutcome(grant.claimId, out);
    });
    return out;
  }

  private appendLedger(g: Omit<Grant, "receipt" | "source"> & { source: ClaimSource }, via: string, ledgerId: string, at: number) {
    const row: LedgerRow = {
      ledgerId,
      playerId: g.playerId,
      eventId: g.eventId,
      milestoneIndex: g.milestoneIndex,
      source: g.source,
      receiptId: g.claimId,
      rewards: JSON.stringify(g.rewards),
      deliveredVia: via,
      at,
    };
    this.sql.exec("INSERT OR IGNORE INTO ledger (ledger_id, row, slots) VALUES (?, ?, ?)", ledgerId, JSON.stringify(row), slotsFor(g.rewards));
  }

  private toInbox(grant: Grant, reason: string): DeliveryOutcome {
    const now = Date.now();
    const itemId = `inb_${grant.claimId}`;
    const row: InboxRow = {
      itemId,
      playerId: grant.playerId,
      eventId: grant.eventId,
      milestoneIndex: grant.milestoneIndex,
      receiptId: grant.claimId,
      rewards: JSON.stringify(grant.rewards),
      source: grant.source,
      reason,
      status: "pending",
      arrivedAt: now,
      expiresAt: now + INBOX_TTL_MS,
      claimedAt: null,
    };
    const out: DeliveryOutcome = { outcome: "inbox", via: this.webhookUrl ? "webhook" : "ledger", itemId };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT OR IGNORE INTO inbox (item_id, row) VALUES (?, ?)", itemId, JSON.stringify(row));
      this.setOutcome(grant.claimId, out);
    });
    return out;
  }

  private inboxRows(): InboxRow[] {
    return this.sql.exec<{ row: string }>("SELECT row FROM inbox ORDER BY item_id").toArray().map((r) => JSON.parse(r.row));
  }

  private present(r: InboxRow, now: number) {
    const status = r.status === "pending" && now > r.expiresAt ? "expired" : r.status;
    return {
      itemId: r.itemId,
      eventId: r.eventId,
      milestoneIndex: r.milestoneIndex,
      receiptId: r.receiptId,
      source: r.source,
      reason: r.reason,
      status,
      rewards: JSON.parse(r.rewards),
      arrivedAt: new Date(r.arrivedAt).toISOString(),
      expiresAt: new Date(r.expiresAt).toISOString(),
      claimedAt: r.claimedAt ? new Date(r.claimedAt).toISOString() : null,
    };
  }

  /** POSTs one grant to the game's inventory, HMAC-signed, with the claim id as the idempotency key. */
  private async postWebhook(grant: Omit<Grant, "source" | "receipt"> & { receipt: ClaimReceipt | null }, source: ClaimSource): Promise<WebhookAnswer> {
    const secret = (this.env as unknown as Record<string, string | undefined>).INVENTORY_WEBHOOK_SECRET ?? this.env.REWARD_SIGNING_SECRET;
    const key = source === "inbox_claim" ? `inbox:${grant.claimId}` : grant.claimId;
    const status = await postSigned(this.webhookUrl!, { ...grant, source }, secret, key);
    if (status !== null && status >= 200 && status < 300) return "delivered";
    if (status === 409 || status === 507) return "full";
    return "retry";
  }

  /** Writes unprojected ledger and inbox rows to D1; on failure the alarm tries again, nothing is dropped. */
  private async flush() {
    const ledger = this.sql.exec<{ ledger_id: string; row: string }>("SELECT ledger_id, row FROM ledger WHERE projected = 0").toArray();
    const inbox = this.sql.exec<{ item_id: string; row: string }>("SELECT item_id, row FROM inbox WHERE projected = 0").toArray();
    if (!ledger.length && !inbox.length) return;
    try {
      const d1 = this.env.DB;
      await d1.batch([...ledgerStatements(d1, ledger.map((r) => JSON.parse(r.row))), ...inboxStatements(d1, inbox.map((r) => JSON.parse(r.row)))]);
      this.ctx.storage.transactionSync(() => {
        for (const r of ledger) this.sql.exec("UPDATE ledger SET projected = 1 WHERE ledger_id = ?", r.ledger_id);
        for (const r of inbox) this.sql.exec("UPDATE inbox SET projected = 1 WHERE item_id = ? AND row = ?", r.item_id, r.row);
      });
    } catch (err) {
      console.error(JSON.stringify({ msg: "inventory D1 flush failed", error: String(err) }));
      await this.ctx.storage.setAlarm(Date.now() + 5_000);
    }
  }
}
