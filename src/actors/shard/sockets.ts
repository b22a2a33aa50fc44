// The live channel's way into a shard. The Worker checks the player's token and forwards the WebSocket upgrade here;
// this decides whether the socket may open (the event exists and is not closed, the player is eligible), builds the
// snapshot frame it opens with, hands it to ShardLive (shard/live.ts) and books the "sockets" row that closes it when
// the token expires. Kept apart from live.ts, which knows sockets but not the event, the player's progress or clans.
import { ineligibility } from "../../domain/instance";
import { stateFrame, type ServerFrame } from "../../domain/live";
import type { Player } from "../../domain/model";
import { snapshot } from "../../domain/progress";
import type { ShardAdaptive } from "./adaptive";
import type { ShardClan } from "./clan";
import type { ShardEventCopy } from "./event-copy";
import type { ShardLive } from "./live";
import type { ShardLocalTime } from "./local-time";
import type { ShardPlayers } from "./players";

/** The "sockets" row on the shard's own schedule (the kit's Schedule): due at the next token expiry. */
export type SocketRows = { ensure(kind: "sockets", dueAt: number): void; set(kind: "sockets", dueAt: number): void };

export class ShardSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly rows: SocketRows,
    private readonly events: ShardEventCopy,
    private readonly players: ShardPlayers,
    private readonly adaptive: ShardAdaptive,
    private readonly localTime: ShardLocalTime,
    private readonly live: ShardLive,
    private readonly clan: ShardClan,
  ) {}

  /**
   * The Worker forwards a socket upgrade here after checking the token; the player, the token's expiry and the resume
   * cursor come in headers it set.
   */
  async accept(request: Request): Promise<Response> {
    let player = JSON.parse(request.headers.get("X-Live-Player") ?? "null") as Player | null;
    if (!player || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a websocket upgrade", { status: 426 });
    const now = Date.now();
    const info = await this.events.event(now);
    if (!info || info.state === "cancelled" || info.state === "archived") return Response.json({ error: { code: "event_not_found", message: "no such event" } }, { status: 404 });
    const why = ineligibility(info, player);
    if (why) return Response.json({ error: { code: "not_eligible", message: `this event ${why}` } }, { status: 403 });
    if (info.localTime) player = await this.localTime.zoned(player);
    this.localTime.seen(info, player);
    const expiresAt = headerNumber(request, "X-Live-Expires");
    const record = this.players.get(player.playerId);
    const snap = { ...stateFrame(info, "snapshot", now), localWindow: this.localTime.windowFor(info, player, now), progress: record ? ({ ...snapshot(record.state, this.adaptive.mechanics(info, player.playerId)), adjusted: this.adaptive.view(player.playerId, info) } as unknown as Record<string, unknown>) : null } as ServerFrame;
    const response = this.live.accept(player, { snapshot: snap, since: headerNumber(request, "X-Live-Since"), expiresAt, protocol: request.headers.get("X-Live-Protocol") });
    if (expiresAt !== null) this.rows.ensure("sockets", expiresAt);
    const listening = this.clan.listen(info, player);
    if (listening) this.ctx.waitUntil(listening);
    return response;
  }

  /** The "sockets" row: closes those whose token expired, and books the row again for the next expiry. */
  closeExpired(now: number) {
    const next = this.live.closeExpired(now);
    if (next !== null) this.rows.set("sockets", next);
  }
}

/** A non-negative integer header the Worker set, or null. */
function headerNumber(request: Request, name: string): number | null {
  const raw = request.headers.get(name);
  const n = raw === null ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
