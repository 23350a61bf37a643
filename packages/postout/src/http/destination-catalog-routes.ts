import { createRoute, z } from "@hono/zod-openapi";
import { testConnection } from "../connection-test.ts";
import {
  LeadsWaitingError,
  ReadOnlyDestinationError,
  UnknownDestinationError,
} from "../destinations/errors.ts";
import {
  DestinationChangeSchema,
  DestinationCreateSchema,
  DestinationDraftSchema,
  destinationName,
} from "../destinations/input.ts";
import {
  type CatalogAccess,
  createDestination,
  editDestination,
  removeDestination,
} from "../destinations/manage.ts";
import type { Destination } from "../gateway.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { destinationState } from "./destinations-routes.ts";
import { problem } from "./errors.ts";
import { jsonResponse } from "./json-response.ts";
import { AnyJson, ErrorSchema } from "./schemas.ts";

const nameParam = z.object({
  name: destinationName.openapi({ param: { name: "name", in: "path" }, example: "acme" }),
});

const CreateBody = DestinationCreateSchema.openapi("DestinationCreate", {
  description:
    "A Marketo instance: REST base URL, client id and secret of its custom service, Postout's share of the limits, a daily call budget",
});
const ChangeBody = DestinationChangeSchema.openapi("DestinationChange", {
  description:
    "Fields to change; one left out keeps its value (clientSecret too), null clears a limit, the budget or markerField",
});
const DraftBody = DestinationDraftSchema.openapi("DestinationDraft");
const ConnectionReportSchema = z
  .object({
    ok: z.boolean(),
    message: z.string(),
    problem: z
      .enum([
        "bad-credentials",
        "access-denied",
        "unreachable",
        "not-marketo",
        "quota",
        "marketo-error",
      ])
      .optional(),
    code: z.string().nullable().optional(),
    leadFields: z.number().optional(),
    quotaUsedToday: z.number().nullable().optional(),
  })
  .openapi("ConnectionReport");

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

const create = createRoute({
  method: "post",
  path: "/v1/destinations",
  summary:
    "Connect a Marketo instance: it starts sending at once, in every process on the database",
  security: SECURED,
  request: { body: json(CreateBody) },
  responses: {
    201: jsonResponse(AnyJson, "the destination (never its secret)"),
    400: jsonResponse(ErrorSchema, "a field is missing or wrong (each issue names it)"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    409: jsonResponse(ErrorSchema, "the name is taken"),
  },
});

const getOne = createRoute({
  method: "get",
  path: "/v1/destinations/{name}",
  summary: "One destination: settings (never the secret), pause, calls, quota, queue",
  security: SECURED,
  request: { params: nameParam },
  responses: {
    200: jsonResponse(AnyJson, "the destination"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
  },
});

const edit = createRoute({
  method: "patch",
  path: "/v1/destinations/{name}",
  summary:
    "Change a destination created through the API; new credentials take effect at once (new client, new token)",
  security: SECURED,
  request: { params: nameParam, body: json(ChangeBody) },
  responses: {
    200: jsonResponse(AnyJson, "the destination"),
    400: jsonResponse(ErrorSchema, "a field is wrong (each issue names it)"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
    409: jsonResponse(ErrorSchema, "the destination comes from the config file: edit the file"),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/destinations/{name}",
  summary:
    "Remove a destination. With leads waiting: waiting=refuse (default) answers 409 with their count; waiting=pause keeps them paused until the name is created again",
  security: SECURED,
  request: {
    params: nameParam,
    query: z.object({
      waiting: z
        .enum(["refuse", "pause"])
        .default("refuse")
        .openapi({ description: "what to do with leads still waiting to be sent" }),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ removed: z.string(), held: z.number() }),
      "removed; `held` leads wait paused",
    ),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
    409: jsonResponse(
      AnyJson,
      "leads are waiting (counted by status), or it comes from the config file",
    ),
  },
});

const testDraft = createRoute({
  method: "post",
  path: "/v1/destinations/test",
  summary:
    "Test connection before saving: get a token and read Describe Lead; says what is wrong (bad credentials, access denied, unreachable, not a Marketo URL)",
  security: SECURED,
  request: { body: json(DraftBody) },
  responses: {
    200: jsonResponse(ConnectionReportSchema, "the test's result, ok or the problem in words"),
    400: jsonResponse(ErrorSchema, "a field is missing or wrong"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

const testSaved = createRoute({
  method: "post",
  path: "/v1/destinations/{name}/test",
  summary: "Test connection of a saved destination with its stored credentials",
  security: SECURED,
  request: { params: nameParam },
  responses: {
    200: jsonResponse(ConnectionReportSchema, "the test's result, ok or the problem in words"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(ErrorSchema, "no such destination"),
  },
});

/** Connecting, editing, testing and removing destinations at runtime (the catalog). */
export function destinationCatalogRoutes(app: Api, deps: ApiDeps): void {
  const { gateway, store, now } = deps;
  const access = (): CatalogAccess => ({
    catalog: store,
    keys: gateway.keys,
    configNames: new Set(
      gateway.destinations.filter((d) => d.source === "config").map((d) => d.name),
    ),
    now,
  });
  const running = (name: string): Destination => {
    const found = gateway.destinations.find((d) => d.name === name);
    if (!found) throw new UnknownDestinationError(`no destination named "${name}"`, name);
    return found;
  };

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    await createDestination(access(), body);
    await gateway.syncDestinations();
    return c.json(await destinationState(deps, running(body.name)), 201);
  });

  app.openapi(getOne, async (c) => {
    return c.json(await destinationState(deps, running(c.req.valid("param").name)), 200);
  });

  app.openapi(edit, async (c) => {
    const { name } = c.req.valid("param");
    await editDestination(access(), name, c.req.valid("json"));
    await gateway.syncDestinations();
    return c.json(await destinationState(deps, running(name)), 200);
  });

  app.openapi(remove, async (c) => {
    const { name } = c.req.valid("param");
    const { waiting } = c.req.valid("query");
    const catalog = access();
    // Refused before anything stops: a config destination's sending goes on untouched.
    if (catalog.configNames.has(name)) throw new ReadOnlyDestinationError(name);
    try {
      const held = await gateway.whileStopped(name, () =>
        removeDestination(catalog, name, waiting),
      );
      return c.json({ removed: name, held }, 200);
    } catch (error) {
      if (!(error instanceof LeadsWaitingError)) throw error;
      return c.json(
        {
          error: error.message,
          waiting: error.waiting,
          total: error.total,
          choices: {
            refuse: "keep the destination until its leads are sent",
            pause: `DELETE /v1/destinations/${name}?waiting=pause: remove it and keep its leads paused until a destination named "${name}" is created again`,
          },
        },
        409,
      );
    }
  });

  app.openapi(testDraft, async (c) => {
    const body = c.req.valid("json");
    return c.json(
      await testConnection({
        baseUrl: body.baseUrl,
        clientId: body.clientId,
        clientSecret: body.clientSecret,
      }),
      200,
    );
  });

  app.openapi(testSaved, async (c) => {
    const { name } = c.req.valid("param");
    const credentials = gateway.credentialsOf(name);
    if (!credentials) return problem(c, 404, `no destination named "${name}"`);
    return c.json(await testConnection(credentials), 200);
  });
}
