import {
  type BatchResult,
  lookupKey,
  type MarketoClient,
  type RecordResult,
  type WriteOptions,
} from "@postout/marketo";
import { attemptRow, type Sent } from "./attempt-row.ts";
import { callHooks } from "./call-hooks.ts";
import type { AtStep, DeliveryContext } from "./delivery.ts";
import { endpointPath, leadFields, lookupFieldOf, type Route, requestContent } from "./route.ts";
import { failedAt, responseOf, stepOutcome, uncertainAfter } from "./step-result.ts";
import type { ClaimedLead } from "./store/store.ts";

/** Postout's id for a lead in Marketo's marker field: the lead, and when it was accepted. */
export function markerOf(lead: ClaimedLead): string {
  return `postout:${lead.id}:${lead.acceptedAt}`;
}

/** Whether a route creates without upserting: a resend could make a second lead. */
export function creates(route: Route): boolean {
  return (
    route.endpoint === "syncLeads" &&
    (route.action === "createOnly" || route.action === "createDuplicate")
  );
}

/** One record of the write and the leads of the batch it stands for (by batch position). */
interface Merged {
  readonly input: Record<string, unknown>;
  readonly positions: number[];
}

/**
 * The records of the write. For an upsert, leads with the same lookup value go into one record
 * (later fields win): Marketo would otherwise answer 1007/1036 for duplicates within a call, or
 * race two upserts of the same person. createOnly and createDuplicate never merge: two
 * records there are two people.
 */
export function mergeByLookup(
  route: Route,
  inputs: readonly Readonly<Record<string, unknown>>[],
): Merged[] {
  const field = lookupFieldOf(route);
  const merged: Merged[] = [];
  const byKey = new Map<string, Merged>();
  inputs.forEach((input, position) => {
    // Upserts only: Marketo treats two records with the same lookup value as one lead.
    const key = creates(route) ? undefined : lookupKey(input[field]);
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) {
      Object.assign(existing.input, input);
      existing.positions.push(position);
      return;
    }
    const entry = { input: { ...input }, positions: [position] };
    merged.push(entry);
    if (key !== undefined) byKey.set(key, entry);
  });
  return merged;
}

function write(
  client: MarketoClient,
  route: Route,
  inputs: Record<string, unknown>[],
  hooks: WriteOptions,
): Promise<BatchResult<Record<string, unknown>>> {
  if (route.endpoint === "pushLeads") {
    return client.pushLeads(inputs, {
      ...hooks,
      programName: route.programName,
      ...(route.source === undefined ? {} : { source: route.source }),
      ...(route.reason === undefined ? {} : { reason: route.reason }),
      ...(route.lookupField === undefined ? {} : { lookupField: route.lookupField }),
      ...(route.partitionName === undefined ? {} : { partitionName: route.partitionName }),
      ...(route.programStatus === undefined ? {} : { programStatus: route.programStatus }),
    });
  }
  return client.syncLeads(inputs, {
    ...hooks,
    // A lost create is looked up by verify.ts, after every call of the round is answered and
    // recorded: the client's own lookup could take a lead another concurrent call just made.
    lookUpLostCreates: false,
    ...(route.action === undefined ? {} : { action: route.action }),
    ...(route.lookupField === undefined ? {} : { lookupField: route.lookupField }),
    ...(route.partitionName === undefined ? {} : { partitionName: route.partitionName }),
  });
}

/** The lead step (Sync Leads or Push Lead) for a batch: one row per lead, in the batch's order. */
export async function sendLeads(
  ctx: DeliveryContext,
  route: Route,
  batch: readonly AtStep[],
): Promise<Sent[]> {
  // Fields meant for follow-up steps (custom object, activity) are not lead fields. A create
  // carries Postout's id for the lead in the destination's marker field, where it has one.
  const marker = creates(route) ? ctx.markerField : undefined;
  const merged = mergeByLookup(
    route,
    batch.map((at) => {
      const fields = leadFields(route, at.lead.input);
      return marker === undefined ? fields : { ...fields, [marker]: markerOf(at.lead) };
    }),
  );
  const endpoint = endpointPath(route);
  const requestOf = (at: AtStep) => requestContent(route, at.lead.input);
  const started = ctx.now();
  const answer = await write(
    ctx.client,
    route,
    merged.map((m) => m.input),
    callHooks(ctx, route, "lead", endpoint, (i) =>
      (merged[i]?.positions ?? []).map((p) => {
        const at = batch[p] as AtStep;
        return { at, request: requestOf(at) };
      }),
    ),
  );
  const at = ctx.now();
  const rows: Sent[] = new Array(batch.length);
  answer.results.forEach((result: RecordResult, i) => {
    for (const position of (merged[i] as Merged).positions) {
      const lead = batch[position] as AtStep;
      rows[position] = attemptRow(
        {
          leadId: lead.lead.id,
          step: "lead",
          at,
          endpoint: failedAt(result.error) ?? endpoint,
          request: requestOf(lead),
          response: responseOf(result),
          requestId: result.requestId,
          durationMs: Math.max(0, at - started),
          uncertain: uncertainAfter(result),
        },
        stepOutcome(ctx, lead, result, at),
      );
    }
  });
  return rows;
}
