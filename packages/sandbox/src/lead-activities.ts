import type { Activity, Position } from "./activity-log.ts";
import { base32, unbase32 } from "./base32.ts";
import { type Answer, fail, ok } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { maxBatchSize } from "./paging.ts";
import { type CallInput, listParam, type Route } from "./routes.ts";
import { isoSeconds } from "./schema.ts";

// Get Paging Token and Get Lead Activities (help/rest-api/activities.md, paging-tokens.md at
// https://github.com/AdobeDocs/marketo-developer.en).

/** activities.md: up to ten activity type ids per call. */
const maxActivityTypeIds = 10;
/** activities.md: up to 30 lead ids per call. */
const maxLeadIds = 30;
/** migration.md: a listId whose list has 10,000 or more leads fails with 1003. */
const maxListMembers = 10_000;

// paging-tokens.md: a date token is base32 of `<date with ms>+0000,<last activity id>`
// (the doc's `GIYDAOBN…` decodes to `2008-11-06T00:00:00.000+0000,0`); ours are the same.
function token(p: Position): string {
  return base32(`${new Date(p.at).toISOString().slice(0, 23)}+0000,${p.id}`);
}

function position(value: string): Position | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\+0000,(\d+)$/.exec(unbase32(value) ?? "");
  if (m === null) return undefined;
  const at = Date.parse(`${m[1]}Z`);
  return Number.isNaN(at) ? undefined : { at, id: Number(m[2]) };
}

// paging-tokens.md: ISO 8601 with an offset or Z, e.g. 2016-09-15T15:53:00+05:00. Without a
// zone we read UTC (unverified: Marketo's reading of a zoneless time).
const sincePattern = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/;

function sinceMs(value: string): number | undefined {
  const m = sincePattern.exec(value);
  if (m === null) return undefined;
  const zoned =
    m[1] === undefined ? `${value}T00:00:00Z` : m[4] === undefined ? `${value}Z` : value;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `GET /rest/v1/activities/pagingtoken.json?sinceDatetime=…`: a token for that time. */
function pagingToken(call: CallInput): Answer {
  const since = call.query.get("sinceDatetime") ?? "";
  if (since === "") return fail("701", "sinceDatetime");
  const at = sinceMs(since);
  // §13.2 704 "Invalid date format": a date not in the expected format.
  if (at === undefined) return fail("704");
  return { kind: "envelope", body: { success: true, nextPageToken: token({ at, id: 0 }) } };
}

/** Positive integers of a list parameter, or undefined when one is not. */
function ids(query: URLSearchParams, name: string): number[] | undefined {
  const values = listParam(query, name).map(Number);
  return values.every((v) => Number.isSafeInteger(v) && v > 0) ? values : undefined;
}

/** The REST shape of one activity; `campaignId` is left out (no campaigns here). */
function asRow(a: Activity): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: a.id,
    marketoGUID: String(a.id),
    leadId: a.leadId,
    activityDate: isoSeconds(a.at),
    activityTypeId: a.activityTypeId,
  };
  if (a.primaryAttributeValueId !== undefined)
    row.primaryAttributeValueId = a.primaryAttributeValueId;
  row.primaryAttributeValue = a.primaryAttributeValue;
  row.attributes = a.attributes.map((x) => ({ name: x.name, value: x.value }));
  return row;
}

/**
 * `GET /rest/v1/activities.json`. A page reads the next window of up to 300 activities of
 * ALL types after the token (of the named leads or list, when given) and returns those of
 * the requested types, so a page may hold fewer than 300 (even none) with `moreResult`
 * true: Adobe KB ka-29362 describes Marketo doing so. `nextPageToken` is always returned.
 * Unverified: an unknown or malformed token is 1003 "Invalid data"; more than 10 type ids,
 * 30 lead ids or a bad id is 1003; an unknown listId is 1013; assetIds is ignored.
 */
function leadActivities(instance: Instance, call: CallInput): Answer {
  const { query } = call;
  const tokenValue = query.get("nextPageToken") ?? "";
  if (tokenValue === "") return fail("701", "nextPageToken");
  const typeIds = ids(query, "activityTypeIds");
  if (typeIds === undefined) return fail("1003");
  if (typeIds.length === 0) return fail("701", "activityTypeIds");
  if (typeIds.length > maxActivityTypeIds) return fail("1003");
  const leadIds = ids(query, "leadIds");
  if (leadIds === undefined || leadIds.length > maxLeadIds) return fail("1003");
  const from = position(tokenValue);
  if (from === undefined) return fail("1003");
  const requested = query.get("batchSize");
  const size = requested === null || requested === "" ? maxBatchSize : Number(requested);
  if (!Number.isInteger(size) || size < 1) return fail("1003");
  const leadSet = leadIds.length === 0 ? undefined : new Set(leadIds);
  let members: Set<number> | undefined;
  const listId = query.get("listId");
  if (listId !== null && listId !== "") {
    const list = instance.lists.byId(Number(listId));
    if (list === undefined) return fail("1013");
    if (list.members.size >= maxListMembers) return fail("1003");
    members = list.members;
  }
  const types = new Set(typeIds);
  const window = instance.activities.scan(
    from,
    Math.min(size, maxBatchSize),
    (leadId) => (leadSet?.has(leadId) ?? true) && (members?.has(leadId) ?? true),
  );
  const rows = window.rows.filter((a) => types.has(a.activityTypeId)).map(asRow);
  return ok(rows, { nextPageToken: token(window.next), moreResult: window.more });
}

/** Routes of Get Paging Token and Get Lead Activities. */
export function leadActivityRoutes(instance: Instance): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/rest\/v1\/activities\/pagingtoken\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => pagingToken(c),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/activities\.json$/,
      body: "none",
      latency: "read",
      handle: (c) => leadActivities(instance, c),
    },
  ];
}
