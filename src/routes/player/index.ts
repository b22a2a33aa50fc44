// The game client's API, mounted once at /v1 behind requirePlayer (a player JWT in Authorization: HS256 by kid, or
// RS256/ES256 from the identity provider's JWKS; src/http/player-tokens.ts).
// Its guard covers all of /v1/*, so the routes that authenticate otherwise (the admin app, the live socket, the
// bench echo) are registered before it in src/index.ts and answer their paths in full.
import { requirePlayer, type AppEnv } from "../../http/auth";
import { openApiApp } from "../../http/openapi";
import { playerReadBudget } from "../../http/read-budget";
import { playerCalendarRoutes } from "./calendar";
import { playerClanRoutes } from "./clan";
import { playerEventRoutes } from "./events";
import { playerLeaderboardRoutes } from "./leaderboard";
import { inboxRoutes, inventoryRoutes } from "./inventory";
import { notificationRoutes } from "./notifications";
import { playerPrivacyRoutes } from "./privacy";
import { playerRecommendationRoutes } from "./recommended";

export const playerApp = openApiApp<AppEnv>();
playerApp.use(requirePlayer, playerReadBudget);
playerApp
  // Before the event routes, whose /{eventId} would otherwise take /recommended.
  .route("/events", playerRecommendationRoutes)
  .route("/events", playerEventRoutes)
  .route("/events", playerLeaderboardRoutes)
  .route("/events", playerClanRoutes)
  .route("/inbox", inboxRoutes)
  .route("/inventory", inventoryRoutes)
  .route("/notifications", notificationRoutes)
  .route("/calendar", playerCalendarRoutes)
  .route("/me", playerPrivacyRoutes);
