import type { Step } from "./store/store.ts";

/** How a lead goes into Marketo: the routing section of the request (seed 003). */
export type Route = SyncRoute | PushRoute;

/**
 * Steps after the lead itself is delivered, each with the lead's Marketo id. A lead counts as
 * delivered only when every step succeeds; each step's call gets its own attempt row.
 */
export interface FollowUps {
  /** Add the delivered lead to this static list (§8.1). */
  readonly listName?: string;
  /** Write a custom object record linked to the lead (§10.1). */
  readonly customObject?: CustomObjectStep;
  /** Add a custom activity to the lead (§10.2). */
  readonly activity?: ActivityStep;
}

/** A custom object record per lead, made of mapped fields that are not lead fields. */
export interface CustomObjectStep {
  /** The custom object's API name, e.g. `car_c`. */
  readonly apiName: string;
  /** Mapped fields that belong to the custom object; they are taken out of the lead's own input. */
  readonly fields: readonly string[];
  /** The custom object field that holds the lead's id. @default "leadId" */
  readonly linkField?: string;
}

/** A custom activity per lead, made of mapped fields that are not lead fields. */
export interface ActivityStep {
  /** An approved custom activity type (ids from 100001 up). */
  readonly activityTypeId: number;
  /** The mapped field whose value is the activity's primary attribute. */
  readonly primaryAttributeField: string;
  /** Mapped fields sent as secondary attributes, by API name (at most 20, §10.2). */
  readonly attributeFields?: readonly string[];
}

/** Sync Leads (§4): upsert by a lookup field, then the follow-up steps. */
export interface SyncRoute extends FollowUps {
  readonly endpoint: "syncLeads";
  /** @default "createOrUpdate" */
  readonly action?: "createOnly" | "updateOnly" | "createOrUpdate" | "createDuplicate";
  /** @default "email" */
  readonly lookupField?: string;
  readonly partitionName?: string;
}

/** Push Lead (§5.1): upsert attributed to a program, with source and reason, optionally a program status. */
export interface PushRoute extends FollowUps {
  readonly endpoint: "pushLeads";
  readonly programName: string;
  readonly source?: string;
  readonly reason?: string;
  /** After the push, set the lead's status in the program (Change Lead Program Status, §9.2). */
  readonly programStatus?: string;
  /** @default "email" */
  readonly lookupField?: string;
  readonly partitionName?: string;
}

/** The field a route deduplicates on. */
export function lookupFieldOf(route: Route): string {
  return route.lookupField ?? "email";
}

/** A canonical key: two routes with the same key go into the same batch. */
export function routeKey(route: Route): string {
  const entries = Object.entries(route).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** The mapped fields that go to follow-up steps (custom object, activity) rather than to the lead. */
export function stepFields(route: Route): ReadonlySet<string> {
  return new Set([
    ...(route.customObject?.fields ?? []),
    ...(route.activity
      ? [route.activity.primaryAttributeField, ...(route.activity.attributeFields ?? [])]
      : []),
  ]);
}

/** The lead's own fields: its mapped input without the fields of follow-up steps. */
export function leadFields(
  route: Route,
  input: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const skip = stepFields(route);
  if (skip.size === 0) return { ...input };
  return Object.fromEntries(Object.entries(input).filter(([name]) => !skip.has(name)));
}

/** What was sent for one lead (seed 003's RequestContent): the routing section, then the input. */
export function requestContent(
  route: Route,
  input: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const {
    endpoint: _endpoint,
    listName: _listName,
    customObject: _customObject,
    activity: _activity,
    ...routing
  } = route;
  return { ...routing, input: input === undefined ? null : leadFields(route, input) };
}

/** The path of a route's lead step: Sync Leads or Push Lead. */
export function endpointPath(route: Route): string {
  return route.endpoint === "pushLeads" ? "/rest/v1/leads/push.json" : "/rest/v1/leads.json";
}

/**
 * Where a route's step writes. A static list's own path names its id, known only once the list
 * is looked up; before that, the lists endpoint stands for it.
 */
export function stepEndpoint(route: Route, step: Step): string {
  switch (step) {
    case "lead":
      return endpointPath(route);
    case "list":
      return "/rest/v1/lists.json";
    case "customObject":
      return `/rest/v1/customobjects/${route.customObject?.apiName}.json`;
    case "activity":
      return "/rest/v1/activities/external.json";
  }
}
