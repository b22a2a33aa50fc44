// A stable operationId for every route in /openapi.json. Client generators name their methods after it (NSwag's C#
// would otherwise say `EventsGET3Async`), so these are API: renaming one renames a method in every studio's client.
// Kept in one table rather than beside each route because the sub-apps only know their paths relative to where
// src/app.ts mounts them; test/openapi.test.ts fails when a route has no entry here.
export const OPERATION_IDS: Record<string, string> = {
  "get /health": "getHealth",
  "get /.well-known/jwks.json": "getReceiptKeys",
  "get /v1/events/{eventId}/live": "openLiveChannel",
  "get /v1/_bench/echo": "benchEcho",
  "get /v1/_bench/leaderboard": "benchLeaderboard",
  "post /v1/admin/keys": "createApiKey",
  "get /v1/admin/keys": "listApiKeys",
  "delete /v1/admin/keys/{keyId}": "revokeApiKey",
  "post /v1/admin/templates": "createTemplate",
  "get /v1/admin/templates": "listTemplates",
  "get /v1/admin/templates/{templateId}": "getTemplate",
  "put /v1/admin/templates/{templateId}": "updateTemplate",
  "post /v1/admin/events": "createEvent",
  "get /v1/admin/events": "listEvents",
  "get /v1/admin/events/{eventId}": "getEventDetail",
  "patch /v1/admin/events/{eventId}": "rescheduleEvent",
  "get /v1/admin/events/{eventId}/players/{playerId}/progress": "getPlayerProgressAsOps",
  "get /v1/admin/events/{eventId}/progress/summary": "getProgressSummary",
  "get /v1/admin/events/{eventId}/progress/totals": "getProgressTotals",
  "post /v1/admin/events/{eventId}/pause": "pauseEvent",
  "post /v1/admin/events/{eventId}/resume": "resumeEvent",
  "post /v1/admin/events/{eventId}/cancel": "cancelEvent",
  "post /v1/admin/events/{eventId}/end-now": "endEventNow",
  "post /v1/admin/events/{eventId}/retry-activation": "retryActivation",
  "get /v1/admin/events/{eventId}/leaderboard/cohorts": "listLeaderboardCohorts",
  "get /v1/admin/events/{eventId}/leaderboard/standings": "getLeaderboardStandings",
  "get /v1/admin/events/{eventId}/leaderboard/final": "getFinalStandings",
  "post /v1/admin/events/{eventId}/leaderboard/entries/{playerId}/{action}": "actOnLeaderboardEntry",
  "post /v1/admin/events/{eventId}/leaderboard/finalize": "finalizeLeaderboard",
  "get /v1/admin/events/{eventId}/clans": "getClanRanking",
  "get /v1/admin/events/{eventId}/clans/{clanId}": "getClanAsOps",
  "post /v1/admin/events/{eventId}/clans/{clanId}/members/{playerId}/clear-flag": "clearClanMemberFlag",
  "post /v1/admin/players/{playerId}/export": "exportPlayerData",
  "post /v1/admin/players/{playerId}/erase": "erasePlayerData",
  "get /v1/admin/privacy/jobs/{jobId}": "getPrivacyJob",
  "post /v1/admin/schedule/validate": "validateSchedule",
  "get /v1/admin/settings": "getSchedulingSettings",
  "put /v1/admin/settings": "updateSchedulingSettings",
  "get /v1/admin/calendar": "getOpsCalendar",
  "get /v1/server/players/{playerId}/inventory": "serverGetInventory",
  "post /v1/server/players/{playerId}/inventory/ack": "serverAcknowledgeInventory",
  "post /v1/server/events/{eventId}/players/{playerId}/progress": "serverReportProgress",
  "post /v1/telemetry/sessions": "ingestSessions",
  "post /v1/telemetry/purchases": "ingestPurchases",
  "get /v1/admin/events/{eventId}/report": "getEventReport",
  "get /v1/admin/alerts": "listAlerts",
  "get /v1/admin/alerts/settings": "getAlertSettings",
  "put /v1/admin/alerts/settings": "updateAlertSettings",
  "get /v1/admin/alerts/{alertId}": "getAlert",
  "post /v1/admin/alerts/{alertId}/resolve": "resolveAlert",
  "get /v1/events/active": "listActiveEvents",
  "get /v1/events/upcoming": "listUpcomingEvents",
  "get /v1/events/{eventId}/countdown": "getCountdown",
  "get /v1/events/{eventId}": "getEvent",
  "post /v1/events/{eventId}/join": "joinEvent",
  "post /v1/events/{eventId}/progress": "reportProgress",
  "get /v1/events/{eventId}/progress": "getMyProgress",
  "get /v1/events/{eventId}/rewards": "getMyRewards",
  "post /v1/events/{eventId}/milestones/{index}/claim": "claimMilestone",
  "get /v1/events/{eventId}/leaderboard": "getLeaderboard",
  "get /v1/events/{eventId}/leaderboard/me": "getMyRank",
  "get /v1/events/{eventId}/clan": "getMyClan",
  "get /v1/inbox": "getInbox",
  "post /v1/inbox/{itemId}/claim": "claimInboxItem",
  "get /v1/inventory": "getMyInventory",
  "get /v1/notifications": "getNotifications",
  "post /v1/notifications/{notificationId}/shown": "markNotificationShown",
  "post /v1/notifications/{notificationId}/clicked": "markNotificationClicked",
  "get /v1/calendar": "getCalendar",
  "post /v1/me/export": "exportMyData",
};

/** The document with each operation's id from the table (an operation without an entry keeps none; the test catches it). */
export function withOperationIds<D extends { paths?: object }>(doc: D): D {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, { operationId?: string }>)) {
      const id = OPERATION_IDS[`${method} ${path}`];
      if (id && op && typeof op === "object") op.operationId = id;
    }
  }
  return doc;
}
