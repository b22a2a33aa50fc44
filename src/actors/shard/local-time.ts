// A local-time event on one shard (domain/local-time.ts): each player's progress is accepted only inside their own
// zone's window, and the zone each player came with is kept, so the event object's waves (its ("wave", …) rows) can ask
// this shard to tell exactly the players whose window starts or ends at the wave's instant. The first request their
// window accepts fixes the zone for the event: later requests are judged by it whatever their token says. A player
// whose token has no tz claim is in the zone their profile holds (zoned()), else DEFAULT_PLAYER_TIME_ZONE.
import { notificationStatements } from "../../db/notifications";
import { profileTimeZone } from "../../db/profiles";
import { describeWindow, isEmpty, isKnownZone, playerWindow, stillTimely, wavePushAt, windowView, type Span } from "../../domain/local-time";
import type { Player } from "../../domain/model";
import { notificationFrame, notificationRow, notificationText, type Notice } from "../../domain/notifications";
import { progressGate, type EventInfo } from "../../domain/progress";
import { iso } from "../../domain/time";
import { fail } from "../../lib/result";
import type { WaveCall, WaveTarget } from "../contracts";
import type { ShardLive } from "./live";
import type { ShardPlayers } from "./players";
import type { ShardRewards } from "./rewards";

/** Without a zone (a caller built outside the token path), the same fallback as the token's. */
const zoneOf = (player: Player, fallback: string) => player.tz ?? fallback;

export class ShardLocalTime {
  /** player → zone (and whether it is fixed), as stored; read once, then kept in step with every write. */
  private zones: Map<string, { tz: string; fixed: boolean }> | null = null;

