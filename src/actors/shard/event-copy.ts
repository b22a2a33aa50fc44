// The shard's copy of its event. The hot path must not ask the event object on every update, so the copy is loaded
// once from the object's own SQLite, then kept current by the event object's pushes; only a copy that looks stale
// (still "scheduled" past its start) is checked by asking again, at most every REFRESH_EVERY_MS. Both ways of
// learning of a newer copy end in one place (save), which also tells the sockets.
import { CLOSE, eventChange, isFinalState, stateFrame } from "../../domain/live";
import type { EventInfo } from "../../domain/progress";
import { SECOND_MS } from "../../domain/time";
import { eventActor } from "../stubs";
import type { ShardLive } from "./live";

/** A shard that believes its event is still scheduled past startTime asks the event object again, this often. */
const REFRESH_EVERY_MS = 2 * SECOND_MS;

export class ShardEventCopy {
  /** The event as this shard last heard of it: loaded once, then kept current by pushes (and, if suspect, by asking). */
  private info: EventInfo | null;
  private lastRefresh = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly address: { eventId: string; shardNo: number },
    private readonly live: ShardLive,
  ) {
    const held = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'event'").toArray()[0];
    this.info = held ? JSON.parse(held.v) : null;
  }

  /** The copy held, whatever its age (null until this shard first heard of its event). */
  get held(): EventInfo | null {
    return this.info;
  }

  /** The held event, a plain memory read, unless there is none or it is suspect (scheduled, yet past its start). */
  current(now: number): EventInfo | null {
    const info = this.info;
    if (!info) return null;
    return info.state === "scheduled" && now >= info.startTime && now - this.lastRefresh > REFRESH_EVERY_MS ? null : info;
  }

  /** The event: held, or else asked of the event object itself (which registers this shard for pushes). */
  async event(now: number): Promise<EventInfo | null> {
    const held = this.current(now);
    if (held) return held;
    this.lastRefresh = now;
    const fetched = await eventActor(this.env, this.address.eventId).attachShard(this.address.shardNo);
    // Compare with what is held now, not before the await: a push may have landed meanwhile.
    if (fetched && (!this.info || fetched.revision > this.info.revision)) this.save(fetched);
    return this.info;
  }

  /** The event object pushes every change; a copy older than the one held is ignored. */
  sync(info: EventInfo): void {
    if (this.info && this.info.revision >= info.revision) return;
    this.save(info);
  }

  /**
   * Adopts a newer copy of the event, however it arrived (pushed by the event object, or fetched because this shard
   * suspected it was stale), and tells every socket when the state moved: both paths must announce it.
   */
  private save(info: EventInfo) {
    const held = this.info;
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('event', ?)", JSON.stringify(info));
    this.info = info;
    const change = eventChange(held, info);
    if (change) this.live.broadcast(stateFrame(info, change, Date.now()));
    if (held && held.state !== info.state) {
      // Expired events keep their sockets (claims and the unclaimed-reward warnings go on for the grace period);
      // after archive or cancel nothing more will come, so they are closed, with a code that says not to reconnect.
      if (isFinalState(info.state)) this.live.closeAll(CLOSE.eventClosed, `the event is ${info.state}`);
    }
  }
}
