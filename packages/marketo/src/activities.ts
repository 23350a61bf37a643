import type { Caller } from "./call.ts";
import { MarketoError } from "./errors.ts";

/**
 * One activity as Get Lead Activities returns it (help/rest-api/activities.md,
 * https://github.com/AdobeDocs/marketo-developer.en). Attributes left empty are omitted.
 */
export interface Activity {
  readonly id: number;
  /** The unique id Marketo is moving to, in place of `id`. */
  readonly marketoGUID: string;
  readonly leadId: number;
  /** ISO-8601, e.g. `2023-01-16T23:32:19Z`. */
  readonly activityDate: string;
  readonly activityTypeId: number;
  readonly campaignId?: number;
  /** The id behind the primary attribute (a program's id for Push Lead), when it has one. */
  readonly primaryAttributeValueId?: number;
  readonly primaryAttributeValue: string;
  readonly attributes: readonly { readonly name: string; readonly value: unknown }[];
}

export interface ActivityQuery {
  /** Activity type ids; sent in groups of 10, Marketo's maximum per call. */
  activityTypeIds: readonly number[];
  /** Only these leads' activities; sent in groups of 30, Marketo's maximum per call. */
  leadIds?: readonly number[];
  /** Activities dated at or after this time (to the second, rounded down). */
  since: Date;
  /**
   * Pages read per group before giving up with a `page_limit` error: a page scans at most
   * 300 activities, so the default reads up to 300,000 per group.
   * @default 1000
   */
  maxPages?: number;
}

const maxTypeIds = 10;
const maxLeadIds = 30;

function groups<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// paging-tokens.md: sinceDatetime as `yyyy-mm-ddThh:mm:ssZ`.
function sinceDatetime(since: Date): string {
  return `${since.toISOString().slice(0, 19)}Z`;
}

/** Get Paging Token: the date token activity reads start from. */
export async function pagingToken(caller: Caller, since: Date): Promise<string> {
  const envelope = await caller.call({
    endpoint: "getPagingToken",
    method: "GET",
    path: "/rest/v1/activities/pagingtoken.json",
    query: { sinceDatetime: sinceDatetime(since) },
  });
  if (envelope.nextPageToken === undefined || envelope.nextPageToken === "") {
    throw new MarketoError({
      code: "invalid_response",
      message: "Get Paging Token answered without a nextPageToken",
      requestId: envelope.requestId,
    });
  }
  return envelope.nextPageToken;
}

/**
 * Get Lead Activities, page by page until `moreResult` is false. A page may hold fewer than
 * 300 activities, even none, while more follow (Marketo scans 300 of every type per call);
 * empty pages are not yielded. With more than 10 type ids or 30 lead ids, each group is
 * read in turn, each oldest first.
 */
export async function* leadActivities(
  caller: Caller,
  query: ActivityQuery,
): AsyncGenerator<Activity[], void, undefined> {
  const maxPages = query.maxPages ?? 1000;
  const typeGroups = groups(query.activityTypeIds, maxTypeIds);
  const leadGroups = query.leadIds === undefined ? [undefined] : groups(query.leadIds, maxLeadIds);
  if (typeGroups.length === 0 || leadGroups.length === 0) return;
  const start = await pagingToken(caller, query.since);
  for (const activityTypeIds of typeGroups) {
    for (const leadIds of leadGroups) {
      let nextPageToken = start;
      for (let page = 0; ; page++) {
        if (page === maxPages) {
          throw new MarketoError({
            code: "page_limit",
            message: `Get Lead Activities still had more after ${maxPages} pages`,
          });
        }
        const envelope = await caller.call<Activity>({
          endpoint: "getLeadActivities",
          method: "GET",
          path: "/rest/v1/activities.json",
          query: { nextPageToken, activityTypeIds, leadIds },
        });
        if (envelope.result.length > 0) yield [...envelope.result];
        if (!envelope.moreResult || !envelope.nextPageToken) break;
        nextPageToken = envelope.nextPageToken;
      }
    }
  }
}
