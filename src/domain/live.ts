// The live channel's protocol: JSON frames, validated in both directions with these schemas.
import { z } from "zod";
import { ProgressUpdates } from "./model";

export const LIVE_PROTOCOL = "live-events.v1";
/** Sent verbatim, this is answered by the runtime itself (auto-response), so pings never wake a hibernating shard. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

const FrameId = z.union([z.string().max(64), z.number().int()]).optional();

export const ClientFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("progress"), id: FrameId, updates: ProgressUpdates }),
  z.strictObject({ type: z.literal("ping"), id: FrameId }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

const Json = z.record(z.string(), z.unknown());
export const ServerFrame = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("event_state"),
    eventId: z.string(),
    state: z.string(),
    change: z.enum(["snapshot", "activated", "paused", "resumed", "ending_soon", "expired", "cancelled", "archived", "scheduled", "failed_activation"]),
    startTime: z.string(),
    endTime: z.string(),
    at: z.string(),
  }),
  z.object({ type: z.literal("milestone"), eventId: z.string(), milestone: Json }),
  z.object({
    type: z.literal("notification"),
    notificationId: z.string(),
    notificationType: z.string(),
    eventId: z.string(),
    title: z.string(),
    body: z.string(),
    display: z.enum(["popup", "banner", "feed"]),
    at: z.string(),
  }),
  z.object({ type: z.literal("ack"), id: FrameId, progress: Json }),
  z.object({ type: z.literal("error"), id: FrameId, code: z.string(), message: z.string(), details: z.unknown().optional() }),
  z.object({ type: z.literal("pong"), id: FrameId }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

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

/** The frame every socket of an event gets when its state moves (or, as "snapshot", when it connects). */
export function stateFrame(e: { eventId: string; state: string; startTime: number; endTime: number }, change: StateChange, now: number): ServerFrame {
  const iso = (ms: number) => new Date(ms).toISOString();
  return { type: "event_state", eventId: e.eventId, state: e.state, change, startTime: iso(e.startTime), endTime: iso(e.endTime), at: iso(now) };
}
