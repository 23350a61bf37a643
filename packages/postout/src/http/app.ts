import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Gateway } from "../gateway.ts";
import type { Store } from "../store/store.ts";
import { requireApiKey } from "./auth.ts";
import { builtDashboardDir, dashboardRoutes } from "./dashboard-routes.ts";
import type { ApiDeps } from "./deps.ts";
import { destinationCatalogRoutes } from "./destination-catalog-routes.ts";
import { destinationsRoutes } from "./destinations-routes.ts";
import { errorHandler, problem, validationHook } from "./errors.ts";
import { explainRoute } from "./explain-route.ts";
import { healthMetricsRoutes } from "./health-metrics-routes.ts";
import { strictJsonBody } from "./json-body.ts";
import { leadsRoutes } from "./leads-routes.ts";
import { gatewayMetrics } from "./metrics.ts";
import { reportRoute } from "./report-route.ts";
import { repostRoute } from "./repost-route.ts";
import { statsRoutes } from "./stats-routes.ts";
import { testIntegrationRoute } from "./test-integration-route.ts";

export interface AppOptions {
  readonly gateway: Gateway;
  /** @default gateway.store */
  readonly store?: Store;
  /** The key every `/v1` route and `/metrics` require. */
  readonly apiKey: string;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Largest request body; a bigger one is refused with 413.
   * @default 5 * 1024 * 1024
   */
  readonly maxBodyBytes?: number;
  /**
   * The daily quota the destinations' forecast counts against.
   * @default 50_000
   */
  readonly dailyQuota?: number;
  /**
   * Where field maps sent with leads are kept (by content), so a repost without a map maps
   * each lead with the map it came with. Without it, such a repost uses the identity map.
   */
  readonly mapDir?: string;
  /** Where errors are logged (never with request data or secrets). @default stderr */
  readonly log?: (line: string) => void;
  /**
   * The built dashboard (index.html and assets/), served at `/` to a signed-in browser.
   * @default the installed @postout/dashboard's dist folder
   */
  readonly dashboardDir?: string;
}

/**
 * The gateway's HTTP API: under `/v1`, each route validated and described in the OpenAPI
 * document at `/v1/openapi.json`; `/healthz` and `/login` open, everything else (the
 * dashboard at `/` too) behind the API key.
 */
export function createApp(options: AppOptions): OpenAPIHono {
  if (options.apiKey.length < 16) throw new Error("the API key must be at least 16 characters");
  const deps: ApiDeps = {
    gateway: options.gateway,
    store: options.store ?? options.gateway.store,
    now: options.now ?? Date.now,
    dailyQuota: options.dailyQuota ?? 50_000,
    mapDir: options.mapDir,
  };
  const maxBytes = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorHandler(options.log ?? ((line) => process.stderr.write(`${line}\n`))));
  app.notFound((c) => problem(c, 404, "no such route"));

  const auth = requireApiKey(options.apiKey, deps.now);
  app.use("/v1/*", auth);
  app.use("/metrics", auth);
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: maxBytes,
      onError: (c) =>
        problem(
          c,
          413,
          `request body larger than ${maxBytes} bytes; send at most 1,000 leads per request`,
        ),
    }),
  );

  app.use("/v1/*", strictJsonBody());

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });

  leadsRoutes(app, deps);
  repostRoute(app, deps);
  reportRoute(app, deps);
  explainRoute(app);
  destinationsRoutes(app, deps);
  destinationCatalogRoutes(app, deps);
  testIntegrationRoute(app, deps);
  statsRoutes(app, deps);
  healthMetricsRoutes(app, gatewayMetrics(deps.gateway, deps.store), deps.store);
  dashboardRoutes(app, {
    apiKey: options.apiKey,
    now: deps.now,
    dir: options.dashboardDir ?? builtDashboardDir(),
  });

  app.doc("/v1/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "Postout gateway",
      version: "1",
      description:
        "Post leads into Marketo and lose none. Every /v1 route and /metrics need the API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
    },
  });
  return app;
}
