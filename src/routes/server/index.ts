// The game servers' API, mounted once at /v1/server behind requireServer (a server key with the route's scope).
// Registered before the player app in src/index.ts and answering its own 404, so nothing here reaches the player guard.
import { requireServer, type AppEnv } from "../../http/auth";
import { noRoute } from "../../http/errors";
import { openApiApp } from "../../http/openapi";
import { serverPlayerRoutes } from "./players";

export const serverApp = openApiApp<AppEnv>()
  .use(requireServer)
  .route("/", serverPlayerRoutes)
  .all("*", (c) => {
    throw noRoute(c);
  });
