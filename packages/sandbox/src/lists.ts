import { type Answer, assetOk, fail, failWith, ok, skipped } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { fieldsParam, maxBatch, projectLead } from "./leads.ts";
import type { ListSpec } from "./options.ts";
import { page } from "./paging.ts";
import { type CallInput, isRecord, listParam, type Route } from "./routes.ts";
import { isoSeconds } from "./schema.ts";

/** A static list and its members. */
export interface StaticList {
  id: number;
  spec: ListSpec;
  members: Set<number>;
  createdAt: number;
  updatedAt: number;
}

/** The static lists of the instance. */
export class Lists {
  readonly all: StaticList[];

  constructor(specs: readonly ListSpec[], createdAt: number) {
    let next = 1001;
    const used = new Set(specs.map((s) => s.id).filter((id) => id !== undefined));
    this.all = specs.map((spec) => {
      let id = spec.id;
      if (id === undefined) {
        while (used.has(next)) next++;
        id = next++;
      }
      return { id, spec, members: new Set(), createdAt, updatedAt: createdAt };
    });
  }

  byId(id: number): StaticList | undefined {
    return this.all.find((l) => l.id === id);
  }
}

/** §8.3 StaticList of the lead-database API. */
function asRow(list: StaticList): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: list.id,
    name: list.spec.name,
    description: list.spec.description ?? "",
    workspaceName: list.spec.workspaceName ?? "Default",
    createdAt: isoSeconds(list.createdAt),
    updatedAt: isoSeconds(list.updatedAt),
  };
  if (list.spec.programName !== undefined) row.programName = list.spec.programName;
  return row;
}

/** §8.3 static list of the asset API. */
function asAsset(list: StaticList): Record<string, unknown> {
  return {
    id: list.id,
    name: list.spec.name,
    createdAt: `${isoSeconds(list.createdAt)}+0000`,
    updatedAt: `${isoSeconds(list.updatedAt)}+0000`,
    folder: { id: 13, type: "Folder" },
    computedUrl: `https://app-sandbox.marketo.com/#ST${list.id}A1`,
  };
}

function listOf(instance: Instance, call: CallInput): StaticList | undefined {
  return instance.lists.byId(Number(call.params[0]));
}

/** Lead ids from `?id=` (repeated or comma-separated) or a JSON body `{input:[{id}]}` (§8.1). */
function leadIds(call: CallInput): unknown[] | Answer {
  const fromQuery = listParam(call.query, "id");
  if (fromQuery.length > 0) return fromQuery;
  if (call.body === undefined) return fail("701", "id");
  if (!isRecord(call.body) || !Array.isArray(call.body.input)) return fail("609");
  return call.body.input.map((item: unknown) => (isRecord(item) ? item.id : undefined));
}

type Verdict = (list: StaticList, id: number) => Record<string, unknown>;

/** Add, remove and member-of share their shape: ≤300 ids, one result per id, in order. */
function membership(instance: Instance, call: CallInput, verdict: Verdict): Answer {
  const list = listOf(instance, call);
  // §8.1: unverified: an unknown listId refuses the call with 1013 "Object not found".
  if (list === undefined) return fail("1013");
  const ids = leadIds(call);
  if (!Array.isArray(ids)) return ids;
  if (ids.length === 0) return fail("701", "id");
  if (ids.length > maxBatch) return fail("1003");
  return ok(
    ids.map((raw) => {
      const id = Number(raw);
      if (!Number.isInteger(id)) return { id: raw ?? null, ...skipped("1003") };
      if (instance.leads.get(id) === undefined) return { id, ...skipped("1004") };
      return verdict(list, id);
    }),
  );
}

function touch(instance: Instance, list: StaticList): void {
  list.updatedAt = instance.clock.now();
}

// unverified: adding a lead that is already a member answers "added" again.
function addToList(instance: Instance, call: CallInput): Answer {
  return membership(instance, call, (list, id) => {
    list.members.add(id);
    touch(instance, list);
    return { id, status: "added" };
  });
}

