// What the HTTP API answers, as zod schemas: the response side of model.ts. GET /openapi.json is generated from these,
// and test/openapi.test.ts checks real answers against them, so a handler that changes its output without its schema
// fails there. Times are ISO 8601 strings; durations and countdowns whole seconds.
import { z } from "zod";
import { AdjustedView } from "./adaptive";
import { PublicSeries } from "./series-public";
import { EventInstance, EventTier, EventType, Milestone, Objective, RewardData, templateFields } from "./model";
import { LocalWindow } from "./local-time";

const Iso = z.iso.datetime({ offset: true });
const Json = z.record(z.string(), z.unknown());
const Count = z.number().int().min(0);

export const Health = z.object({ ok: z.literal(true) }).meta({ id: "Health" });

/** GET /v1/admin/whoami: who the credential is and what its role may do (an ops console shows only that). */
export const Caller = z
  .object({
    actor: z.string().meta({ description: "The audit log's name for the caller: `key:<keyId>:<name>` or `bootstrap`." }),
    role: z.enum(["viewer", "operator", "admin"]),
    can: z.record(z.string(), z.boolean()).meta({ description: "Capabilities by name (schedule, transition, force, editTemplates, reviewFlags, …), decided by the policy table." }),
  })
  .meta({ id: "Caller" });

// ---- templates ---------------------------------------------------------------------------------------------------

export const Template = z
  .object({
    templateId: z.string(),
    ...templateFields,
    performance: z
      .object({ averageCompletionRate: z.number().nullable(), averageRppu: z.number().nullable(), reportedEvents: Count })
      .meta({ description: "Means over the stored reports of this template's events; averageEngagementScore is their engagement mean." }),
    version: z.number().int().min(1),
    usageCount: Count,
    lastUsed: Iso.nullable(),
    createdAt: Iso,
    updatedAt: Iso,
  })
  .meta({ id: "Template" });
export const TemplatePage = z.object({ templates: z.array(Template), nextOffset: z.number().int().nullable() }).meta({ id: "TemplatePage" });
export const TemplateVersions = z
  .object({
    templateId: z.string(),
    versions: z.array(
      z.object({
        version: z.number().int().min(1),
        savedAt: Iso,
        savedBy: z.string().meta({ description: "The audit name of who saved it (`key:<keyId>:<name>`, `bootstrap`)." }),
        template: Json.meta({ description: "The template's editable fields as that version stored them." }),
      }),
    ),
  })
  .meta({ id: "TemplateVersions" });

// ---- events, as ops see them ---------------------------------------------------------------------------------------

const countdownFields = {
  durationSeconds: Count,
  timeUntilStart: Count.meta({ description: "Seconds until the start (0 unless scheduled)." }),
  timeRemaining: Count.meta({ description: "Seconds until the end (0 once it ended)." }),
};

export const EventSummary = EventInstance.extend({
  startTime: Iso,
  endTime: Iso,
  scheduledEndTime: Iso,
  createdAt: Iso,
  updatedAt: Iso,
  ...countdownFields,
}).meta({ id: "EventSummary" });

export const Transition = z
  .object({
    seq: z.number().int(),
    fromState: z.string().nullable(),
    toState: z.string(),
    at: Iso,
    cause: z.string(),
    actor: z.string(),
    reason: z.string().nullable(),
    details: Json.nullable(),
  })
  .meta({ id: "Transition" });

export const EventDetail = EventSummary.extend({ transitions: z.array(Transition) }).meta({ id: "EventDetail" });
export const EventPage = z.object({ events: z.array(EventSummary), nextCursor: z.string().nullable() }).meta({ id: "EventPage" });

export const ScheduleConflict = z
  .object({
    rule: z.enum(["max_concurrent", "max_concurrent_same_type", "major_gap"]),
    limit: z.number(),
    conflictingEventIds: z.array(z.string()),
    window: z.object({ from: Iso, to: Iso }),
    message: z.string(),
  })
  .meta({ id: "ScheduleConflict" });
export const ScheduleCheck = z.object({ ok: z.boolean(), conflicts: z.array(ScheduleConflict) }).meta({ id: "ScheduleCheck" });

export const ScheduleSettings = z
  .object({ maxConcurrent: z.number(), maxConcurrentSameType: z.number(), majorGapHours: z.number(), maxWindowDays: z.number() })
  .meta({ id: "ScheduleSettings" });

