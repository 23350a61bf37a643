import { createRoute, z } from "@hono/zod-openapi";
import type { Registry } from "prom-client";
import type { Store } from "../store/store.ts";
import { type Api, SECURED } from "./deps.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema } from "./schemas.ts";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  summary:
    "Health: the gateway answers and its store can keep leads (no API key needed). 503 names the store's problem: its file deleted, replaced or unwritable, a full disk, an I/O error",
  responses: {
    200: jsonResponse(z.object({ status: z.literal("ok") }), "alive, and intake is stored"),
    503: jsonResponse(
      z.object({ status: z.literal("failing"), code: z.string(), error: z.string() }),
      "intake is refused until the cause is fixed",
    ),
  },
});

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics: leads by status, attempts by code, queue depth, calls, quota",
  security: SECURED,
  responses: {
    200: { content: { "text/plain": { schema: z.string() } }, description: "Prometheus text" },
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

/** `/healthz` and `/metrics`. */
export function healthMetricsRoutes(app: Api, registry: Registry, store: Store): void {
  app.openapi(healthz, async (c) => {
    const problem = await store.health();
    if (problem) {
      return c.json(
        { status: "failing" as const, code: problem.code, error: problem.message },
        503,
      );
    }
    return c.json({ status: "ok" as const }, 200);
  });
  app.openapi(metrics, async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { "Content-Type": registry.contentType }) as never;
  });
}