// §8.2: removed, or skipped with 1015 "Lead not in list" for a lead that is not a member.
function removeFromList(instance: Instance, call: CallInput): Answer {
  return membership(instance, call, (list, id) => {
    if (!list.members.delete(id)) return { id, ...skipped("1015") };
    touch(instance, list);
    return { id, status: "removed" };
  });
}

function isMember(instance: Instance, call: CallInput): Answer {
  return membership(instance, call, (list, id) => ({
    id,
    status: list.members.has(id) ? "memberof" : "notmemberof",
  }));
}

/** §6.4 Get Leads by List Id. */
function leadsOfList(instance: Instance, call: CallInput): Answer {
  const list = listOf(instance, call);
  if (list === undefined) return fail("1013");
  const fields = fieldsParam(instance, call.query);
  if (!Array.isArray(fields)) return fields;
  const ids = [...list.members].sort((a, b) => a - b);
  const p = page(
    ids,
    `list|${list.id}`,
    call.query.get("batchSize"),
    call.query.get("nextPageToken"),
  );
  if (!p.ok) return fail("1003");
  return ok(
    p.rows.flatMap((id) => {
      const lead = instance.leads.get(id);
      return lead === undefined ? [] : [projectLead(lead, fields)];
    }),
    p.extra,
  );
}

/** §8.3 `GET /rest/v1/lists.json` with optional id, name, programName, workspaceName filters. */
function getLists(instance: Instance, call: CallInput): Answer {
  const ids = listParam(call.query, "id").map(Number);
  const names = listParam(call.query, "name");
  const programs = listParam(call.query, "programName");
  const workspaces = listParam(call.query, "workspaceName");
  const rows = instance.lists.all.filter(
    (l) =>
      (ids.length === 0 || ids.includes(l.id)) &&
      (names.length === 0 || names.includes(l.spec.name)) &&
      (programs.length === 0 || programs.includes(l.spec.programName ?? "")) &&
      (workspaces.length === 0 || workspaces.includes(l.spec.workspaceName ?? "Default")),
  );
  const key = `lists|${call.query.toString()}`.replace(/&?nextPageToken=[^&]*/, "");
  const p = page(rows, key, call.query.get("batchSize"), call.query.get("nextPageToken"));
  if (!p.ok) return fail("1003");
  return ok(p.rows.map(asRow), p.extra);
}

// §13.3: get list by id answers 1013 "Object not found" for an unknown id.
function getList(instance: Instance, call: CallInput): Answer {
  const list = listOf(instance, call);
  return list === undefined ? fail("1013") : ok([asRow(list)]);
}

function staticListByName(instance: Instance, call: CallInput): Answer {
  const name = call.query.get("name");
  if (name === null || name === "") return failWith("701", "name cannot be blank");
  const list = instance.lists.all.find((l) => l.spec.name === name);
  return assetOk(list === undefined ? [] : [asAsset(list)]);
}

function staticListById(instance: Instance, call: CallInput): Answer {
  const list = listOf(instance, call);
  return assetOk(list === undefined ? [] : [asAsset(list)]);
}

/** Routes of §8 (and the legacy `/rest/v1/list/{id}/leads.json` path). */
export function listRoutes(instance: Instance): Route[] {
  const members = /^\/rest\/v1\/lists?\/(\d+)\/leads\.json$/;
  return [
    {
      method: "GET",
      pattern: /^\/rest\/v1\/lists\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => getLists(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/lists\/(\d+)\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => getList(instance, c),
    },
    {
      method: "POST",
      pattern: members,
      body: "optional-json",
      latency: "write",
      handle: (c) => addToList(instance, c),
    },
    {
      method: "DELETE",
      pattern: members,
      body: "optional-json",
      latency: "write",
      handle: (c) => removeFromList(instance, c),
    },
    {
      method: "GET",
      pattern: members,
      body: "none",
      latency: "read",
      handle: (c) => leadsOfList(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/lists\/(\d+)\/leads\/ismember\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => isMember(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/asset\/v1\/staticList\/byName\.json$/,
      body: "none",
      latency: "asset",
      handle: (c) => staticListByName(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/asset\/v1\/staticList\/(\d+)\.json$/,
      body: "none",
      latency: "asset",
      handle: (c) => staticListById(instance, c),
    },
  ];
}
