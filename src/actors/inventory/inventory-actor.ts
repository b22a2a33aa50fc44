// PlayerInventoryActor: one Durable Object per player, the seed's IInventoryIntegration.
// It hands granted rewards to the game's inventory (a signed webhook) or, with no webhook configured, keeps them in
// a built-in ledger that game servers pull. Whatever cannot be delivered lands in the player's overflow inbox.
// Every grant is keyed by its claim id, so a retried or duplicated delivery never grants twice.
// Each method reads what it needs, asks src/domain/delivery.ts what to do, persists, then flushes to D1
// (write-behind.ts).
import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../../config";
import type { InboxRow, LedgerRow } from "../../db/rewards";
import {
  INBOX_ITEM_NOT_FOUND,
  acknowledge,
  deliveryStep,
  inboxClaimRefusal,
  inboxHandOffRefusal,
  inboxStatus,
  ledgerAnswer,
  retryDelaySeconds,
  webhookAnswer,
  type DeliveryStep,
  type HandOff,
  type InboxReason,
  type Refusal,
} from "../../domain/delivery";
import { INBOX_TTL_MS, slotsFor, type ClaimReceipt, type ClaimSource } from "../../domain/rewards";
import { iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import { postSigned } from "../../lib/webhook";
import { migrate } from "../kit/migrate";
import { Schedule } from "../kit/schedule";
import { playerRows } from "../kit/player-data";
import { INVENTORY_PLAYER_TABLES } from "./privacy";
import type { PlayerDataOp, PlayerDataPart } from "../contracts";
import type { DeliveryOutcome, Grant, InboxItemView, InventoryAck, InventoryPage, PlayerInventoryActorRpc } from "../contracts";
import { INVENTORY_SCHEMA } from "./schema";
import { FLUSH_RETRY, InventoryWriteBehind, type InventoryScheduleKind } from "./write-behind";

type ClaimedInboxItem = { item: InboxItemView; delivered: boolean };
/** What is handed over: a grant, or an inbox item being claimed (it has no receipt of its own to send). */
type HandOffGrant = Omit<Grant, "source" | "receipt"> & { receipt: ClaimReceipt | null };

const RETRYING: DeliveryOutcome = { outcome: "retrying", via: "webhook" };
const refuse = (r: Refusal, details?: unknown) => fail(r.status, r.code, r.message, details);

export class PlayerInventoryActor extends DurableObject<Env> implements PlayerInventoryActorRpc {
  private readonly sql: SqlStorage;
  private readonly config: Config;
  private readonly schedule: Schedule<InventoryScheduleKind>;
  private readonly writeBehind: InventoryWriteBehind;
  /**
   * Deliveries and inbox claims awaiting the webhook, by key. A second call for the same grant (the shard's drain
   * retrying a claim whose first hand-off is still in flight) joins the first instead of POSTing again.
   */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.config = readConfig(env);
    migrate(ctx.storage, INVENTORY_SCHEMA);
    this.schedule = new Schedule<InventoryScheduleKind>(ctx, () => FLUSH_RETRY);
    this.writeBehind = new InventoryWriteBehind(ctx.storage, env.DB, this.schedule);
  }

  /** The game's webhook; null means the built-in ledger. */
  private get webhookUrl(): string | null {
    return this.config.inventoryWebhookUrl;
  }

  private get via(): DeliveryOutcome["via"] {
    return this.webhookUrl ? "webhook" : "ledger";
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
    const answer = this.webhookUrl ? await this.postWebhook(grant, grant.source) : ledgerAnswer(this.slotsUsed(), grant.rewards, this.config.inventoryCapacitySlots);
    const step = deliveryStep(answer, false);
    if (step.kind === "retry") {
      // Queue first: if the send fails the caller retries deliver(), which must then find no "retrying" mark.
      await this.env.INVENTORY_QUEUE.send({ grant }, { delaySeconds: retryDelaySeconds(1) });
      this.setOutcome(grant.claimId, RETRYING);
      return RETRYING;
    }
    return this.settle(grant, step);
  }

  /** A queued retry of a webhook delivery. On the last attempt a grant that still cannot go out goes to the inbox. */
  async retryDelivery(grant: Grant, finalAttempt: boolean): Promise<DeliveryOutcome> {
    return this.once(`grant:${grant.claimId}`, () => this.retryOnce(grant, finalAttempt));
  }

  private async retryOnce(grant: Grant, finalAttempt: boolean): Promise<DeliveryOutcome> {
    const done = this.outcomeOf(grant.claimId);
    if (done && done.outcome !== "retrying") return done;
    // With the webhook since switched off there is nothing to retry against: the grant runs out its attempts.
    const answer: HandOff = this.webhookUrl ? await this.postWebhook(grant, grant.source) : "retry";
    const step = deliveryStep(answer, finalAttempt);
    if (step.kind === "retry") return RETRYING;
    return this.settle(grant, step);
  }

  /** Records a grant's final outcome (delivered, or inboxed) and brings D1 up to date. */
  private async settle(grant: Grant, step: Exclude<DeliveryStep, { kind: "retry" }>): Promise<DeliveryOutcome> {
    const now = Date.now();
    const out = step.kind === "deliver" ? this.recordDelivered(grant, now) : this.toInbox(grant, step.reason, now);
    await this.writeBehind.flushNow(now);
    return out;
  }

  // ---- inbox -----------------------------------------------------------------------------------------------------

  async inbox(now: number): Promise<InboxItemView[]> {
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
    const row = this.inboxRow(itemId);
    if (!row) return refuse(INBOX_ITEM_NOT_FOUND);
    const refused = inboxClaimRefusal(row, now);
    if (refused) return refuse(refused, { item: this.present(row, now) });

    const grant = { claimId: row.receiptId, playerId: row.playerId, eventId: row.eventId, milestoneIndex: row.milestoneIndex, rewards: JSON.parse(row.rewards) };
    const answer = this.webhookUrl
      ? await this.postWebhook({ ...grant, receipt: null }, "inbox_claim")
      : ledgerAnswer(this.slotsUsed(), grant.rewards, this.config.inventoryCapacitySlots);
    // Transient refusals are not remembered under the key: the same key may be retried once the inventory has room.
    const transient = inboxHandOffRefusal(answer);
    if (transient) return refuse(transient);

    const claimed: InboxRow = { ...row, status: "claimed", claimedAt: now };
    const result = ok({ item: this.present(claimed, now), delivered: true });
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE inbox SET row = ? WHERE item_id = ?", JSON.stringify(claimed), itemId);
      this.writeBehind.inbox(claimed);
      this.appendLedger({ ...grant, source: "inbox_claim" }, `inbox:${itemId}`, now);
      this.sql.exec("INSERT INTO idem (key, response) VALUES (?, ?)", key, JSON.stringify(result));
    });
    await this.writeBehind.flushNow(now);
    return result;
  }

  // ---- built-in ledger -------------------------------------------------------------------------------------------

  /**
   * Entries after `since`, read only: paging through the ledger never frees a slot. Freeing is the game server's
   * explicit acknowledgement (acknowledge below), so a player reading their own ledger cannot empty it.
   */
  async inventory(since: number, limit: number): Promise<InventoryPage> {
    const rows = this.sql
      .exec<{ seq: number; row: string }>("SELECT seq, row FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?", since, limit + 1)
      .toArray();
    const page = rows.slice(0, limit).map((r) => {
      const entry = JSON.parse(r.row) as LedgerRow;
      // The ledger keeps epoch ms; the API speaks ISO 8601 like everywhere else. The cursor stays a number.
      return { cursor: r.seq, ...entry, rewards: JSON.parse(entry.rewards), at: iso(entry.at) };
    });
    return {
      entries: page,
      nextCursor: page.length ? page[page.length - 1].cursor : since,
      hasMore: rows.length > limit,
      acknowledged: this.ackCursor(),
      slotsUsed: this.slotsUsed(),
      capacity: this.config.inventoryCapacitySlots,
    };
  }

  /** A game server took every entry up to `upTo` into the game: their slots are freed. Never moves back. */
  async acknowledge(upTo: number): Promise<InventoryAck> {
    const newest = this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM ledger").one().n ?? 0;
    const acked = this.ackCursor();
    const read = acknowledge(upTo, newest, acked);
    if (read.acked !== acked) this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('ack', ?)", String(read.acked));
    return { acknowledged: read.acked, slotsUsed: this.slotsUsed(), capacity: this.config.inventoryCapacitySlots };
  }

  /** The alarm runs the schedule; its one kind of row is the D1 flush retry. */
  /** Privacy: everything this object holds for its player, or its erasure. */
  async playerData(playerId: string, op: PlayerDataOp): Promise<PlayerDataPart> {
    return playerRows(this.ctx.storage, INVENTORY_PLAYER_TABLES, playerId, op);
  }

  override async alarm(): Promise<void> {
    await this.schedule.tick(Date.now(), () => this.writeBehind.drain());
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

  private recordDelivered(grant: Grant, now: number): DeliveryOutcome {
    const out: DeliveryOutcome = { outcome: "delivered", via: this.via };
    this.ctx.storage.transactionSync(() => {
      this.appendLedger(grant, `grant:${grant.claimId}`, now);
      this.setOutcome(grant.claimId, out);
    });
    return out;
  }

  /** A ledger entry, queued for D1 only if it is new (an entry id is written once). */
  private appendLedger(g: Omit<Grant, "receipt" | "source"> & { source: ClaimSource }, ledgerId: string, at: number) {
    const row: LedgerRow = {
      ledgerId,
      playerId: g.playerId,
      eventId: g.eventId,
      milestoneIndex: g.milestoneIndex,
      source: g.source,
      receiptId: g.claimId,
      rewards: JSON.stringify(g.rewards),
      deliveredVia: this.via,
      at,
    };
    const written = this.sql.exec("INSERT OR IGNORE INTO ledger (ledger_id, row, slots) VALUES (?, ?, ?)", ledgerId, JSON.stringify(row), slotsFor(g.rewards)).rowsWritten;
    if (written > 0) this.writeBehind.ledger(row);
  }

  private toInbox(grant: Grant, reason: InboxReason, now: number): DeliveryOutcome {
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
    const out: DeliveryOutcome = { outcome: "inbox", via: this.via, itemId };
    this.ctx.storage.transactionSync(() => {
      const written = this.sql.exec("INSERT OR IGNORE INTO inbox (item_id, row) VALUES (?, ?)", itemId, JSON.stringify(row)).rowsWritten;
      if (written > 0) this.writeBehind.inbox(row);
      this.setOutcome(grant.claimId, out);
    });
    return out;
  }

  private inboxRows(): InboxRow[] {
    return this.sql.exec<{ row: string }>("SELECT row FROM inbox ORDER BY item_id").toArray().map((r) => JSON.parse(r.row));
  }

  private inboxRow(itemId: string): InboxRow | null {
    const r = this.sql.exec<{ row: string }>("SELECT row FROM inbox WHERE item_id = ?", itemId).toArray()[0];
    return r ? JSON.parse(r.row) : null;
  }

  private present(r: InboxRow, now: number): InboxItemView {
    return {
      itemId: r.itemId,
      eventId: r.eventId,
      milestoneIndex: r.milestoneIndex,
      receiptId: r.receiptId,
      source: r.source,
      reason: r.reason,
      status: inboxStatus(r, now),
      rewards: JSON.parse(r.rewards),
      arrivedAt: iso(r.arrivedAt),
      expiresAt: iso(r.expiresAt),
      claimedAt: r.claimedAt ? iso(r.claimedAt) : null,
    };
  }

  /** POSTs one grant to the game's inventory, signed per Standard Webhooks, with the claim id as webhook-id. */
  private async postWebhook(grant: HandOffGrant, source: ClaimSource): Promise<HandOff> {
    const key = source === "inbox_claim" ? `inbox:${grant.claimId}` : grant.claimId;
    return webhookAnswer(await postSigned(this.webhookUrl!, { ...grant, source }, this.config.inventoryWebhookSecret, key));
  }
}
