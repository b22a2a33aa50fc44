// The seed's CreateFromTemplate: copy the template's mechanics, apply the ops' customisation, set the timing.
import { countdown } from "./lifecycle";
import { DEFAULT_EXPECTED_PARTICIPANTS, shardCountFor } from "./sharding";
import { DAY_MS, SECOND_MS, iso } from "./time";
import { resolveBoard } from "./leaderboard";
import { envelope, windowView } from "./local-time";
import { boardIssues, clanIssues, mechanicsIssues, type CreateEventBody, type EventInstance, type EventTemplate, type Milestone, type RewardData } from "./model";

/**
 * A start this little in the past is taken as "now" (the event activates at once): a tool that computes "now + 1 s"
 * and sends it over a slow link, or from a clock a little behind, should not be refused. Documented in the README.
 */
export const START_TIME_SLACK_MS = 5 * SECOND_MS;

/** How far ahead an event may be scheduled. */
export const MAX_LEAD_DAYS = 3650;

export type InstanceProblem = { path: (string | number)[]; message: string };

/** Parses an instant from the API. `"now"` means the request's own clock, so it is never "in the past". */
export function resolveInstant(value: string, now: number): number {
  return value === "now" ? now : Date.parse(value);
}

export function windowProblems(
  startTime: number,
  endTime: number,
  now: number,
  opts: { startIsNow: boolean; maxWindowDays: number },
): InstanceProblem[] {
  const problems: InstanceProblem[] = [];
  if (!Number.isFinite(startTime)) problems.push({ path: ["startTime"], message: "is not a valid date-time" });
  if (!Number.isFinite(endTime)) problems.push({ path: ["endTime"], message: "is not a valid date-time" });
  if (problems.length) return problems;
  // Far-future typos (year 20260) would otherwise sit in the calendar forever; alarms cannot reach them anyway.
  if (startTime > now + MAX_LEAD_DAYS * DAY_MS) problems.push({ path: ["startTime"], message: `must be within ${MAX_LEAD_DAYS} days from now` });
  if (!opts.startIsNow && startTime < now - START_TIME_SLACK_MS) {
    problems.push({ path: ["startTime"], message: `must not be in the past (more than ${START_TIME_SLACK_MS / SECOND_MS} s ago; use "now" to start at once)` });
  }
  if (endTime <= startTime) problems.push({ path: ["endTime"], message: "must be after startTime" });
  else if (endTime - startTime > opts.maxWindowDays * DAY_MS) {
    problems.push({ path: ["endTime"], message: `must be at most ${opts.maxWindowDays} days after startTime` });
  }
  return problems;
}

/** Applies the per-milestone reward pool over the milestones; the pool may only name milestones that exist. */
function applyRewardPool(milestones: Milestone[], pool: CreateEventBody["rewardPool"]): { milestones: Milestone[]; problems: InstanceProblem[] } {
  const problems: InstanceProblem[] = [];
  const byIndex = new Map<number, RewardData[]>();
  pool?.forEach((entry, i) => {
    if (!milestones.some((m) => m.index === entry.milestoneIndex)) {
      problems.push({ path: ["rewardPool", i, "milestoneIndex"], message: `names milestone ${entry.milestoneIndex}, which does not exist` });
    } else if (byIndex.has(entry.milestoneIndex)) {
      problems.push({ path: ["rewardPool", i, "milestoneIndex"], message: `names milestone ${entry.milestoneIndex} twice` });
    }
    byIndex.set(entry.milestoneIndex, entry.rewards);
  });
  return { milestones: milestones.map((m) => (byIndex.has(m.index) ? { ...m, rewards: byIndex.get(m.index)! } : m)), problems };
}

