import { type Answer, type CodeAndMessage, fail, ok, reason } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { maxBatch } from "./leads.ts";
import type { CustomObjectSpec } from "./options.ts";
import { page } from "./paging.ts";
import { type CallInput, isRecord, listParam, type Route } from "./routes.ts";
import { coerce, isoSeconds, shown } from "./schema.ts";

/** A stored custom object record. */
type CustomRecord = Record<string, unknown> & {
  marketoGUID: string;
  createdAt: string;
  updatedAt: string;
};

/** One custom object type with its records, keyed by GUID and by dedupe key. */
export class CustomObjectType {
  readonly spec: CustomObjectSpec;
  readonly records = new Map<string, CustomRecord>();
  readonly #byKey = new Map<string, string>();

  constructor(spec: CustomObjectSpec) {
    if (spec.dedupeFields.length < 1 || spec.dedupeFields.length > 3) {
      // §10.1: one to three dedupe fields.
      throw new TypeError(`customObjects: ${spec.name} needs 1 to 3 dedupeFields`);
    }
    for (const d of spec.dedupeFields) {
      if (!spec.fields.some((f) => f.name === d)) {
        throw new TypeError(`customObjects: ${spec.name} dedupe field ${d} is not a field`);
      }
    }
    this.spec = spec;
  }

  key(record: Record<string, unknown>): string | undefined {
    const parts: string[] = [];
    for (const d of this.spec.dedupeFields) {
      const v = record[d];
      if (v === undefined || v === null || v === "") return undefined;
      parts.push(String(v));
    }
    return JSON.stringify(parts);
  }

  byKey(key: string): CustomRecord | undefined {
    const guid = this.#byKey.get(key);
    return guid === undefined ? undefined : this.records.get(guid);
  }

  put(record: CustomRecord): void {
    this.records.set(record.marketoGUID, record);
    const key = this.key(record);
    if (key !== undefined) this.#byKey.set(key, record.marketoGUID);
  }

  delete(record: CustomRecord): void {
    this.records.delete(record.marketoGUID);
    const key = this.key(record);
    if (key !== undefined) this.#byKey.delete(key);
  }
}

function typeOf(instance: Instance, call: CallInput): CustomObjectType | undefined {
  return instance.customObjects.get(call.params[0] ?? "");
}

type Outcome = { seq: number; status: string; marketoGUID?: string; reasons?: CodeAndMessage[] };

function skip(seq: number, r: CodeAndMessage): Outcome {
  return { seq, status: "skipped", reasons: [r] };
}

/**
 * §10.1 Sync Custom Objects. dedupeBy dedupeFields (default) or idField (`marketoGUID`, only
 * with updateOnly). Skips: 1006 unknown field, 1001 type, 1004 link to an unknown lead,
 * 1003 a record without its dedupe fields (unverified code), 1017 createOnly on an existing
 * record and 1013 updateOnly on a missing one (unverified: the catalogue's object codes).
 */
function syncRecords(instance: Instance, call: CallInput): Answer {
  const type = typeOf(instance, call);
  // unverified: an unknown custom object API name answers 1013 "Object not found".
  if (type === undefined) return fail("1013");
  const body = call.body;
  if (!isRecord(body)) return fail("609");
  if (!Array.isArray(body.input) || body.input.length === 0) return fail("701", "input");
  if (body.input.length > maxBatch) return fail("1003");
  const action = body.action ?? "createOrUpdate";
  const dedupeBy = body.dedupeBy ?? "dedupeFields";
  if (!["createOnly", "updateOnly", "createOrUpdate"].includes(String(action))) return fail("1003");
  if (dedupeBy !== "dedupeFields" && dedupeBy !== "idField") return fail("1003");
  // §10.1: idField is valid only with updateOnly.
  if (dedupeBy === "idField" && action !== "updateOnly") return fail("1003");
  const now = isoSeconds(instance.clock.now());
  const fields = new Map(type.spec.fields.map((f) => [f.name, f]));
  return ok(
    body.input.map((item: unknown, seq: number): Outcome => {
      if (!isRecord(item)) return skip(seq, reason("1003"));
      const values: Record<string, unknown> = {};
      for (const [name, raw] of Object.entries(item)) {
        if (name === "marketoGUID") continue;
        const field = fields.get(name);
        if (field === undefined) return skip(seq, reason("1006", name));
        const checked = coerce(
          raw,
          field.dataType === "link" ? "integer" : field.dataType,
          field.length,
        );
        if (!checked.ok) return skip(seq, reason("1001", shown(raw), field.dataType));
        if (
          name === type.spec.leadLink &&
          checked.value !== null &&
          instance.leads.get(checked.value as number) === undefined
        ) {
          return skip(seq, reason("1004"));
        }
        values[name] = checked.value;
      }
      let existing: CustomRecord | undefined;
      if (dedupeBy === "idField") {
        if (typeof item.marketoGUID !== "string") return skip(seq, reason("1002", "marketoGUID"));
        existing = type.records.get(item.marketoGUID);
      } else {
        const key = type.key(values);
        if (key === undefined) return skip(seq, reason("1003"));
        existing = type.byKey(key);
      }
      if (existing !== undefined) {
        if (action === "createOnly") return skip(seq, reason("1017"));
        Object.assign(existing, values, { updatedAt: now });
        return { seq, status: "updated", marketoGUID: existing.marketoGUID };
      }
      if (action === "updateOnly") return skip(seq, reason("1013"));
      const record: CustomRecord = {
        ...values,
        marketoGUID: crypto.randomUUID(),
        createdAt: now,
        updatedAt: now,
      };
      type.put(record);
      return { seq, status: "created", marketoGUID: record.marketoGUID };
    }),
  );
}

