import { createRoute, z } from "@hono/zod-openapi";
import { readMapFile, saveMapFile } from "../mapping/map-files.ts";
import { preparer } from "../prepare.ts";
import { chooseDestination } from "./choose-destination.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { problem } from "./errors.ts";
import { fieldMapOf } from "./field-map.ts";
import { leadFilter } from "./filter.ts";
import { jsonResponse } from "./json-response.ts";
import { attemptJson, explanationOf, leadJson } from "./lead-view.ts";
import {
  AnyJson,
  ErrorSchema,
  FieldMapSchema,
  IdParamSchema,
  IntakeBodySchema,
  ListQuerySchema,
  routeOf,
} from "./schemas.ts";

const intake = createRoute({
  method: "post",
  path: "/v1/leads",
  summary: "Accept one lead or a batch (at most 1,000); answers once they are stored",
  security: SECURED,
  request: {
    body: { required: true, content: { "application/json": { schema: IntakeBodySchema } } },
  },
  responses: {
    202: jsonResponse(
      z.object({ accepted: z.number(), alreadyAccepted: z.number(), ids: z.array(z.number()) }),
      "stored; delivery follows",
    ),
    400: jsonResponse(ErrorSchema, "bad input, naming the field"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    413: jsonResponse(ErrorSchema, "body too large"),
    503: jsonResponse(
      ErrorSchema,
      "the database cannot keep leads (deleted, replaced, unwritable): nothing was stored; the error names the cause",
    ),
    507: jsonResponse(ErrorSchema, "the disk holding the database is full: nothing was stored"),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/leads",
  summary: "Leads matching the filters, newest first, a page at a time",
  security: SECURED,
  request: { query: ListQuerySchema },
  responses: {
    200: jsonResponse(
      z.object({
        leads: z.array(AnyJson),
        nextCursor: z.string().nullable(),
        counts: z.record(z.string(), z.number()),
      }),
      "a page of leads, the cursor of the next page, and counts by status over the filter",
    ),
    400: jsonResponse(ErrorSchema, "bad filter or page size"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

const detail = createRoute({
  method: "get",
  path: "/v1/leads/{id}",
  summary:
    "One lead with every attempt, the catalog's meaning and fix for its last code, and the field map it was posted with",
  security: SECURED,
  request: { params: IdParamSchema },
  responses: {
    200: jsonResponse(
      z.object({
        lead: AnyJson,
        attempts: z.array(AnyJson),
        explanation: AnyJson.nullable(),
        map: FieldMapSchema.nullable().openapi({
          description:
            "the field map the lead was posted with, as saved; null for none (column names are field names). Edit it and send it with POST /v1/repost",
        }),
      }),
      "the lead",
    ),
    400: jsonResponse(ErrorSchema, "not a lead id"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such lead"),
  },
});

/** Intake, the lead list and a lead's detail. */
export function leadsRoutes(app: Api, deps: ApiDeps): void {
  const { gateway, store } = deps;

  app.openapi(intake, async (c) => {
    const body = c.req.valid("json");
    const chosen = chooseDestination(gateway, body.destination);
    if ("issue" in chosen) return problem(c, 400, "unknown destination", [chosen.issue]);
    const mapped = fieldMapOf(body.map);
    if ("issues" in mapped) return problem(c, 400, "invalid field map", mapped.issues);
    const { destination } = chosen;
    const route = routeOf(body.route);
    const prepare = preparer({
      map: mapped.map,
      route,
      schema: (opts) => destination.schema(opts),
      markerField: destination.markerField,
    });
    const result = await gateway.accept(
      body.leads.map((raw) => ({ raw })),
      {
        destination: destination.name,
        route,
        prepare,
        source: "api",
        ...(body.map && deps.mapDir ? { mapPath: saveMapFile(deps.mapDir, body.map) } : {}),
      },
    );
    return c.json(
      { accepted: result.accepted, alreadyAccepted: result.duplicates, ids: result.ids },
      202,
    );
  });

  app.openapi(list, async (c) => {
    const { limit, cursor, ...query } = c.req.valid("query");
    const filter = leadFilter(query);
    const { leads, counts } = await store.listLeads(filter, {
      limit: limit + 1,
      ...(cursor === undefined ? {} : { before: Number(cursor) }),
    });
    const page = leads.slice(0, limit);
    const more = leads.length > limit;
    return c.json(
      {
        leads: page.map(leadJson),
        nextCursor: more ? String(page.at(-1)?.id) : null,
        counts,
      },
      200,
    );
  });

  app.openapi(detail, async (c) => {
    const id = Number(c.req.valid("param").id);
    const lead = await store.getLead(id);
    if (!lead) return problem(c, 404, `no lead with id ${id}`);
    const attempts = await store.getAttempts(id);
    return c.json(
      {
        lead: leadJson(lead),
        attempts: attempts.map(attemptJson),
        explanation: explanationOf(lead.lastCode, lead.lastReason, lead.fix),
        // The map's content only: its file path stays inside.
        map: await readMapFile(lead.mapPath),
      },
      200,
    );
  });
}