export function instanceFromTemplate(
  template: EventTemplate,
  body: CreateEventBody,
  ids: { eventId: string; now: number },
  opts: { maxWindowDays: number },
): { ok: true; instance: EventInstance } | { ok: false; problems: InstanceProblem[] } {
  const { now, eventId } = ids;
  // A local-time event's startTime/endTime are its UTC envelope over every zone (domain/local-time.ts).
  const env = body.localTime ? envelope(body.localTime) : null;
  // Created once the earliest zones' windows have begun, it starts at once (as with startTime "now"): theirs run on.
  const startTime = body.localTime ? (env ? Math.max(env.start, now) : NaN) : resolveInstant(body.startTime!, now);
  const endTime = body.localTime ? (env?.end ?? NaN) : resolveInstant(body.endTime!, now);
  const problems = body.localTime
    ? env
      ? windowProblems(startTime, endTime, now, { startIsNow: true, maxWindowDays: opts.maxWindowDays }).map((p) => ({ ...p, path: ["localTime", p.path[0] === "endTime" ? "end" : "start"], message: `(the UTC envelope's ${p.path[0]}) ${p.message}` }))
      : [{ path: ["localTime"], message: "is empty in every time zone (a spring-forward gap swallows it whole)" }]
    : windowProblems(startTime, endTime, now, { startIsNow: body.startTime === "now", maxWindowDays: opts.maxWindowDays });

  const objectives = structuredClone(body.objectives ?? template.objectives);
  const pooled = applyRewardPool(structuredClone(body.milestones ?? template.milestones), body.rewardPool);
  problems.push(...pooled.problems);
  // Overrides are checked one by one by the schema; the combination with the template's half is checked here.
  for (const p of mechanicsIssues(objectives, pooled.milestones)) problems.push(p);
  const leaderboard = resolveBoard(template.leaderboard, body.leaderboard);
  if (body.leaderboard && !leaderboard) problems.push({ path: ["leaderboard", "source"], message: "is required: the template has no board to override" });
  if (leaderboard) problems.push(...boardIssues(leaderboard, objectives));
  // An event's clan definition replaces the template's whole; either is checked against the event's objectives.
  const clan = structuredClone(body.clan ?? template.clan ?? null);
  if (clan) problems.push(...clanIssues(clan, objectives));
  if (template.requiresClan && (body.eligibleClanIds?.length ?? 0) === 0) {
    problems.push({ path: ["eligibleClanIds"], message: "must list at least one clan: the template requires a clan" });
  }
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    instance: {
      eventId,
      templateId: template.templateId,
      templateVersion: template.version,
      type: template.type,
      tier: body.tier ?? template.tier,
      state: "scheduled",
      name: body.name ?? template.name,
      description: body.description ?? template.description,
      theme: { ...template.theme, ...(body.theme ?? {}) },
      layout: structuredClone(template.layout),
      objectives,
      milestones: pooled.milestones,
      rewardPool: pooled.milestones.flatMap((m) => m.rewards),
      startTime,
      endTime,
      localTime: body.localTime ?? null,
      scheduledEndTime: endTime,
      requiresLeaderboard: template.requiresLeaderboard || leaderboard !== null,
      leaderboard,
      clan,
      requiresClan: template.requiresClan,
      minimumPlayerLevel: template.minimumPlayerLevel,
      leaderboardId: body.leaderboardId ?? (template.requiresLeaderboard || leaderboard ? `lb_${eventId}` : null),
      eligibleClanIds: body.eligibleClanIds ?? [],
      participantCount: 0,
      completionCount: 0,
      activationAttempts: 0,
      shardCount:
        body.shardCount ??
        (body.expectedParticipants ? shardCountFor(body.expectedParticipants) : undefined) ??
        template.shardCount ??
        shardCountFor(template.expectedParticipants ?? DEFAULT_EXPECTED_PARTICIPANTS),
      lastError: null,
      createdAt: now,
      updatedAt: now,
    },
  };
}

/** The API view of an instance: ISO times and server-computed countdowns. */
export function renderInstance(instance: EventInstance, now: number) {
  return {
    ...instance,
    startTime: iso(instance.startTime),
    endTime: iso(instance.endTime),
    scheduledEndTime: iso(instance.scheduledEndTime),
    durationSeconds: Math.round((instance.endTime - instance.startTime) / SECOND_MS),
    createdAt: iso(instance.createdAt),
    updatedAt: iso(instance.updatedAt),
    ...countdown(instance, now),
  };
}

