// The ops API, mounted once at /v1/admin behind requireAdmin (an operator key whose role the policy table in
// src/domain/access.ts allows, the bootstrap ADMIN_TOKEN, or the read-only calendar feed token for GET /calendar).
import { requireAdmin, type AppEnv } from "../../http/auth";
import { noRoute } from "../../http/errors";
import { idempotentCreate } from "../../http/idempotency";
import { openApiApp } from "../../http/openapi";
import { adminAlertRoutes } from "./alerts";
import { adminClanRoutes } from "./clans";
import { adminEventRoutes } from "./events";
import { adminFlagRoutes } from "./flags";
import { keyRoutes } from "./keys";
import { adminLeaderboardRoutes } from "./leaderboards";
import { adminPersonalizationRoutes } from "./personalization";
import { adminPrivacyRoutes } from "./privacy";
import { adminReportRoutes } from "./reports";
import { scheduleRoutes } from "./schedule";
import { adminSeriesRoutes } from "./series";
import { templateRoutes } from "./templates";
import { whoamiRoutes } from "./whoami";

export const adminApp = openApiApp<AppEnv>();
adminApp.use(requireAdmin);
adminApp
  .on("POST", ["/events", "/templates", "/series"], idempotentCreate)
  .route("/", whoamiRoutes)
  .route("/keys", keyRoutes)
  .route("/templates", templateRoutes)
  .route("/events", adminEventRoutes)
  .route("/events", adminLeaderboardRoutes)
  .route("/events", adminClanRoutes)
  // /players/:playerId/export, /players/:playerId/erase, /privacy/jobs/:jobId
  .route("/", adminPrivacyRoutes)
  // /players/:playerId/profile, /personalization/settings
  .route("/", adminPersonalizationRoutes)
  .route("/events", adminReportRoutes)
  .route("/events", adminFlagRoutes)
  .route("/alerts", adminAlertRoutes)
  .route("/series", adminSeriesRoutes)
  // /schedule/validate, /settings, /calendar
  .route("/", scheduleRoutes)
  // Every path under /v1/admin is answered here, its 404 included, so none falls through to the player guard.
  .all("*", (c) => {
    throw noRoute(c);
  });
