/** How a lead goes into Marketo: the routing section of the request (seed 003). */
export type Route = SyncRoute | PushRoute;

/** Sync Leads (§4): upsert by a lookup field, optionally then into a static list or program status. */
export interface SyncRoute {
  readonly endpoint: "syncLeads";
  /** @default "createOrUpdate" */
  readonly action?: "createOnly" | "updateOnly" | "createOrUpdate" | "createDuplicate";
  /** @default "email" */
  readonly lookupField?: string;
  readonly partitionName?: string;
  /** Add the delivered lead to this static list. */
  readonly listName?: string;
}

/** Push Lead (§5.1): upsert attributed to a program, with source and reason, optionally a program status. */
export interface PushRoute {
  readonly endpoint: "pushLeads";
  readonly programName: string;
  readonly source?: string;
  readonly reason?: string;
  /** After the push, set the lead's status in the program (Change Lead Program Status, §9.2). */
  readonly programStatus?: string;
  /** @default "email" */
  readonly lookupField?: string;
  readonly partitionName?: string;
  readonly listName?: string;
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

/** What was sent for one lead (seed 003's RequestContent): the routing section, then the input. */
export function requestContent(
  route: Route,
  input: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const { endpoint: _endpoint, listName: _listName, ...routing } = route;
  return { ...routing, input: input ?? null };
}
