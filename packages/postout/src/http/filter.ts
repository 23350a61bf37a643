import type { LeadFilter, LeadStatus } from "../store/store.ts";

/** The filter fields as the API's query or body schemas produce them (times still ISO text). */
export interface FilterInput {
  /** LeadIds as the list's query gives them. */
  readonly ids?: readonly string[] | undefined;
  readonly status?: readonly string[] | undefined;
  readonly code?: readonly string[] | undefined;
  readonly attemptCode?: readonly string[] | undefined;
  readonly destination?: string | undefined;
  readonly program?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly email?: string | undefined;
}

/** The store's filter from validated input; absent fields narrow nothing. */
export function leadFilter(input: FilterInput): LeadFilter {
  return {
    ...(input.ids?.length ? { ids: input.ids.map(Number) } : {}),
    ...(input.status?.length ? { status: input.status as LeadStatus[] } : {}),
    ...(input.code?.length ? { code: input.code } : {}),
    ...(input.attemptCode?.length ? { attemptCode: input.attemptCode } : {}),
    ...(input.destination === undefined ? {} : { destination: input.destination }),
    ...(input.program === undefined ? {} : { program: input.program }),
    ...(input.since === undefined ? {} : { since: Date.parse(input.since) }),
    ...(input.until === undefined ? {} : { until: Date.parse(input.until) }),
    ...(input.email === undefined ? {} : { email: input.email }),
  };
}
