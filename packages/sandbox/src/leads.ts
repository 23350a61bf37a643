import { type Answer, type CodeAndMessage, fail, ok, reason, skipped } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import type { Lead } from "./lead-store.ts";
import { page } from "./paging.ts";
import { type CallInput, isRecord, listParam, type Route } from "./routes.ts";
import { coerce, type Field, isoSeconds, shown } from "./schema.ts";

/** §4: at most 300 records per call. */
export const maxBatch = 300;

const actions = ["createOnly", "updateOnly", "createOrUpdate", "createDuplicate"] as const;
type Action = (typeof actions)[number];

/** One lead's outcome in a sync: its result item and, on success, the lead. */
export type SyncOutcome =
  | { result: { id: number; status: "created" | "updated" }; lead: Lead }
  | {
      result: { status: "skipped"; reasons: CodeAndMessage[] };
      lead: undefined;
      /** The field a 1001 was about, so bulk import can name it in its failure file. */
      field?: Field;
    };

/** A sync's settings, checked once for the whole call. */
export interface SyncSettings {
  action: Action;
  lookupField: string;
  /** A reason every record is skipped with (bad lookupField or partition). */
  problem: CodeAndMessage | undefined;
  /** Partition for new leads and the partition check on updates. */
  partitionId: number | undefined;
}

function skip(code: string, ...args: Array<string | number>): SyncOutcome {
  return { result: skipped(code, ...args), lead: undefined };
}

/** §4 1001: `raw` is not of the field's type. */
function wrongType(field: Field, raw: unknown, dataType: string): SyncOutcome {
  return { result: skipped("1001", shown(raw), dataType), lead: undefined, field };
}

/** Checks action, lookupField and partitionName (§4). Undefined action means a bad one. */
export function syncSettings(
  instance: Instance,
  body: Record<string, unknown>,
  defaultAction: Action,
): SyncSettings | undefined {
  const action = body.action ?? defaultAction;
  if (!actions.includes(action as Action)) return undefined;
  const lookupField = typeof body.lookupField === "string" ? body.lookupField : "email";
  let problem: CodeAndMessage | undefined;
  const field = instance.schema.get(lookupField);
  // §4: an unknown lookupField is 1006; a standard field that cannot be a key is 1011.
  if (field === undefined) problem = reason("1006", lookupField);
  else if (!instance.schema.isSearchable(field)) problem = reason("1011", lookupField);
  let partitionId: number | undefined;
  // §4: partitionName is honoured only for createOnly and createOrUpdate.
  if (
    body.partitionName !== undefined &&
    (action === "createOnly" || action === "createOrUpdate")
  ) {
    const partition = instance.partitions.find((p) => p.name === body.partitionName);
    // unverified: an unknown partition reads as one the API user cannot access → 1008.
    if (partition === undefined) problem ??= reason("1008", String(body.partitionName));
    else partitionId = partition.id;
  }
  return { action: action as Action, lookupField, problem, partitionId };
}

/**
 * Syncs one lead record (§4): checks every field against the schema (1006 unknown, 1001
 * wrong type, 1003 `id` outside updateOnly), then creates or updates by the lookup field
 * (1004, 1005, 1007, 1010).
 */