/** §10.1 Delete Custom Objects: deleted, or skipped 1013. */
function deleteRecords(instance: Instance, call: CallInput): Answer {
  const type = typeOf(instance, call);
  if (type === undefined) return fail("1013");
  const body = call.body;
  if (!isRecord(body)) return fail("609");
  if (!Array.isArray(body.input) || body.input.length === 0) return fail("701", "input");
  if (body.input.length > maxBatch) return fail("1003");
  const byId = body.deleteBy === "idField";
  return ok(
    body.input.map((item: unknown, seq: number): Outcome => {
      if (!isRecord(item)) return skip(seq, reason("1003"));
      const key = byId ? undefined : type.key(item);
      const found = byId
        ? type.records.get(String(item.marketoGUID))
        : key === undefined
          ? undefined
          : type.byKey(key);
      if (found === undefined) return skip(seq, reason("1013"));
      type.delete(found);
      return { seq, status: "deleted", marketoGUID: found.marketoGUID };
    }),
  );
}

/** §10.1 query by a dedupe field or `idField`, with `seq` on each row. */
function queryRecords(instance: Instance, call: CallInput): Answer {
  const type = typeOf(instance, call);
  if (type === undefined) return fail("1013");
  const filterType = call.query.get("filterType") ?? "";
  if (filterType === "") return fail("701", "filterType");
  const values = listParam(call.query, "filterValues");
  if (values.length === 0) return fail("701", "filterValues");
  const field = filterType === "idField" ? "marketoGUID" : filterType;
  if (field !== "marketoGUID" && !type.spec.dedupeFields.includes(field))
    return fail("1011", filterType);
  const rows = [...type.records.values()].filter((r) => values.includes(String(r[field])));
  const p = page(
    rows,
    `co|${type.spec.name}|${field}|${values.join(",")}`,
    call.query.get("batchSize"),
    call.query.get("nextPageToken"),
  );
  if (!p.ok) return fail("1003");
  const wanted = listParam(call.query, "fields");
  const shownFields =
    wanted.length > 0
      ? wanted
      : ["marketoGUID", ...type.spec.dedupeFields, "createdAt", "updatedAt"];
  return ok(
    p.rows.map((r, seq) => {
      const row: Record<string, unknown> = { seq };
      for (const f of shownFields) if (r[f] !== undefined && r[f] !== null) row[f] = r[f];
      return row;
    }),
    p.extra,
  );
}

function describeType(type: CustomObjectType): Record<string, unknown> {
  return {
    name: type.spec.name,
    displayName: type.spec.displayName ?? type.spec.name,
    idField: "marketoGUID",
    dedupeFields: type.spec.dedupeFields,
    searchableFields: type.spec.dedupeFields.map((d) => [d]),
    relationships:
      type.spec.leadLink === undefined
        ? []
        : [{ field: type.spec.leadLink, type: "child", relatedTo: { name: "Lead", field: "id" } }],
  };
}

function listTypes(instance: Instance, call: CallInput): Answer {
  const names = listParam(call.query, "names");
  return ok(
    [...instance.customObjects.values()]
      .filter((t) => names.length === 0 || names.includes(t.spec.name))
      .map(describeType),
  );
}

function describe(instance: Instance, call: CallInput): Answer {
  const type = typeOf(instance, call);
  if (type === undefined) return fail("1013");
  return ok([
    {
      ...describeType(type),
      fields: type.spec.fields.map((f) => ({
        name: f.name,
        displayName: f.displayName ?? f.name,
        dataType: f.dataType,
        updateable: true,
      })),
    },
  ]);
}

/** Routes of §10.1. */
export function customObjectRoutes(instance: Instance): Route[] {
  const name = "([A-Za-z][A-Za-z0-9_]*)";
  return [
    {
      method: "GET",
      pattern: /^\/rest\/v1\/customobjects\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => listTypes(instance, c),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/rest/v1/customobjects/${name}/describe\\.json$`),
      body: "none",
      latency: "read",
      handle: (c) => describe(instance, c),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/rest/v1/customobjects/${name}/delete\\.json$`),
      body: "json",
      latency: "write",
      handle: (c) => deleteRecords(instance, c),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/rest/v1/customobjects/${name}\\.json$`),
      body: "json",
      latency: "write",
      handle: (c) => syncRecords(instance, c),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/rest/v1/customobjects/${name}\\.json$`),
      body: "none",
      latency: "read",
      handle: (c) => queryRecords(instance, c),
    },
  ];
}
