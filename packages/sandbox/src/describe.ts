import { type Answer, ok } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import type { Route } from "./routes.ts";

/** §7.1 Describe Lead: one LeadAttribute per field. */
function describe(instance: Instance): Answer {
  return ok(
    instance.schema.fields.map((f) => {
      const row: Record<string, unknown> = {
        id: f.id,
        displayName: f.displayName,
        dataType: f.dataType,
      };
      if (f.length !== undefined) row.length = f.length;
      row.rest = { name: f.name, readOnly: f.readOnly };
      row.soap = { name: f.name.charAt(0).toUpperCase() + f.name.slice(1), readOnly: f.readOnly };
      return row;
    }),
  );
}

/** §7.2 Describe Lead2: one "API Lead" item with searchableFields and fields. */
function describe2(instance: Instance): Answer {
  return ok([
    {
      name: "API Lead",
      searchableFields: instance.schema.searchableFields(),
      fields: instance.schema.fields.map((f) => {
        const row: Record<string, unknown> = {
          name: f.name,
          displayName: f.displayName,
          dataType: f.dataType,
        };
        if (f.length !== undefined) row.length = f.length;
        row.updateable = !f.readOnly;
        row.crmManaged = false;
        return row;
      }),
    },
  ]);
}

/** §4: `GET /rest/v1/leads/partitions.json`. */
function partitions(instance: Instance): Answer {
  return ok(
    instance.partitions.map((p) => ({ id: p.id, name: p.name, description: p.description })),
  );
}

/** Routes of §7 and the partition list of §4. */
export function describeRoutes(instance: Instance): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/rest\/v1\/leads\/describe\.json$/,
      body: "none",
      latency: "read",
      handle: () => describe(instance),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/leads\/describe2\.json$/,
      body: "none",
      latency: "read",
      handle: () => describe2(instance),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/leads\/partitions\.json$/,
      body: "none",
      latency: "read",
      handle: () => partitions(instance),
    },
  ];
}