  /** player → the zone their profile held when first asked (null: none), for players whose token has no tz claim. */
  private profileZones = new Map<string, string | null>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly live: ShardLive,
    private readonly rewards: ShardRewards,
    private readonly players: Pick<ShardPlayers, "unlocked">,
    private readonly fallbackZone: string,
  ) {}

  /**
   * The player as a local-time event judges them: a token's tz claim stands; without one, the zone recorded here for
   * them, else their profile's (one D1 read by primary key, once per player while this shard lives), else the
   * fallback they came with. Called before gate() only for local-time events, so no other event pays for it.
   */
  async zoned(player: Player): Promise<Player> {
    if (player.tzClaimed) return player;
    const kept = this.all().get(player.playerId);
    if (kept) return { ...player, tz: kept.tz };
    let zone = this.profileZones.get(player.playerId);
    if (zone === undefined) {
      zone = await profileTimeZone(this.env.DB, player.playerId);
      // Stored zones were checked when posted; one this runtime no longer knows falls back instead of failing.
      if (zone !== null && !isKnownZone(zone)) zone = null;
      this.profileZones.set(player.playerId, zone);
    }
    return zone === null ? player : { ...player, tz: zone };
  }

  /**
   * Records the player's zone and says whether their clock lets them make progress now: null, or a 409 naming their
   * window. The caller refuses a state that is not active; only a request it will accept (window open, event active)
   * fixes the zone.
   */
  gate(info: EventInfo, player: Player, now: number) {
    if (!info.localTime) return null;
    const kept = this.all().get(player.playerId);
    const zone = kept?.fixed ? kept.tz : zoneOf(player, this.fallbackZone);
    const w = this.windowOf(info, zone);
    const open = now >= w.start && now < w.end;
    if (!kept?.fixed) this.record(player.playerId, zone, open && progressGate(info, now).open);
    if (open) return null;
    const outside = w;
    const window = describeWindow(info.localTime, zone, outside);
    const when = outside.end <= outside.start ? "does not exist in your time zone (a clock change skips it)" : now < outside.start ? `opens at ${window.start}` : `closed at ${window.end}`;
    return fail(409, "outside_local_window", `this event runs from ${info.localTime.start} to ${info.localTime.end} in your time zone (${zone}); your window ${when}`, { window });
  }

  /** The zone the event fixed for this player (their first accepted request), or null while it is not fixed. */
  fixedZone(playerId: string): string | null {
    const kept = this.all().get(playerId);
    return kept?.fixed ? kept.tz : null;
  }

  /** The player's own window for a socket's snapshot: in their fixed zone, else the one they connect with. */
  windowFor(info: EventInfo, player: Player, now: number) {
    if (!info.localTime) return undefined;
    return windowView(info.localTime, this.fixedZone(player.playerId) ?? zoneOf(player, this.fallbackZone), { start: info.startTime, end: info.endTime }, now);
  }

  /** A socket that opens is a player the waves should reach, whatever the event's state. */
  seen(info: EventInfo | null, player: Player) {
    if (info?.localTime && !this.all().get(player.playerId)?.fixed) this.record(player.playerId, zoneOf(player, this.fallbackZone), false);
  }

  /**
   * One wave on this shard: the players whose window starts (or ends) at `call.at` get a live frame now (and, for an
   * expiration warning, a feed row of their own). Expiration warnings go only to those with unclaimed rewards, as for
   * any event, and are the only wave pushed per player: the answer lists them with the instant their push may go out
   * (quiet hours defer push only). Rows have fixed ids: a retried wave writes nothing twice.
   */
  async wave(info: EventInfo, call: WaveCall, now: number): Promise<WaveTarget[]> {
    const lt = info.localTime;
    if (!lt) return [];
    // Read afresh: a privacy erasure deletes rows behind this cache's back.
    this.zones = null;
    this.profileZones.clear();
    const envelope = { start: info.startTime, end: info.endTime };
    // zone → its window when the wave speaks to it now, else null.
    const windowOf = new Map<string, Span | null>();
    const members = new Map<string, string>();
    for (const [playerId, { tz: zone }] of this.all()) {
      if (!windowOf.has(zone)) {
        // Clipped to the envelope: a window empty there (closed before a late create, or skipped by a gap) has no wave;
        // nor has one the wave comes too late for (a start fired after the window closed).
        const w = playerWindow(lt, zone, envelope);
        windowOf.set(zone, !isEmpty(w) && w[call.edge] === call.at && stillTimely(call.type, w, now) ? w : null);
      }
      if (windowOf.get(zone)) members.set(playerId, zone);
    }
    if (!members.size) return [];
    const base = `${info.eventId}:${call.type}@${iso(call.at)}`;
    let notices: Notice[];
    if (call.type === "expiration_warning") {
      // Streamed, as for an event-wide warning: no copy of every player's milestones per wave.
      const unlocked = (function* (all: Iterable<[string, number[]]>) {
        for (const entry of all) if (members.has(entry[0])) yield entry;
      })(this.players.unlocked());
      notices = this.rewards.unclaimedNotices(info, unlocked, "expiration_warning", { eventName: info.name, round: 0, leftMs: call.leftMs }, now).map(({ notice }) => ({ ...notice, notificationId: `${base}:${notice.playerId}` }));
    } else {
      // The feed row is the event's broadcast for the wave (event/waves.ts); the frame carries its id.
      const text = notificationText(call.type, info.name, { leftMs: call.leftMs });
      notices = [...members.keys()].map((playerId) => ({ notificationId: base, type: call.type, eventId: info.eventId, playerId, ...text }));
    }
    if (call.feed && notices.length) {
      if (call.type === "expiration_warning") await this.env.DB.batch(notificationStatements(this.env.DB, notices.map((n) => notificationRow(n, now))));
      for (const n of notices) this.live.broadcast(notificationFrame(n, now), n.playerId!);
    }
    // Preview, start and ending soon are pushed per zone group as topic pushes (event/waves.ts): only the expiration
    // warning, which only players with unclaimed rewards get, is pushed per player.
    if (call.type !== "expiration_warning") return [];
    return notices.flatMap((n) => {
      const zone = members.get(n.playerId!)!;
      const pushAt = wavePushAt(lt, zone, call.type, call.firedAt, envelope, windowOf.get(zone)!);
      if (pushAt === null) return [];
      if (pushAt === call.firedAt) return [{ playerId: n.playerId!, zone, pushAt, title: n.title, body: n.body }];
      // Deferred by quiet hours: the time left is counted from when the push goes out.
      return [{ playerId: n.playerId!, zone, pushAt, ...notificationText(call.type, info.name, { leftMs: Math.max(0, call.at - pushAt) }) }];
    });
  }

  /** The hot path's window: two zone conversions once per (event copy, zone), then a map read. */
  private windows = new WeakMap<EventInfo, Map<string, Span>>();
  private windowOf(info: EventInfo, zone: string): Span {
    let byZone = this.windows.get(info);
    if (!byZone) this.windows.set(info, (byZone = new Map()));
    let w = byZone.get(zone);
    if (!w) byZone.set(zone, (w = playerWindow(info.localTime!, zone, { start: info.startTime, end: info.endTime })));
    return w;
  }

  private all(): Map<string, { tz: string; fixed: boolean }> {
    if (!this.zones) this.zones = new Map(this.sql.exec<{ player_id: string; tz: string; fixed: number }>("SELECT player_id, tz, fixed FROM player_zones").toArray().map((r) => [r.player_id, { tz: r.tz, fixed: r.fixed === 1 }]));
    return this.zones;
  }

  /** A write only when the zone is new or changed, or becomes fixed (until then, a player who travels moves zones). */
  private record(playerId: string, zone: string, fixed: boolean) {
    const zones = this.all();
    const kept = zones.get(playerId);
    if (kept?.tz === zone && kept.fixed === fixed) return;
    this.sql.exec("INSERT OR REPLACE INTO player_zones (player_id, tz, fixed) VALUES (?, ?, ?)", playerId, zone, fixed ? 1 : 0);
    zones.set(playerId, { tz: zone, fixed });
  }
}
