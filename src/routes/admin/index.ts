// The ops API, mounted once at /v1/admin behind requireAdmin (the admin token, or the read-only calendar feed token
// for GET /v1/admin/calendar only).
import { requireAdmin, type AppEnv } from "../../http/auth";
import { noRoute } from "../../http/errors";
import { openApiApp } from "../../http/openapi";
import { adminEventRoutes } from "./events";
import { scheduleRoutes } from "./schedule";
import { templateRoutes } from "./templates";

export const adminApp = openApiApp<AppEnv>();
adminApp.use(requireAdmin);
adminApp
  .route("/templates", templateRoutes)
  .route("/events", adminEventRoutes)
  // /schedule/validate, /settings, /calendar
  .route("/", scheduleRoutes)
  // Every path under /v1/admin is answered here, its 404 included, so none falls through to the player guard.
  .all("*", (c) => {
    throw noRoute(c);
  });
