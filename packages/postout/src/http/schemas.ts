import { z } from "@hono/zod-openapi";
import type { Route } from "../route.ts";
import { LEAD_STATUSES } from "../store/store.ts";

/** Marketo field and object names: a letter, then letters, digits or _ (§7.3). */
const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "not a Marketo API name");
const name = z.string().min(1).max(255);

const followUps = {
  listName: name.optional(),
  customObject: z
    .strictObject({
      apiName,
      fields: z.array(apiName).min(1).max(100),
      linkField: apiName.optional(),
    })
    .optional(),
  activity: z
    .strictObject({
      activityTypeId: z.number().int().min(100_001),
      primaryAttributeField: apiName,
      attributeFields: z.array(apiName).max(20).optional(),
    })
    .optional(),
};

/** The routing section (src/route.ts): Sync Leads or Push Lead, then the follow-up steps. */
export const RouteSchema = z
  .discriminatedUnion("endpoint", [
    z.strictObject({
      endpoint: z.literal("syncLeads"),
      action: z.enum(["createOnly", "updateOnly", "createOrUpdate", "createDuplicate"]).optional(),
      lookupField: apiName.optional(),
      partitionName: name.optional(),
      ...followUps,
    }),
    z.strictObject({
      endpoint: z.literal("pushLeads"),
      programName: name,
      source: name.optional(),
      reason: name.optional(),
      programStatus: name.optional(),
      lookupField: apiName.optional(),
      partitionName: name.optional(),
      ...followUps,
    }),
  ])
  .openapi("Route");

/** One lead as the source sends it: column → scalar value. */
export const SourceLeadSchema = z
  .record(
    z.string().min(1).max(255),
    z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]),
  )
  .openapi("SourceLead");

/** A field map as in a map file (src/mapping/field-map.ts); checked by its own parser. */
export const FieldMapSchema = z
  .record(z.string(), z.unknown())
  .openapi("FieldMap", { description: "fields, constants, values, unmapped — as in a map file" });

export const MAX_BATCH = 1000;

export const IntakeBodySchema = z
  .strictObject({
    destination: name.optional(),
    route: RouteSchema,
    map: FieldMapSchema.optional(),
    leads: z.array(SourceLeadSchema).min(1).max(MAX_BATCH),
  })
  .openapi("IntakeRequest");

const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/, "an ISO 8601 time, e.g. 2026-11-23 or 2026-11-23T10:00Z")
  .refine((v) => !Number.isNaN(Date.parse(v)), "not a valid time");
const code = z.string().regex(/^[\w-]{1,32}$/, "a code such as 1006");
const status = z.enum(LEAD_STATUSES as [string, ...string[]]);
const leadId = z.string().regex(/^[1-9]\d{0,14}$/, "a lead id");

function commaList<T extends z.ZodType>(item: T, example: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const items = v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      for (const i of items) {
        const parsed = item.safeParse(i);
        if (!parsed.success) {
          ctx.addIssue({ code: "custom", message: `'${i}' is not valid (e.g. ${example})` });
          return z.NEVER;
        }
      }
      return items;
    });
}

/** The shared filters as query parameters (list and report). */
export const FilterQuerySchema = z.object({
  status: commaList(status, "needs_fix,retrying").openapi({
    description: `comma separated: ${LEAD_STATUSES.join(", ")}`,
  }),
  code: commaList(code, "1006,606").openapi({
    description: "last ResponseStatusCode, comma separated",
  }),
  attemptCode: commaList(code, "503,606").openapi({
    description:
      "a ResponseStatusCode any of the lead's calls was answered (calls tried again too), comma separated",
  }),
  destination: name.optional(),
  program: name.optional(),
  since: isoTime.optional().openapi({ description: "updated at or after (ISO 8601)" }),
  until: isoTime.optional().openapi({ description: "updated at or before (ISO 8601)" }),
  email: z.string().min(1).max(255).optional().openapi({ description: "email contains" }),
});

/** The shared filters as a JSON object (repost). */
export const FilterBodySchema = z
  .strictObject({
    status: z.array(status).max(10).optional(),
    code: z.array(code).max(100).optional(),
    attemptCode: z.array(code).max(100).optional(),
    destination: name.optional(),
    program: name.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    email: z.string().min(1).max(255).optional(),
  })
  .openapi("LeadFilter");

export const MAX_PAGE = 500;

export const ListQuerySchema = FilterQuerySchema.extend({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE, `at most ${MAX_PAGE} leads per page`)
    .default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "a cursor from nextCursor")
    .optional(),
  ids: commaList(leadId, "31,32")
    .refine((ids) => ids === undefined || ids.length <= MAX_PAGE, `at most ${MAX_PAGE} ids`)
    .openapi({
      description: `LeadId, comma separated (at most ${MAX_PAGE}): e.g. the ids a repost answered`,
    }),
});

export const ReportQuerySchema = FilterQuerySchema.extend({
  format: z.enum(["csv", "json"]).default("json"),
  attempts: z.enum(["true", "false"]).default("false"),
});

/** The range and bucket size of the codes over time (GET /v1/stats/codes). */
export const StatsQuerySchema = z.object({
  since: isoTime
    .optional()
    .openapi({ description: "attempts at or after (ISO 8601); default: until − 24 h" }),
  until: isoTime
    .optional()
    .openapi({ description: "attempts at or before (ISO 8601); default: now" }),
  destination: name.optional(),
  bucket: z
    .enum(["hour", "day"])
    .default("hour")
    .openapi({ description: "bucket size, aligned to UTC hours or days" }),
});

export const IdParamSchema = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "a lead id")
    .openapi({ param: { name: "id", in: "path" }, example: "42" }),
});

export const RepostBodySchema = z
  .strictObject({
    ids: z.array(z.number().int().positive()).min(1).max(10_000).optional(),
    filter: FilterBodySchema.optional(),
    all: z
      .boolean()
      .optional()
      .openapi({ description: "repost every lead (needed with no ids or filter)" }),
    map: FieldMapSchema.optional(),
  })
  .openapi("RepostRequest");

export const TestIntegrationBodySchema = z
  .strictObject({
    destination: name.optional(),
    route: RouteSchema,
    map: FieldMapSchema.optional(),
    lead: SourceLeadSchema,
  })
  .openapi("TestIntegrationRequest");

export const PauseBodySchema = z
  .strictObject({
    until: isoTime
      .optional()
      .openapi({ description: "when the pause ends; without it, until resumed" }),
    reason: z.string().min(1).max(500).optional(),
  })
  .openapi("PauseRequest");

export const ErrorSchema = z
  .object({
    error: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Error");

/** Responses whose shape is documented by example rather than schema-checked on the way out. */
export const AnyJson = z.record(z.string(), z.unknown());

/** The validated route as the gateway's type (JSON has no `undefined` values, so nothing is lost). */
export function routeOf(route: z.output<typeof RouteSchema>): Route {
  return JSON.parse(JSON.stringify(route)) as Route;
}
