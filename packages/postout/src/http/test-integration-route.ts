import { createRoute } from "@hono/zod-openapi";
import { testIntegration } from "../test-integration.ts";
import { chooseDestination } from "./choose-destination.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { problem } from "./errors.ts";
import { fieldMapOf } from "./field-map.ts";
import { jsonResponse } from "./json-response.ts";
import { AnyJson, ErrorSchema, routeOf, TestIntegrationBodySchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/test-integration",
  summary:
    "Send one lead through mapping and routing now; answers the Request and the Response (kept in the log as a test)",
  security: SECURED,
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: TestIntegrationBodySchema } },
    },
  },
  responses: {
    200: jsonResponse(AnyJson, "the Request and the Response, with the fix when it failed"),
    400: jsonResponse(ErrorSchema, "bad input, naming the field"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

/** Test Integration (seed 003's modal) over HTTP. */
export function testIntegrationRoute(app: Api, deps: ApiDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const chosen = chooseDestination(deps.gateway, body.destination);
    if ("issue" in chosen) return problem(c, 400, "unknown destination", [chosen.issue]);
    const mapped = fieldMapOf(body.map);
    if ("issues" in mapped) return problem(c, 400, "invalid field map", mapped.issues);
    const result = await testIntegration(deps.gateway, {
      raw: body.lead,
      route: routeOf(body.route),
      map: mapped.map,
      destination: chosen.destination.name,
    });
    return c.json(JSON.parse(JSON.stringify(result)) as Record<string, unknown>, 200);
  });
}
