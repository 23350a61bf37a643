import { type Answer, type CodeAndMessage, fail, ok, reason } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { maxBatch } from "./leads.ts";
import type { ActivityTypeSpec } from "./options.ts";
import { type CallInput, isRecord, type Route } from "./routes.ts";
import { coerce, isoSeconds, shown } from "./schema.ts";

/** §10.2: the serialised attributes of one activity may not exceed 65,536 bytes (1049). */
const maxAttributesBytes = 65_536;

// §10.2: the doc example puts a skipped item's reasons under `errors`, not `reasons`.
function skip(r: CodeAndMessage): Record<string, unknown> {
  return { status: "skipped", errors: [r] };
}

const required = [
  "leadId",
  "activityDate",
  "activityTypeId",
  "primaryAttributeValue",
  "attributes",
];

/**
 * §10.2 Add Custom Activities. Skips: 1002 a missing required member, 1004 an unknown lead,
 * 1001 a bad date or attribute value, 1006 an unknown attribute, 1049 attributes too large.
 * unverified: an unknown activityTypeId is 1013 "Object not found" and a draft (unapproved)
 * type is 1003 "Invalid data".
 */
function addActivities(instance: Instance, call: CallInput): Answer {
  const body = call.body;
  if (!isRecord(body)) return fail("609");
  if (!Array.isArray(body.input) || body.input.length === 0) return fail("701", "input");
  if (body.input.length > maxBatch) return fail("1003");
  return ok(
    body.input.map((item: unknown) => {
      if (!isRecord(item)) return skip(reason("1003"));
      for (const name of required)
        if (item[name] === undefined || item[name] === null) return skip(reason("1002", name));
      const type = instance.activityTypes.find((t) => t.id === Number(item.activityTypeId));
      if (type === undefined) return skip(reason("1013"));
      if ((type.status ?? "approved") !== "approved") return skip(reason("1003"));
      const leadId = Number(item.leadId);
      if (!Number.isInteger(leadId) || instance.leads.get(leadId) === undefined)
        return skip(reason("1004"));
      const date = coerce(item.activityDate, "datetime");
      if (!date.ok || date.value === null)
        return skip(reason("1001", shown(item.activityDate), "datetime"));
      if (!Array.isArray(item.attributes)) return skip(reason("1003"));
      if (new TextEncoder().encode(JSON.stringify(item.attributes)).length > maxAttributesBytes) {
        return skip(reason("1049"));
      }
      const attributes: Array<{ name: string; value: unknown }> = [];
      for (const attr of item.attributes) {
        if (!isRecord(attr)) return skip(reason("1003"));
        const name = attr.apiName ?? attr.name;
        if (typeof name !== "string") return skip(reason("1003"));
        const spec = (type.attributes ?? []).find((a) => a.apiName === name || a.name === name);
        if (spec === undefined) return skip(reason("1006", name));
        const checked = coerce(attr.value, spec.dataType);
        if (!checked.ok) return skip(reason("1001", shown(attr.value), spec.dataType));
        // Read back under the display name, as the standard types' attributes are
        // (unverified for custom types); an empty attribute is left out, as for those.
        if (checked.value !== null)
          attributes.push({ name: spec.name ?? spec.apiName, value: checked.value });
      }
      const id = instance.recordActivity({
        leadId,
        activityTypeId: type.id,
        at: Date.parse(date.value as string),
        primaryAttributeValue: String(item.primaryAttributeValue),
        attributes,
      });
      return { id, marketoGUID: String(id), status: "added" };
    }),
  );
}

function describeType(type: ActivityTypeSpec, createdAt: number): Record<string, unknown> {
  return {
    id: type.id,
    apiName: type.apiName,
    name: type.name,
    description: "",
    primaryAttribute: {
      apiName: type.primaryAttribute.apiName,
      name: type.primaryAttribute.name ?? type.primaryAttribute.apiName,
      dataType: type.primaryAttribute.dataType,
    },
    attributes: (type.attributes ?? []).map((a) => ({
      apiName: a.apiName,
      name: a.name ?? a.apiName,
      dataType: a.dataType,
    })),
    status: type.status ?? "approved",
    createdAt: isoSeconds(createdAt),
    updatedAt: isoSeconds(createdAt),
  };
}

/** Routes of §10.2. */
export function activityRoutes(instance: Instance): Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/rest\/v1\/activities\/external\.json$/,
      body: "json",
      latency: "write",
      handle: (c) => addActivities(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/activities\/external\/types\.json$/,
      body: "none",
      latency: "read",
      handle: () => ok(instance.activityTypes.map((t) => describeType(t, instance.createdAt))),
    },
  ];
}
