// Events defined in players' local wall-clock time ("Saturday 10:00–22:00 wherever you are"). Each player's window is
// the same wall-clock reading turned into instants in their own IANA zone, by zoned.ts's one RFC 5545 rule (a time in
// the spring-forward gap moves forward by the gap; one in the fall-back overlap is the first of the two). The event's
// startTime/endTime stay what every other part of the system reads: the UTC envelope, from the earliest zone's start
// to the latest zone's end over every zone the runtime knows, computed zone by zone rather than guessed as ±14 h.
import { z } from "zod";
import { ianaName } from "./zone-names";
import { canonicalZone, parseLocal, readingReached, toInstant, toLocal } from "./zoned";

const LOCAL_MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

const localMinute = z
  .string()
  .regex(LOCAL_MINUTE, "must be a local date-time YYYY-MM-DDTHH:mm (no offset, no zone)")
  .refine((v) => parseLocal(v) !== null, "is not a date that exists");

/** Push (never the in-game feed) is held back while a player's clock reads inside [start, end), which may wrap midnight. */
export const QuietHours = z
  .strictObject({
    start: z.string().regex(CLOCK, "must be a wall-clock time HH:mm (00:00–23:59)"),
    end: z.string().regex(CLOCK, "must be a wall-clock time HH:mm (00:00–23:59)"),
  })
  .refine((v) => v.start !== v.end, { path: ["end"], message: "must differ from start" })
  .meta({ id: "QuietHours" });
export type QuietHours = z.infer<typeof QuietHours>;

export const LocalTime = z
  .strictObject({
    start: localMinute,
    end: localMinute,
    quietHours: QuietHours.optional(),
  })
  .refine((v) => !(LOCAL_MINUTE.test(v.start) && LOCAL_MINUTE.test(v.end)) || v.end > v.start, { path: ["end"], message: "must be after start" })
  .meta({ id: "LocalTime" });
export type LocalTime = z.infer<typeof LocalTime>;

export type Span = { start: number; end: number };
/** Zones whose windows begin (or end) at one instant: one activation (or ending) wave, one notification wave. */
export type Wave = { at: number; zones: string[] };

const runtimeZones = () => ["UTC", ...Intl.supportedValuesOf("timeZone")];

/**
 * Every zone the runtime's tz data lists, plus UTC (which Intl leaves out as an alias), under its current IANA name
 * (zone-names.ts: Asia/Kolkata, not ICU's Asia/Calcutta): the names waves carry and topic pushes go to.
 */
export function knownZones(): string[] {
  return runtimeZones().map(ianaName);
}

/** The player's zone as the token or setting names it, canonical; null when it is not an IANA zone. */
export const playerZone = (tz: string): string | null => canonicalZone(tz);

/** A zone by any name, as waves name it (the current IANA name); null when it is not a zone. */
export const waveZoneName = (tz: string): string | null => {
  const canonical = canonicalZone(tz);
  return canonical === null ? null : ianaName(canonical);
};

let known: Set<string> | null = null;
/**
 * A zone a player may be in: one the envelope and the waves were computed over, by any name the runtime maps to it
 * (Asia/Kolkata → Asia/Calcutta, US/Eastern → America/New_York). Etc/GMT+12 and the like, valid to Intl but absent
 * from its list, are not: their windows could fall outside the envelope and no wave would name them.
 */
export function isKnownZone(tz: string): boolean {
  const canonical = canonicalZone(tz);
  known ??= new Set(runtimeZones());
  return canonical !== null && known.has(canonical);
}

/**
 * The window in one zone, per RFC 5545 for each end separately. A window the spring-forward gap swallows whole (02:30–
 * 03:30 on the night New York skips 02:00–03:00: both ends read as 03:30) is empty there: `end <= start`.
 */
export function zoneWindow(lt: Pick<LocalTime, "start" | "end">, zone: string): Span {
  return { start: toInstant(lt.start, zone), end: toInstant(lt.end, zone) };
}

