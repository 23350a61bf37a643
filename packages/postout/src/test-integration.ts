import type { Gateway } from "./gateway.ts";
import type { FieldMap } from "./mapping/field-map.ts";
import { preparer } from "./prepare.ts";
import type { Route } from "./route.ts";
import type { LeadStatus } from "./store/store.ts";

/** What seed 003's Test Integration modal shows: the Request and the Response of one lead. */
export interface TestIntegrationResult {
  readonly leadId: number;
  readonly status: LeadStatus | undefined;
  /** Where the request went (`/rest/v1/leads.json`, or `preflight` when no call was spent). */
  readonly endpoint: string | undefined;
  /** The routing section, then the input fields. */
  readonly request: unknown;
  readonly response: unknown;
  readonly responseStatusCode: string | undefined;
  readonly responseReason: string | null;
  readonly fix: string | null;
}

/**
 * Sends one lead through mapping, preflight and routing to Marketo now, and keeps it in the
 * log as a test. Used by `postout test-integration` and `POST /v1/test-integration`.
 */
export async function testIntegration(
  gateway: Gateway,
  options: {
    readonly raw: Readonly<Record<string, unknown>>;
    readonly route: Route;
    readonly map: FieldMap;
    readonly destination?: string | undefined;
  },
): Promise<TestIntegrationResult> {
  const destination = gateway.destination(options.destination);
  const prepare = preparer({
    map: options.map,
    route: options.route,
    schema: (opts) => destination.schema(opts),
    markerField: destination.markerField,
  });
  const { ids } = await gateway.accept([{ raw: options.raw }], {
    destination: destination.name,
    route: options.route,
    prepare,
    source: "test-integration",
    test: true,
  });
  await destination.dispatcher.drain();
  const id = ids[0] as number;
  const lead = await gateway.store.getLead(id);
  const last = (await gateway.store.getAttempts(id)).at(-1);
  return {
    leadId: id,
    status: lead?.status,
    endpoint: last?.endpoint,
    request: last?.request,
    response: last?.response ?? null,
    responseStatusCode: last?.statusCode,
    responseReason: last?.reason ?? null,
    fix: lead?.fix ?? null,
  };
}