export const OpsCalendar = z
  .object({
    from: Iso,
    to: Iso,
    days: z.array(
      z.object({
        date: z.string().meta({ description: "YYYY-MM-DD (UTC)" }),
        concurrency: Count.meta({ description: "Most events running at once that day." }),
        eventCount: Count,
        conflicts: z
          .array(z.object({ rule: z.enum(["max_concurrent", "max_concurrent_same_type", "major_gap"]), eventIds: z.array(z.string()), message: z.string() }))
          .meta({
            description:
              "The rules this day's schedule breaks (forced schedules, limits lowered since), as the scheduler would say it; counted over every event whatever the filters, including majors up to the gap beyond the range.",
          }),
        events: z.array(
          z.object({
            eventId: z.string(),
            name: z.string(),
            type: EventType,
            tier: EventTier,
            state: z.string(),
            startTime: Iso,
            endTime: Iso,
            forced: z.boolean().meta({ description: "Scheduled with force: true (a create, reschedule or resume that set a rule aside)." }),
            series: z.object({ seriesId: z.string(), occurrence: z.string() }).optional().meta({ description: "Set when the event is an occurrence of a recurring series." }),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "OpsCalendar" });

// ---- progress --------------------------------------------------------------------------------------------------------

export const ObjectiveProgress = z.object({ currentValue: z.number(), targetValue: z.number(), isCompleted: z.boolean() }).meta({ id: "ObjectiveProgress" });
export const ProgressSnapshot = z
  .object({
    objectives: z.record(z.string(), ObjectiveProgress),
    completion: z.number().min(0).max(1),
    unlockedMilestones: z.array(z.number().int()),
    lastUpdated: z.string(),
    lastSeq: z.number().int(),
  })
  .meta({ id: "ProgressSnapshot" });
export const PlayerProgress = ProgressSnapshot.extend({
  playerId: z.string(),
  adjusted: AdjustedView.nullable().optional().meta({ description: "Adaptive difficulty lowered this player's targets: when, why, the targets and the assist (README Personalization); null when it did not." }),
}).meta({ id: "PlayerProgress" });
export const ProgressAck = ProgressSnapshot.extend({
  newMilestones: z.array(z.unknown()),
  applied: z.array(z.number().int()).meta({ description: "The seqs applied by this request." }),
  duplicates: z.array(z.number().int()).meta({ description: "The seqs already applied before (ignored)." }),
}).meta({ id: "ProgressAck" });

const Bucket = z.object({ from: z.number(), to: z.number(), count: Count });
export const ProgressSummary = z
  .object({
    eventId: z.string(),
    shardCount: z.number().int(),
    participantCount: Count,
    completionCount: Count,
    completionHistogram: z.array(Bucket),
    ingest: z.object({ requests: Count, updatesApplied: Count, d1Statements: Count, outboxPending: Count, flagsPending: Count }),
  })
  .meta({ id: "ProgressSummary" });
export const ProgressTotals = z.object({ eventId: z.string(), players: Count, totals: z.record(z.string(), z.number()) }).meta({ id: "ProgressTotals" });

// ---- events, as players see them -----------------------------------------------------------------------------------

export const PublicEvent = z
  .object({
    eventId: z.string(),
    type: EventType,
    tier: EventTier,
    state: z.string(),
    name: z.string(),
    description: z.string(),
    theme: Json,
    layout: Json,
    objectives: z.array(Objective.omit({ maxPerUpdate: true, maxPerMinute: true })),
    milestones: z.array(Milestone),
    startTime: Iso,
    endTime: Iso,
    ...countdownFields,
    minimumPlayerLevel: z.number().int(),
    leaderboardId: z.string().nullable(),
    participantCount: Count,
    eligible: z.boolean().meta({ description: "Whether the calling player may join (level, clan)." }),
    localWindow: LocalWindow.nullable().meta({
      description:
        "A local-time event's window for the calling player, in their zone, with its own state and countdowns (the event's timeUntilStart/timeRemaining count its UTC envelope, the earliest zone's start to the latest zone's end). Null for other events.",
    }),
    series: PublicSeries,
  })
  .meta({ id: "PublicEvent" });
export const PublicEventList = z.object({ events: z.array(PublicEvent) }).meta({ id: "PublicEventList" });
export const PlayerCalendar = z
  .object({ from: Iso, to: Iso, events: z.array(PublicEvent.extend({ banner: z.string().nullable() })) })
  .meta({ id: "PlayerCalendar" });
export const Countdown = z
  .object({ eventId: z.string(), state: z.string(), startTime: Iso, endTime: Iso, serverTime: Iso, timeUntilStart: Count, timeRemaining: Count })
  .meta({ id: "Countdown" });

// ---- rewards -----------------------------------------------------------------------------------------------------

/** A signed claim receipt; the game server verifies it before granting anything. */
export const Receipt = z
  .object({
    claimId: z.string(),
    playerId: z.string(),
    eventId: z.string(),
    milestoneIndex: z.number().int(),
    rewards: z.array(RewardData),
    claimedAt: Iso,
    jws: z.string().optional().meta({ description: "Compact JWS (EdDSA) over these fields; verify with the keys at /.well-known/jwks.json. On every receipt issued since JWS receipts began." }),
    signature: z.string().optional().meta({ description: "Legacy HMAC signature, only on receipts issued before JWS receipts (see README, Receipts)." }),
  })
  .meta({ id: "Receipt" });
export const Delivery = z
  .object({ outcome: z.enum(["delivered", "inbox", "retrying"]), via: z.enum(["ledger", "webhook"]), itemId: z.string().optional() })
  .meta({ id: "Delivery" });
export const MilestoneRewards = z
  .object({
    milestones: z.array(
      z.object({
        index: z.number().int(),
        progressThreshold: z.number(),
        state: z.enum(["locked", "claimable", "claimed", "auto_claimed"]),
        rewards: z.array(RewardData),
        receipt: Receipt.nullable(),
      }),
    ),
  })
  .meta({ id: "MilestoneRewards" });
export const ClaimResult = z
  .object({ receipt: Receipt, delivery: Delivery.nullable(), replayed: z.boolean().meta({ description: "True when this Idempotency-Key was seen before." }) })
  .meta({ id: "ClaimResult" });

export const InboxItem = z
  .object({
    itemId: z.string(),
    eventId: z.string(),
    milestoneIndex: z.number().int(),
    receiptId: z.string(),
    source: z.string(),
    reason: z.string(),
    status: z.string(),
    rewards: z.array(RewardData),
    arrivedAt: Iso,
    expiresAt: Iso,
    claimedAt: Iso.nullable(),
  })
  .meta({ id: "InboxItem" });
export const Inbox = z.object({ items: z.array(InboxItem) }).meta({ id: "Inbox" });
export const InboxClaim = z.object({ item: InboxItem, delivered: z.boolean() }).meta({ id: "InboxClaim" });

export const InventoryPage = z
  .object({
    entries: z.array(
      z.object({
        cursor: z.number().int().meta({ description: "Pass as ?since= to read on from here." }),
        ledgerId: z.string(),
        playerId: z.string(),
        eventId: z.string(),
        milestoneIndex: z.number().int(),
        source: z.string(),
        receiptId: z.string(),
        rewards: z.array(RewardData),
        deliveredVia: z.string(),
        at: Iso,
      }),
    ),
    nextCursor: z.number().int(),
    hasMore: z.boolean(),
    acknowledged: z.number().int().meta({ description: "Entries up to this cursor were acknowledged by a game server and take no slot." }),
    slotsUsed: Count,
    capacity: Count,
  })
  .meta({ id: "InventoryPage" });
export const InventoryAck = z.object({ acknowledged: z.number().int(), slotsUsed: Count, capacity: Count }).meta({ id: "InventoryAck" });

// ---- notifications ---------------------------------------------------------------------------------------------------

export const NotificationFeed = z
  .object({
    notifications: z.array(
      z.object({
        notificationId: z.string(),
        type: z.string(),
        eventId: z.string(),
        title: z.string(),
        body: z.string(),
        display: z.enum(["popup", "banner", "feed"]),
        at: Iso,
        seen: z.boolean(),
        clicked: z.boolean(),
      }),
    ),
    unseen: Count,
    nextCursor: z.number().int().nullable(),
  })
  .meta({ id: "NotificationFeed" });
export const NotificationInteraction = z
  .object({ notificationId: z.string(), shown: z.literal(true).optional(), clicked: z.literal(true).optional() })
  .meta({ id: "NotificationInteraction" });

// ---- leaderboards ------------------------------------------------------------------------------------------------

export const BoardRow = z.object({ rank: z.number().int(), playerId: z.string(), score: z.number(), reachedAt: z.string() }).meta({ id: "BoardRow" });
export const BoardPage = z
  .object({
    cohortId: z.string().nullable().meta({ description: "The board shown: the caller's cohort, `global`, or null before the caller is placed in one" }),
    total: Count,
    finalized: z.boolean(),
    entries: z.array(BoardRow),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: "BoardPage" });
export const BoardMe = z
  .object({
    cohortId: z.string().nullable(),
    total: Count,
    finalized: z.boolean(),
    rank: z.number().int().nullable(),
    score: z.number().nullable(),
    percentile: z.number().nullable().meta({ description: "How high the rank sits: 1 means the top 1 % of the board, 100 the last place" }),
    neighbours: z.array(BoardRow),
  })
  .meta({ id: "BoardMe" });
export const CohortList = z.object({ cohorts: z.array(z.object({ cohortId: z.string(), members: Count })) }).meta({ id: "CohortList" });
export const FinalSummary = z
  .object({ cohortId: z.string(), entries: Count, digest: z.string(), finalizedAt: z.string(), rewarded: Count, held: Count })
  .meta({ id: "FinalSummary" });
export const Finalization = z.object({ boards: z.array(FinalSummary) }).meta({ id: "Finalization" });
export const FinalStandings = z
  .object({
    standings: z.array(
      z.object({ playerId: z.string(), cohortId: z.string(), rank: z.number().int(), score: z.number(), reachedAt: z.string(), rewardTier: z.number().int(), held: z.boolean(), digest: z.string(), finalizedAt: z.string() }),
    ),
    nextOffset: z.number().int().nullable(),
  })
  .meta({ id: "FinalStandings" });
export const EntryActionResult = z.object({ playerId: z.string(), action: z.enum(["remove", "ban", "clear_flag"]), cohortId: z.string() }).meta({ id: "EntryActionResult" });

// ---- clans (README "Clans") --------------------------------------------------------------------------------------

export const ClanMember = z
  .object({
    playerId: z.string(),
    rank: z.number().int().min(1),
    contribution: z.number(),
    sharePercent: z.number().meta({ description: "Percent of the clan total, rounded to 2 decimals (the threshold uses exact values)." }),
    eligible: z.boolean().meta({ description: "At or over the threshold and not held: shares in every clan milestone reached." }),
    neededMore: z.number().nullable().meta({ description: "How much more this member needed to reach the threshold (0: none; null: unreachable)." }),
    flagged: z.boolean().meta({ description: "Held for anti-cheat review: no clan reward until ops clear the flag." }),
  })
  .meta({ id: "ClanMember" });
export const ClanMilestoneView = z
  .object({ index: z.number().int(), progressThreshold: z.number(), reached: z.boolean(), reachedAt: Iso.nullable(), rewards: z.array(RewardData), unlockMessage: z.string() })
  .meta({ id: "ClanMilestone" });
export const ClanView = z
  .object({
    eventId: z.string(),
    clanId: z.string(),
    total: z.number(),
    totals: z.record(z.string(), z.number()).meta({ description: "The clan total per clan-scoped objective." }),
    completion: z.number(),
    thresholdPercent: z.number(),
    milestones: z.array(ClanMilestoneView),
    members: z.array(ClanMember),
    me: ClanMember.nullable().meta({ description: "The caller's own line (player route only; null if they have not contributed)." }),
    finalized: z.boolean(),
  })
  .meta({ id: "ClanView" });
export const ClanRankEntry = z
  .object({
    rank: z.number().int().min(1),
    clanId: z.string(),
    total: z.number(),
    completion: z.number(),
    members: Count,
    reachedAt: Iso.nullable().meta({ description: "When the clan reached this total (ties go to the earlier); null before its first contribution counted." }),
    rewardTier: z.number().int().nullable().meta({ description: "Final standings only: index into clan.rankRewardTiers, -1 for none; null while live." }),
  })
  .meta({ id: "ClanRankEntry" });
export const ClanRanking = z
  .object({
    eventId: z.string(),
    count: Count.meta({ description: "Clans ranked." }),
    finalized: z.boolean().meta({ description: "true: the final clan standings, recorded once at the event's end." }),
    digest: z.string().nullable().meta({ description: "SHA-256 (hex) of the final standings (one rank, clan, total, reachedAt line per rank); null while live." }),
    clans: z.array(ClanRankEntry),
    nextCursor: z.string().nullable(),
    me: ClanRankEntry.nullable().meta({ description: "The caller's clan (player route; null without a clan claim, or before the clan's first contribution)." }),
  })
  .meta({ id: "ClanRanking" });
export const ClanFlagCleared = z
  .object({ playerId: z.string(), clanId: z.string(), released: Count.meta({ description: "Held clan milestone rewards now granted (0 before the clan is final)." }) })
  .meta({ id: "ClanFlagCleared" });