export function syncOne(instance: Instance, settings: SyncSettings, record: unknown): SyncOutcome {
  if (settings.problem !== undefined)
    return { result: { status: "skipped", reasons: [settings.problem] }, lead: undefined };
  if (!isRecord(record)) return skip("1003");
  const { action, lookupField } = settings;
  const values: Record<string, unknown> = {};
  let id: number | undefined;
  for (const [name, raw] of Object.entries(record)) {
    const field = instance.schema.get(name);
    if (field === undefined) return skip("1006", name);
    if (name === "id") {
      // §4: id is system-managed; only updateOnly may send it, else 1003 "Invalid data".
      if (action !== "updateOnly") return skip("1003");
      const checked = coerce(raw, "integer");
      if (!checked.ok || checked.value === null) return wrongType(field, raw, "integer");
      id = checked.value as number;
      continue;
    }
    const checked = coerce(raw, field.dataType, field.length);
    if (!checked.ok) return wrongType(field, raw, field.dataType);
    // unverified: writes to system-managed fields (createdAt, inferred*) are ignored.
    if (!field.readOnly) values[name] = checked.value;
  }
  const now = isoSeconds(instance.clock.now());
  const partitionId = settings.partitionId ?? 1;
  if (action === "createDuplicate") {
    // §4: createDuplicate always creates, even when the key matches (unverified details).
    return created(instance, values, partitionId, now);
  }
  const key = lookupField === "id" ? id : values[lookupField];
  if (key === undefined || key === null) {
    if (action === "createOnly") {
      return created(instance, values, partitionId, now);
    }
    // §4: the lookup field must be present in every record that may update
    // (unverified code: we answer 1002 naming the field).
    return skip("1002", lookupField);
  }
  const matches = instance.leads.find(lookupField, key);
  if (action === "createOnly") {
    if (matches.length > 0) return skip("1005");
    return created(instance, values, partitionId, now);
  }
  if (matches.length > 1) return skip("1007");
  const lead = matches[0] === undefined ? undefined : instance.leads.get(matches[0]);
  if (lead === undefined) {
    if (action === "updateOnly") return skip("1004");
    return created(instance, values, partitionId, now);
  }
  // §4: a lead in another partition cannot be updated into the named one → 1010.
  if (settings.partitionId !== undefined && lead.leadPartitionId !== settings.partitionId) {
    return skip("1010");
  }
  instance.leads.update(lead, values, now);
  return { result: { id: lead.id, status: "updated" }, lead };
}

function created(
  instance: Instance,
  values: Record<string, unknown>,
  partitionId: number,
  now: string,
): SyncOutcome {
  const lead = instance.leads.create(values, partitionId, now);
  return { result: { id: lead.id, status: "created" }, lead };
}

/** Checks the common body of Sync Leads and Push Lead; an Answer when it is refused. */
export function checkInput(body: unknown): Answer | unknown[] {
  if (!isRecord(body)) return fail("609");
  const input = body.input;
  if (input === undefined || input === null || (Array.isArray(input) && input.length === 0)) {
    return fail("701", "input");
  }
  if (!Array.isArray(input)) return fail("609");
  // §4: 300 records per call. unverified: we refuse the whole call with 1003 "Invalid data".
  if (input.length > maxBatch) return fail("1003");
  return input;
}

function syncLeads(instance: Instance, call: CallInput): Answer {
  const input = checkInput(call.body);
  if (!Array.isArray(input)) return input;
  const settings = syncSettings(instance, call.body as Record<string, unknown>, "createOrUpdate");
  // unverified: an unknown action refuses the call with 1003 "Invalid data".
  if (settings === undefined) return fail("1003");
  return ok(input.map((record) => syncOne(instance, settings, record).result));
}

// §6.2: default fields of lead reads.
const defaultFields = ["id", "email", "updatedAt", "createdAt", "firstName", "lastName"];

/** The requested fields, or the 1006 answer for an unknown one. */
export function fieldsParam(instance: Instance, query: URLSearchParams): string[] | Answer {
  const fields = listParam(query, "fields");
  if (fields.length === 0) return defaultFields;
  for (const name of fields) if (instance.schema.get(name) === undefined) return fail("1006", name);
  return fields.includes("id") ? fields : ["id", ...fields];
}

/** A lead as read: the requested fields; absent or null fields are omitted (§6.1). */
export function projectLead(lead: Lead, fields: readonly string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const name of fields) {
    const value = lead[name];
    if (value !== undefined && value !== null) row[name] = value;
  }
  return row;
}