/** Is this player allowed in? The seed's IsPlayerEligible, from the token's level and clan. */
export function isEligible(
  instance: Pick<EventInstance, "minimumPlayerLevel" | "requiresClan" | "eligibleClanIds">,
  player: { level: number; clan: string | null },
): boolean {
  return ineligibility(instance, player) === null;
}

/** Why a player may not take part, in words a player-support agent can repeat; null when they may. */
export function ineligibility(
  instance: Pick<EventInstance, "minimumPlayerLevel" | "requiresClan" | "eligibleClanIds">,
  player: { level: number; clan: string | null },
): string | null {
  if (player.level < instance.minimumPlayerLevel) return `requires player level ${instance.minimumPlayerLevel} (yours is ${player.level})`;
  if (instance.requiresClan && player.clan === null) return "requires membership of a clan";
  if (instance.requiresClan && !instance.eligibleClanIds.includes(player.clan!)) return "is not open to your clan";
  return null;
}

/**
 * What a game client may see: no ops bookkeeping (activation attempts, errors, revision). A player without a zone is
 * in `fallbackZone` (DEFAULT_PLAYER_TIME_ZONE), as the token path and the shards read them.
 */
export function publicView(instance: EventInstance, now: number, player: { level: number; clan: string | null; tz?: string }, fallbackZone: string, fixedZone: string | null = null) {
  const r = renderInstance(instance, now);
  const lt = instance.localTime;
  // The zone the event fixed for this player (their shard knows it) outranks what today's token says.
  const zone = fixedZone ?? player.tz ?? fallbackZone;
  return {
    eventId: r.eventId,
    type: r.type,
    tier: r.tier,
    state: r.state,
    name: r.name,
    description: r.description,
    theme: r.theme,
    layout: r.layout,
    objectives: r.objectives.map(({ maxPerUpdate: _u, maxPerMinute: _m, ...o }) => o),
    milestones: r.milestones,
    startTime: r.startTime,
    endTime: r.endTime,
    durationSeconds: r.durationSeconds,
    timeUntilStart: r.timeUntilStart,
    timeRemaining: r.timeRemaining,
    minimumPlayerLevel: r.minimumPlayerLevel,
    leaderboardId: r.leaderboardId,
    participantCount: r.participantCount,
    eligible: isEligible(instance, player),
    // The caller's own window of a local-time event, in their zone (null for other events).
    localWindow: lt ? windowView(lt, zone, { start: instance.startTime, end: instance.endTime }, now) : null,
  };
}

export type WindowChange = { startTime?: number; endTime?: number };

/**
 * What a reschedule may change, by state: a scheduled event may move both ends; a running (active or paused)
 * event may only move its end, since its start has already happened for players.
 */
export function rescheduleProblems(
  instance: Pick<EventInstance, "state" | "startTime" | "endTime" | "localTime">,
  change: WindowChange,
  now: number,
  maxWindowDays: number,
): InstanceProblem[] {
  const running = instance.state === "active" || instance.state === "paused";
  // Its window is computed from its wall-clock times; a moved envelope would no longer match the players' windows.
  if (instance.localTime) return [{ path: [], message: "a local-time event cannot be rescheduled (its window follows localTime); cancel it and create another" }];
  if (instance.state !== "scheduled" && !running) return [{ path: [], message: `cannot reschedule an event that is ${instance.state}` }];
  if (running && change.startTime !== undefined && change.startTime !== instance.startTime) {
    return [{ path: ["startTime"], message: `cannot move the start of an event that is ${instance.state}; only endTime may change` }];
  }
  const start = change.startTime ?? instance.startTime;
  const end = change.endTime ?? instance.endTime;
  const problems = windowProblems(start, end, now, { startIsNow: change.startTime === undefined, maxWindowDays });
  if (end <= now) problems.push({ path: ["endTime"], message: "must be in the future" });
  return problems;
}