export const isEmpty = (w: Span) => w.end <= w.start;

/** Earliest start → latest end over every zone whose window is not empty; null when it is empty everywhere. */
export function envelope(lt: Pick<LocalTime, "start" | "end">, zones: readonly string[] = knownZones()): Span | null {
  let start = Infinity;
  let end = -Infinity;
  for (const zone of zones) {
    const w = zoneWindow(lt, zone);
    if (isEmpty(w)) continue;
    start = Math.min(start, w.start);
    end = Math.max(end, w.end);
  }
  return start < end ? { start, end } : null;
}

/** The player's window: their zone's, within the envelope (the event is active only inside it; a late create clips it). */
export function playerWindow(lt: Pick<LocalTime, "start" | "end">, zone: string, env: Span): Span {
  const w = zoneWindow(lt, zone);
  return { start: Math.max(w.start, env.start), end: Math.min(w.end, env.end) };
}

/** Zones grouped by the instant their window starts (or ends), earliest first; zones with an empty window have none. */
export function waves(lt: Pick<LocalTime, "start" | "end">, edge: "start" | "end", zones: readonly string[] = knownZones()): Wave[] {
  const byAt = new Map<number, string[]>();
  for (const zone of zones) {
    const w = zoneWindow(lt, zone);
    if (isEmpty(w)) continue;
    const at = w[edge];
    const list = byAt.get(at);
    if (list) list.push(zone);
    else byAt.set(at, [zone]);
  }
  return [...byAt].sort((a, b) => a[0] - b[0]).map(([at, zs]) => ({ at, zones: zs }));
}

/**
 * The zones one wave speaks to: those whose window, clipped to the envelope, starts (or ends) at `at`. The event's
 * broadcast feed row for the wave carries them, so a player the shards have never seen still finds it in their feed.
 */
export function waveZones(lt: Pick<LocalTime, "start" | "end">, edge: "start" | "end", at: number, env: Span, zones: readonly string[] = knownZones()): string[] {
  return zones.filter((zone) => {
    const w = playerWindow(lt, zone, env);
    return !isEmpty(w) && w[edge] === at;
  });
}

