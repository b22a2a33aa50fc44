// The live channel's protocol: JSON frames, validated in both directions with these schemas. The README's "Live
// channel" section documents every frame, field, error code and close code below; keep the two in step.
import { z } from "zod";
import { LocalWindow } from "./local-time";
import { ProgressUpdates } from "./model";
import { iso } from "./time";

export const LIVE_PROTOCOL = "live-events.v1";
/** Sent verbatim, this is answered by the runtime itself (auto-response), so pings never wake a hibernating shard. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

const FrameId = z.union([z.string().max(64), z.number().int()]).optional();
/**
 * Position in the shard's replay log. Every frame the shard may replay (event_state, milestone, notification) carries
 * the seq it was logged under; a snapshot carries the latest one, the cursor to reconnect from with `?since=`.
 */
const Seq = z.number().int().min(0);

export const ClientFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("progress"), id: FrameId, updates: ProgressUpdates }),
  z.strictObject({ type: z.literal("ping"), id: FrameId }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

const Json = z.record(z.string(), z.unknown());
export const STATE_CHANGES = ["snapshot", "activated", "paused", "resumed", "ending_soon", "rescheduled", "expired", "cancelled", "archived", "scheduled", "failed_activation"] as const;
export const ServerFrame = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("event_state"),
    eventId: z.string(),
    state: z.string(),
    change: z.enum(STATE_CHANGES),
    startTime: z.string(),
    endTime: z.string(),
    at: z.string(),
    seq: Seq.optional(),
    /** On a snapshot only: the player's progress as GET /progress returns it, or null if they have not joined. */
    progress: Json.nullable().optional(),
    /** On a local-time event's snapshot only: the player's own window (as GET /v1/events/:id gives it). */
    localWindow: LocalWindow.optional(),
  }),
  z.object({ type: z.literal("milestone"), eventId: z.string(), milestone: Json, seq: Seq.optional() }),
  // Adaptive difficulty lowered this player's targets (domain/adaptive.ts): what changed, and their progress after it.
  z.object({ type: z.literal("adjusted"), eventId: z.string(), adjusted: Json, progress: Json, seq: Seq.optional() }),
  z.object({
    type: z.literal("notification"),
    notificationId: z.string(),
    notificationType: z.string(),
    eventId: z.string(),
    title: z.string(),
    body: z.string(),
    display: z.enum(["popup", "banner", "feed"]),
    at: z.string(),
    seq: Seq.optional(),
  }),
  /** Sent before the snapshot when `?since=` cannot be replayed in full: refetch over HTTP what the frames carried. */
  z.object({ type: z.literal("refetch"), since: Seq, reason: z.enum(["too_old", "too_many", "unknown_cursor"]) }),
  /** The player's place on their board, when it changes (at most one a second per player). */
  z.object({ type: z.literal("rank"), eventId: z.string(), cohortId: z.string(), rank: z.number().int().min(1), score: z.number(), total: z.number().int(), at: z.string() }),
  /** The top 10 of the player's board, when it changes (at most one a second per board). */
  z.object({
    type: z.literal("leaderboard_top"),
    eventId: z.string(),
    cohortId: z.string(),
    total: z.number().int(),
    entries: z.array(z.object({ rank: z.number().int(), playerId: z.string(), score: z.number(), reachedAt: z.string() })),
    at: z.string(),
  }),
  /** The player's clan: its total, the clan milestones it unlocked since the last frame, its top contributors (≤ 1/s per clan). */
  z.object({
    type: z.literal("clan_progress"),
    eventId: z.string(),
    clanId: z.string(),
    total: z.number(),
    completion: z.number(),
    unlocked: z.array(z.number().int()),
    top: z.array(z.object({ playerId: z.string(), contribution: z.number() })),
    at: z.string(),
  }),
  z.object({ type: z.literal("ack"), id: FrameId, progress: Json }),
  z.object({ type: z.literal("error"), id: FrameId, code: z.string(), message: z.string(), details: z.unknown().optional() }),
  z.object({ type: z.literal("pong"), id: FrameId }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** Codes a shard closes a socket with (besides echoing the client's own close). */
export const CLOSE = {
  /** The client closed without a code (1005, which may not be sent back); the shard answers with a normal close. */
  normal: 1000,
  /** The socket sent more than five times its per-second frame budget in one second. */
  abuse: 1008,
  /** The token's `exp` passed: reconnect with a fresh token (and `?since=`, to miss nothing). */
  tokenExpired: 4401,
  /** The player opened more sockets than allowed on this event; the oldest is closed. */
  superseded: 4409,
  /** The event was archived or cancelled: nothing more will come; do not reconnect. */
  eventClosed: 4410,
} as const;

/** Error codes of `error` frames the channel itself sends; a progress frame's refusal carries the HTTP route's codes. */
export const FRAME_ERRORS = ["rate_limited", "frame_too_large", "invalid_json", "invalid_frame"] as const;

/** Serialises a frame after checking it against the protocol, so a server bug shows up here, not in every client. */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(ServerFrame.parse(frame));
}

/** Per-socket message budget: a fixed one-second window. Past `hardLimit` in one window the socket is closed. */
export function socketBudget(
  window: { start: number; count: number },
  now: number,
  perSecond: number,
): { window: { start: number; count: number }; verdict: "ok" | "throttle" | "close" } {
  const w = now - window.start >= 1000 ? { start: now, count: 1 } : { start: window.start, count: window.count + 1 };
  return { window: w, verdict: w.count > perSecond * 5 ? "close" : w.count > perSecond ? "throttle" : "ok" };
}

export type StateChange = Extract<ServerFrame, { type: "event_state" }>["change"];

/**
 * What a socket is told when its shard's copy of the event changes: the transition, or "rescheduled" when only the
 * window moved (an extended or shortened end, so countdowns stay true), or nothing.
 */
export function eventChange(
  before: { state: string; startTime: number; endTime: number } | null,
  after: { state: string; startTime: number; endTime: number },
): StateChange | null {
  if (!before) return null;
  if (before.state !== after.state) {
    if (after.state === "active") return before.state === "paused" ? "resumed" : "activated";
    return (STATE_CHANGES as readonly string[]).includes(after.state) ? (after.state as StateChange) : null;
  }
  return before.startTime !== after.startTime || before.endTime !== after.endTime ? "rescheduled" : null;
}

/** The frame every socket of an event gets when its state moves (or, as "snapshot", when it connects). */
export function stateFrame(e: { eventId: string; state: string; startTime: number; endTime: number }, change: StateChange, now: number): ServerFrame {
  return { type: "event_state", eventId: e.eventId, state: e.state, change, startTime: iso(e.startTime), endTime: iso(e.endTime), at: iso(now) };
}

/** States after which an event sends nothing more: its sockets are closed with CLOSE.eventClosed. */
export const isFinalState = (state: string) => state === "archived" || state === "cancelled";

/** At most this many frames are replayed to one reconnecting socket; past that it is told to refetch instead. */
export const MAX_REPLAY_FRAMES = 200;

/** What the shard's log holds: its oldest and latest seq (0 and 0 when nothing was ever logged). */
export type LogExtent = { oldest: number; latest: number };
export type ReplayPlan = { kind: "none" } | { kind: "replay" } | { kind: "refetch"; reason: "too_old" | "unknown_cursor" };

/**
 * What a socket reconnecting with `?since=<seq>` gets before its snapshot: nothing (no cursor, or nothing missed), the
 * frames it missed, or "refetch" when some of them are gone from the log (or the cursor is not one this shard gave
 * out). The caller still refetches if the replay would exceed MAX_REPLAY_FRAMES ("too_many").
 */
export function replayPlan(since: number | null, log: LogExtent): ReplayPlan {
  if (since === null || since === log.latest) return { kind: "none" };
  if (since > log.latest) return { kind: "refetch", reason: "unknown_cursor" };
  // Frames (since, oldest) were trimmed away: a partial replay would look complete, so none at all.
  if (since < log.oldest - 1) return { kind: "refetch", reason: "too_old" };
  return { kind: "replay" };
}
