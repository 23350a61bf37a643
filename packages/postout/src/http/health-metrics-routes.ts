import { createRoute, z } from "@hono/zod-openapi";
import type { Registry } from "prom-client";
import { type Api, SECURED } from "./deps.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema } from "./schemas.ts";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness: the gateway answers (no API key needed; says nothing else)",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "alive") },
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
export function healthMetricsRoutes(app: Api, registry: Registry): void {
  app.openapi(healthz, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(metrics, async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { "Content-Type": registry.contentType }) as never;
  });
}