/** Null when the player may make progress now; otherwise their window, to say when it is (or was) open. */
export function outsideWindow(lt: Pick<LocalTime, "start" | "end">, zone: string, env: Span, now: number): Span | null {
  const w = playerWindow(lt, zone, env);
  return now >= w.start && now < w.end ? null : w;
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * When a push due at `at` may go out in `zone`: `at` itself outside quiet hours, else the first instant after it whose
 * wall clock is outside them: the next local `end`, its second occurrence when a fall-back has already passed the
 * first, or the clock change itself when `end` falls in a spring-forward gap.
 */
export function pushInstant(at: number, zone: string, quiet: QuietHours | undefined): number {
  if (!quiet) return at;
  const local = toLocal(at, zone);
  const minute = minutesOf(local.slice(11, 16));
  const from = minutesOf(quiet.start);
  const to = minutesOf(quiet.end);
  const inside = from < to ? minute >= from && minute < to : minute >= from || minute < to;
  if (!inside) return at;
  // The quiet period ends today if its end is still ahead on this wall clock, else tomorrow.
  const day = minute < to ? local.slice(0, 10) : nextDay(local.slice(0, 10));
  return Math.max(at, readingReached(`${day}T${quiet.end}:00`, zone, at));
}

/**
 * Whether a wave still tells a zone something at `at`: a preview only before the zone's window opens, the others
 * (start, ending soon, expiration warning) only before it closes. A start wave fired late (after a pause, or an alarm
 * that came late) must not tell a zone whose window has closed that the event "has started".
 */
export const stillTimely = (type: WaveType, w: Span, at: number) => at < (type === "preview" ? w.start : w.end);

/**
 * When one zone's push for a wave may go out (pushInstant), or null when it would come past the point of telling
 * (stillTimely), deferred by quiet hours or not. `w` is the zone's window, when the caller has it already.
 */
export function wavePushAt(lt: LocalTime, zone: string, type: WaveType, firedAt: number, env: Span, w: Span = playerWindow(lt, zone, env)): number | null {
  const pushAt = pushInstant(firedAt, zone, lt.quietHours);
  return stillTimely(type, w, pushAt) ? pushAt : null;
}

/** The zones among `zones` a wave of this type still tells something at `now` (stillTimely). */
export function timelyZones(lt: Pick<LocalTime, "start" | "end">, type: WaveType, zones: readonly string[], now: number, env: Span): string[] {
  return zones.filter((zone) => stillTimely(type, playerWindow(lt, zone, env), now));
}

/**
 * A broadcast wave's topic pushes: its zones grouped by the instant their push may go out, earliest first. One push
 * per group reaches every device subscribed to those zones, seen by a shard or not; a zone whose push would come too
 * late is in no group.
 */
export function wavePushGroups(lt: LocalTime, zones: readonly string[], type: WaveType, firedAt: number, env: Span): Wave[] {
  const byAt = new Map<number, string[]>();
  for (const zone of zones) {
    const at = wavePushAt(lt, zone, type, firedAt, env);
    if (at === null) continue;
    const list = byAt.get(at);
    if (list) list.push(zone);
    else byAt.set(at, [zone]);
  }
  return [...byAt].sort((a, b) => a[0] - b[0]).map(([at, zs]) => ({ at, zones: zs }));
}

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The window as ISO instants plus the wall clock it was read from, for error details and player views. */
export function describeWindow(lt: Pick<LocalTime, "start" | "end">, zone: string, w: Span) {
  return { timeZone: zone, localStart: lt.start, localEnd: lt.end, start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() };
}

/** Where one player's window stands now: not yet open, open, over, or skipped whole by a clock change in their zone. */
export const WINDOW_STATES = ["upcoming", "open", "closed", "empty"] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

const Iso = z.iso.datetime({ offset: true });
const Seconds = z.number().int().min(0);
/** The caller's own window of a local-time event, as the player views and the live snapshot carry it. */
export const LocalWindow = z
  .object({
    timeZone: z.string().meta({ description: "The zone the window is read in: the one the event fixed for this player (their first accepted request), else their token's tz, else DEFAULT_PLAYER_TIME_ZONE." }),
    pushTopic: z.string().meta({ description: "The zone name this player's wave pushes go out under (`zones` of a topic push): the current IANA name (Asia/Kolkata, Europe/Kyiv), which may differ from timeZone or from the name the device reports (Asia/Calcutta, Europe/Kiev). Subscribe the device's per-zone topic under it." }),
    localStart: z.string(),
    localEnd: z.string(),
    start: Iso,
    end: Iso,
    state: z.enum(WINDOW_STATES).meta({ description: "upcoming, open, closed, or empty (a clock change skips the whole window in this zone: start = end)." }),
    timeUntilStart: Seconds.meta({ description: "Seconds until this player's window opens (0 unless upcoming)." }),
    timeRemaining: Seconds.meta({ description: "Seconds until this player's window closes (0 once closed or empty)." }),
  })
  .meta({ id: "LocalWindow" });
export type LocalWindow = z.infer<typeof LocalWindow>;

/**
 * One player's window in their zone at `now`, clipped to the envelope, with countdowns of its own. Empty only when a
 * clock change skips it in that zone; one the envelope clips away (it closed before a late create, or after an
 * end-now) is closed, and shown as the zone's own window.
 */
export function windowView(lt: Pick<LocalTime, "start" | "end">, zone: string, env: Span, now: number): LocalWindow {
  const own = zoneWindow(lt, zone);
  const clipped = playerWindow(lt, zone, env);
  const w = isEmpty(clipped) ? own : clipped;
  const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
  const state: WindowState = isEmpty(own) ? "empty" : isEmpty(clipped) ? "closed" : now < w.start ? "upcoming" : now < w.end ? "open" : "closed";
  return {
    ...describeWindow(lt, zone, w),
    pushTopic: waveZoneName(zone) ?? zone,
    state,
    timeUntilStart: state === "upcoming" ? secs(w.start - now) : 0,
    timeRemaining: state === "upcoming" || state === "open" ? secs(w.end - now) : 0,
  };
}

// ---- waves of notifications ------------------------------------------------------------------------------------

export const WAVE_TYPES = ["preview", "start", "urgency", "expiration_warning"] as const;
export type WaveType = (typeof WAVE_TYPES)[number];
export type WaveRow = { key: string; dueAt: number; type: WaveType; edge: "start" | "end"; at: number };

/** A wave row's key names what it tells and which wave: `preview|start|<at>`. */
export const waveKey = (type: WaveType, edge: "start" | "end", at: number) => `${type}|${edge}|${at}`;
export function parseWaveKey(key: string): { type: WaveType; edge: "start" | "end"; at: number } | null {
  const [type, edge, at] = key.split("|");
  if (!WAVE_TYPES.includes(type as WaveType) || (edge !== "start" && edge !== "end") || !/^\d+$/.test(at ?? "")) return null;
  return { type: type as WaveType, edge, at: Number(at) };
}

/**
 * The wave rows a local-time event should have pending: the event-level timetable (domain/notifications.ts), read per
 * zone group. Previews (24 h before each group's start, sent late rather than never while that start is ahead) while
 * it is scheduled or active; once active, each group's start at its start (late only while one of its zones' windows
 * is still open: a resume after the group's windows closed tells them nothing), "ending soon" 2 h before its end (dropped
 * when late, as for any event) and the expiration warning 1 h before it (at most half its window; sent late). Waves
 * fall inside the envelope [startTime, endTime), which end-now may have shortened.
 */
export function wavePlan(
  e: { state: string; startTime: number; endTime: number; localTime?: Pick<LocalTime, "start" | "end"> | null },
  fired: ReadonlySet<string>,
  now: number,
  zones: readonly string[] = knownZones(),
): WaveRow[] {
  const lt = e.localTime;
  if (!lt || (e.state !== "scheduled" && e.state !== "active")) return [];
  const out: WaveRow[] = [];
  const put = (type: WaveType, edge: "start" | "end", at: number, dueAt: number) => {
    const key = waveKey(type, edge, at);
    if (!fired.has(key)) out.push({ key, dueAt, type, edge, at });
  };
  // Windows clipped to the envelope: a zone whose window had closed before a late create (or is empty) has no wave.
  // Each start wave with the latest end among its zones: once that has passed, nobody is left to tell it "has started".
  const starts = new Map<number, number>();
  // Each end wave with the latest start among its zones (the shortest window, when a clock change falls inside some
  // of them): its expiration warning is at most half of any of its players' windows early.
  const ends = new Map<number, number>();
  for (const zone of zones) {
    const w = playerWindow(lt, zone, { start: e.startTime, end: e.endTime });
    if (isEmpty(w)) continue;
    starts.set(w.start, Math.max(starts.get(w.start) ?? -Infinity, w.end));
    ends.set(w.end, Math.max(ends.get(w.end) ?? -Infinity, w.start));
  }
  for (const [at, end] of starts) {
    if (at >= e.endTime) continue;
    if (now < at) put("preview", "start", at, Math.max(at - 24 * 3_600_000, now));
    if (e.state === "active" && now < end) put("start", "start", at, Math.max(at, now));
  }
  if (e.state === "active") {
    for (const [at, start] of ends) {
      if (at <= now) continue;
      if (at - 2 * 3_600_000 >= now) put("urgency", "end", at, at - 2 * 3_600_000);
      put("expiration_warning", "end", at, Math.max(at - Math.floor(Math.min(3_600_000, (at - start) / 2)), now));
    }
  }
  return out;
}
