import { type LeadSchema as DescribedSchema, isMarketoError } from "@postout/marketo";
import type { Prepared } from "./gateway.ts";
import type { FieldValue } from "./intake/items.ts";
import { creates } from "./lead-step.ts";
import type { FieldMap } from "./mapping/field-map.ts";
import { mapLead } from "./mapping/map-lead.ts";
import { preflight } from "./mapping/preflight.ts";
import type { Problem } from "./mapping/problem.ts";
import { type LeadSchema, leadSchema } from "./mapping/schema.ts";
import { leadFields, type Route } from "./route.ts";

function refusedBy(problems: readonly Problem[]) {
  const [first] = problems;
  return {
    code: first?.code ?? "mapping",
    reason: problems.map((p) => p.message).join("; "),
    fix: problems.map((p) => p.fix).join(" "),
  };
}

/** Each describe answer as preflight reads it, made once: every intake request asks again. */
const readSchemas = new WeakMap<DescribedSchema, LeadSchema>();

/** The destination's describe schema as preflight reads it. */
export function schemaOf(described: DescribedSchema): LeadSchema {
  let schema = readSchemas.get(described);
  if (!schema) {
    schema = leadSchema(described.fields);
    readSchemas.set(described, schema);
  }
  return schema;
}

/**
 * The intake step between a source row and the store: the field map, then preflight against
 * the destination's describe schema. A lead that fails either is stored as needs_fix with the
 * Marketo code it would have earned (1006, 1001, 1002 …) and the fix naming the field, so no
 * call is spent on it. An unknown field (1006) makes the schema be fetched again once: the
 * field may have been created in Marketo since the schema was cached.
 */
export function preparer(options: {
  readonly map: FieldMap;
  readonly route: Route;
  /** The destination's schema; `refresh` asks Marketo again. */
  readonly schema: (options?: { readonly refresh?: boolean }) => Promise<DescribedSchema>;
  /** The destination's markerField: a create route's leads are sent with it, so it must exist. */
  readonly markerField?: string | undefined;
}): (raw: Readonly<Record<string, unknown>>) => Promise<Prepared> {
  const { route, markerField } = options;
  const preflightRoute = {
    lookupField: route.lookupField,
    ...(route.endpoint === "syncLeads" ? { action: route.action } : {}),
  };
  // Refused before any call when the destination's marker field is not in its schema: every
  // create would otherwise meet a 1006 for a field no map names.
  const markerMissing = (schema: LeadSchema): Problem[] =>
    markerField === undefined || !creates(route) || schema.fields.has(markerField)
      ? []
      : [
          {
            code: "1006",
            field: markerField,
            message: `Field '${markerField}' not found (the destination's markerField)`,
            fix: `Create a text field '${markerField}' for Postout in Marketo (Admin → Field Management), or remove markerField from the destination's configuration.`,
          },
        ];
  const check = (lead: Parameters<typeof preflight>[0], schema: LeadSchema) => {
    const checked = preflight(lead, schema, preflightRoute);
    return { ...checked, problems: [...checked.problems, ...markerMissing(schema)] };
  };
  // Marketo unreachable, bad credentials, quota spent: the lead is still accepted, without
  // preflight. Its send then meets the same failure and is retried or paused, never lost.
  const fetchSchema = (refresh: boolean): Promise<LeadSchema | undefined> =>
    options.schema(refresh ? { refresh } : {}).then(schemaOf, (error: unknown) => {
      if (isMarketoError(error)) return undefined;
      throw error;
    });
  let schema: Promise<LeadSchema | undefined> | undefined;
  let refreshed = false;
  return async (raw) => {
    const mapped = mapLead(raw as Readonly<Record<string, FieldValue>>, options.map);
    if (!mapped.ok) return { refused: refusedBy(mapped.problems) };
    schema ??= fetchSchema(false);
    const described = await schema;
    if (!described) return { input: mapped.lead };
    // Fields for follow-up steps (custom object, activity) are not checked as lead fields.
    const own = leadFields(route, mapped.lead) as typeof mapped.lead;
    let checked = check(own, described);
    if (!refreshed && checked.problems.some((p) => p.code === "1006")) {
      refreshed = true;
      schema = fetchSchema(true);
      const fresh = await schema;
      // No fresh schema to be had: the cached one still stands.
      if (fresh) checked = check(own, fresh);
      else schema = Promise.resolve(described);
    }
    if (checked.problems.length > 0) {
      return { refused: refusedBy(checked.problems), input: mapped.lead };
    }
    return { input: { ...mapped.lead, ...checked.lead } };
  };
}
