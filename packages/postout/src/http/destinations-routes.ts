import { createRoute, z } from "@hono/zod-openapi";
import { settingsView } from "../destinations/settings.ts";
import type { Destination } from "../gateway.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { problem } from "./errors.ts";
import { forecastQuota } from "./forecast.ts";
import { jsonResponse } from "./json-response.ts";
import { AnyJson, ErrorSchema, PauseBodySchema } from "./schemas.ts";

/** A pause without an end: until a person resumes it. */
const UNTIL_RESUMED = Date.UTC(9999, 11, 31);

const nameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "name", in: "path" }, example: "sandbox" }),
});

const list = createRoute({
  method: "get",
  path: "/v1/destinations",
  summary:
    "Each destination: paused or not (reason, until), calls and 606/615 answers (self-caused or foreign) since start, quota used today, when the quota runs out at this pace, queue",
  security: SECURED,
  responses: {
    200: jsonResponse(z.object({ destinations: z.array(AnyJson) }), "the destinations"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

const pause = createRoute({
  method: "post",
  path: "/v1/destinations/{name}/pause",
  summary:
    "Stop sending to a destination (until a time, or until resumed); leads wait, none is lost",
  security: SECURED,
  request: {
    params: nameParam,
    body: { required: false, content: { "application/json": { schema: PauseBodySchema } } },
  },
  responses: {
    200: jsonResponse(AnyJson, "the destination's state"),
    400: jsonResponse(ErrorSchema, "bad body"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
  },
});

const resume = createRoute({
  method: "post",
  path: "/v1/destinations/{name}/resume",
  summary:
    "End a destination's pause (also one Marketo caused, e.g. 607) and send its waiting leads",
  security: SECURED,
  request: { params: nameParam },
  responses: {
    200: jsonResponse(AnyJson, "the destination's state"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
  },
});

/**
 * A destination as the API shows it: its settings (source, base URL, client id, limits, budget;
 * never the secret), pause, calls, 606/615 by cause, quota forecast, gate and queue.
 */
export async function destinationState(deps: ApiDeps, destination: Destination) {
  const { store, now } = deps;
  const stored = await store.getDestination(destination.name);
  const gate = await destination.client.gateState();
  const at = now();
  const paused = stored?.pausedUntil !== undefined && stored.pausedUntil > at;
  const queue = await store.countByStatus({ destination: destination.name });
  return {
    name: destination.name,
    ...settingsView(destination.settings),
    paused: paused
      ? {
          code: stored?.pausedCode ?? null,
          reason: stored?.pausedReason ?? null,
          until:
            stored?.pausedUntil === UNTIL_RESUMED
              ? null
              : new Date(stored?.pausedUntil ?? at).toISOString(),
        }
      : null,
    calls: Object.fromEntries(destination.calls),
    // 606/615 by whose calls filled the instance: { "606": { self, foreign }, "615": … }.
    throttled: Object.fromEntries(destination.throttled),
    quota: forecastQuota(gate.quotaUsed, deps.dailyQuota, at),
    gate: {
      inFlight: gate.inFlight,
      inWindow: gate.inWindow,
      share: gate.currentShare,
      pausedUntil: gate.pausedUntil > at ? new Date(gate.pausedUntil).toISOString() : null,
    },
    queue,
  };
}

/** Destinations: their state, quota forecast, pause and resume. */
export function destinationsRoutes(app: Api, deps: ApiDeps): void {
  const { gateway, store, now } = deps;
  const find = (name: string): Destination | undefined =>
    gateway.destinations.find((d) => d.name === name);
  const state = (destination: Destination) => destinationState(deps, destination);

  app.openapi(list, async (c) => {
    const destinations = [];
    for (const d of gateway.destinations) destinations.push(await state(d));
    return c.json({ destinations }, 200);
  });

  app.openapi(pause, async (c) => {
    const destination = find(c.req.valid("param").name);
    if (!destination) return problem(c, 404, `no destination named "${c.req.param("name")}"`);
    const body = c.req.valid("json") ?? {};
    const until = body.until === undefined ? UNTIL_RESUMED : Date.parse(body.until);
    if (until <= now()) {
      return problem(c, 400, "invalid body", [{ path: "until", message: "must be in the future" }]);
    }
    await store.setDestinationPause(
      destination.name,
      { until, code: "manual", reason: body.reason ?? "paused by a person through the API" },
      now(),
    );
    return c.json(await state(destination), 200);
  });

  app.openapi(resume, async (c) => {
    const destination = find(c.req.valid("param").name);
    if (!destination) return problem(c, 404, `no destination named "${c.req.param("name")}"`);
    await store.setDestinationPause(destination.name, undefined, now());
    await store.resumeDestination(destination.name, now());
    destination.dispatcher.wake();
    return c.json(await state(destination), 200);
  });
}