/** §6.2: Get Leads by Filter Type, also reached by `POST …?_method=GET` (§6.3). */
function leadsByFilter(instance: Instance, call: CallInput): Answer {
  const { query } = call;
  const filterType = query.get("filterType") ?? "";
  if (filterType === "") return fail("701", "filterType");
  const values = listParam(query, "filterValues");
  if (values.length === 0) return fail("701", "filterValues");
  // §6.2: at most 300 filter values. unverified: we answer 1003 "Invalid data" past that.
  if (values.length > 300) return fail("1003");
  const field = instance.schema.get(filterType);
  if (field === undefined) return fail("1006", filterType);
  if (!instance.schema.isSearchable(field)) return fail("1011", filterType);
  const fields = fieldsParam(instance, query);
  if (!Array.isArray(fields)) return fields;
  const ids = new Set<number>();
  for (const value of values) for (const id of instance.leads.find(filterType, value)) ids.add(id);
  // §6.2: more than 1,000 matches is 1003 (placement unverified: response level).
  if (ids.size > 1000)
    return {
      kind: "envelope",
      body: {
        success: false,
        errors: [{ code: "1003", message: "Too many results match the filter" }],
      },
    };
  const sorted = [...ids].sort((a, b) => a - b);
  const p = page(
    sorted,
    `leads|${filterType}|${values.join(",")}`,
    query.get("batchSize"),
    query.get("nextPageToken"),
  );
  if (!p.ok) return fail("1003");
  const rows = p.rows.map((id) => projectLead(instance.leads.get(id) as Lead, fields));
  return ok(rows, p.extra);
}

/** §6.1: Get Lead by Id; an unknown id is an empty result (unverified, by analogy). */
function leadById(instance: Instance, call: CallInput): Answer {
  const id = Number(call.params[0]);
  const fields = fieldsParam(instance, call.query);
  if (!Array.isArray(fields)) return fields;
  const lead = Number.isInteger(id) ? instance.leads.get(id) : undefined;
  return ok(lead === undefined ? [] : [projectLead(lead, fields)]);
}

// Marketo's standard type id of "Push Lead to Marketo" (third-party lists of the standard
// types, e.g. Talend's Marketo connector; unverified in Adobe's docs).
const pushLeadActivityTypeId = 145;

/**
 * The Push Lead activity's attributes. §5.1: source and reason become attributes; empty
 * ones are left out, as Get Activity Types describes (unverified: the names).
 */
function pushAttributes(
  body: Record<string, unknown>,
  programStatus: string | undefined,
): Array<{ name: string; value: unknown }> {
  const attributes: Array<{ name: string; value: unknown }> = [];
  const add = (name: string, value: unknown): void => {
    if (value !== undefined && value !== null && value !== "") attributes.push({ name, value });
  };
  add("Source", body.source);
  add("Reason", body.reason);
  add("Program Status", programStatus);
  return attributes;
}

/** §5.1: Push Lead to Marketo: an upsert attributed to a program, with source and reason. */
function pushLead(instance: Instance, call: CallInput): Answer {
  const input = checkInput(call.body);
  if (!Array.isArray(input)) return input;
  const body = call.body as Record<string, unknown>;
  if (typeof body.programName !== "string" || body.programName === "")
    return fail("701", "programName");
  const program = instance.programs.byName(body.programName);
  // §5.1: the error for an unknown programName is unverified; we answer 1013 "Object not found".
  if (program === undefined) return fail("1013");
  const settings = syncSettings(instance, { ...body, action: "createOrUpdate" }, "createOrUpdate");
  if (settings === undefined) return fail("1003");
  const programStatus = typeof body.programStatus === "string" ? body.programStatus : undefined;
  const status = programStatus === undefined ? undefined : program.status(programStatus);
  const results = input.map((record) => {
    // §9.2's 1025 applies as well to a programStatus that is not in the channel (unverified).
    if (programStatus !== undefined && status === undefined) return skipped("1025");
    const outcome = syncOne(instance, settings, record);
    if (outcome.lead === undefined) return outcome.result;
    program.push(outcome.lead.id, status, instance.clock.now());
    instance.recordActivity({
      leadId: outcome.lead.id,
      activityTypeId: pushLeadActivityTypeId,
      at: instance.clock.now(),
      primaryAttributeValueId: program.id,
      primaryAttributeValue: program.name,
      attributes: pushAttributes(body, status?.name),
    });
    return outcome.result;
  });
  return ok(results);
}

/** Routes of §4, §5.1, §6.1–6.3. */
export function leadRoutes(instance: Instance): Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/rest\/v1\/leads\.json$/,
      body: "json",
      latency: "write",
      handle: (c) => syncLeads(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/leads\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => leadsByFilter(instance, c),
    },
    {
      method: "POST",
      pattern: /^\/rest\/v1\/leads\/push\.json$/,
      body: "json",
      latency: "write",
      handle: (c) => pushLead(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/lead\/([^/]+)\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => leadById(instance, c),
    },
  ];
}
