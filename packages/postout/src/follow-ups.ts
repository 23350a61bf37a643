import {
  type BatchResult,
  explainCode,
  isMarketoError,
  type MarketoError,
  type RecordResult,
} from "@postout/marketo";
import { attemptRow, type Sent } from "./attempt-row.ts";
import { callHooks } from "./call-hooks.ts";
import type { AtStep, DeliveryContext } from "./delivery.ts";
import { type Route, stepEndpoint } from "./route.ts";
import { failedAt, responseOf, stepOutcome, uncertainAfter } from "./step-result.ts";
import type { Step } from "./store/store.ts";

/**
 * The follow-up steps of a route, each for the leads whose lead step is done: add to a static
 * list, write a custom object record, add a custom activity. Each lead gets one row per step,
 * in the batch's order; a lead that fails a step stops there, and its retry starts at that
 * step (the steps before it are not repeated).
 */

interface StepCall {
  readonly step: Step;
  readonly endpoint: string;
  readonly request: (at: AtStep, i: number) => unknown;
  /** One result per lead, in order; `undefined` when the step's target does not exist. */
  readonly results: BatchResult | undefined;
  /** What to record when the target does not exist (e.g. an unknown list). */
  readonly missing?: { readonly code: string; readonly message: string };
  /** The call failed as a whole (e.g. the list lookup met a 607): every lead gets this error. */
  readonly error?: MarketoError;
  /** What the step's success is called in the log. */
  readonly delivered: string;
}

function missingResult(index: number, code: string, message: string): RecordResult {
  return {
    index,
    input: undefined,
    status: "skipped",
    id: undefined,
    marketoStatus: "skipped",
    reasons: [explainCode(code, message)],
    requestId: undefined,
  };
}

function failedResult(index: number, error: MarketoError): RecordResult {
  return {
    index,
    input: undefined,
    status: "failed",
    id: undefined,
    marketoStatus: undefined,
    reasons: [explainCode(error.code, error.message)],
    requestId: error.requestId,
    error,
  };
}

function rows(
  ctx: DeliveryContext,
  batch: readonly AtStep[],
  call: StepCall,
  started: number,
): Sent[] {
  const at = ctx.now();
  return batch.map((lead, i) => {
    const result =
      call.results?.results[i] ??
      (call.error ? failedResult(i, call.error) : undefined) ??
      missingResult(
        i,
        call.missing?.code ?? "unknown",
        call.missing?.message ?? "no answer for this lead",
      );
    return attemptRow(
      {
        leadId: lead.lead.id,
        step: call.step,
        at,
        endpoint: failedAt(result.error) ?? call.endpoint,
        request: call.request(lead, i),
        response: responseOf(result),
        requestId: result.requestId,
        durationMs: at - started,
        uncertain: uncertainAfter(result),
      },
      stepOutcome(ctx, lead, result, at, { delivered: call.delivered }),
    );
  });
}

/** The lead's Marketo id: a follow-up step only runs once the lead step gave one. */
function idOf(at: AtStep): number {
  return at.marketoId as number;
}

export async function addToList(
  ctx: DeliveryContext,
  route: Route,
  listName: string,
  batch: readonly AtStep[],
): Promise<Sent[]> {
  const started = ctx.now();
  let list: Record<string, unknown> | undefined;
  let error: MarketoError | undefined;
  try {
    list = await ctx.client.getListByName(listName);
  } catch (thrown) {
    // The lookup is a plain call that throws (607, network …): it becomes each lead's outcome
    // at this step; the lead step that already succeeded is not repeated.
    if (!isMarketoError(thrown)) throw thrown;
    error = thrown;
  }
  const listId = typeof list?.id === "number" ? list.id : undefined;
  const endpoint =
    listId === undefined ? "/rest/v1/lists.json" : `/rest/v1/lists/${listId}/leads.json`;
  const request = (at: AtStep) => ({
    listName,
    ...(listId === undefined ? {} : { listId }),
    input: [{ id: idOf(at) }],
  });
  const results =
    listId === undefined
      ? undefined
      : await ctx.client.addToList(
          listId,
          batch.map(idOf),
          callHooks(ctx, route, "list", endpoint, (i) => {
            const at = batch[i];
            return at ? [{ at, request: request(at) }] : [];
          }),
        );
  return rows(
    ctx,
    batch,
    {
      step: "list",
      endpoint,
      request,
      results,
      missing: { code: "1013", message: `Static list '${listName}' not found` },
      ...(error ? { error } : {}),
      delivered: `added to list '${listName}'`,
    },
    started,
  );
}

function pick(
  input: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => input[f] !== undefined).map((f) => [f, input[f]]));
}

export async function syncCustomObject(
  ctx: DeliveryContext,
  route: Route,
  step: NonNullable<Route["customObject"]>,
  batch: readonly AtStep[],
): Promise<Sent[]> {
  const started = ctx.now();
  const link = step.linkField ?? "leadId";
  const records = batch.map((at) => ({ ...pick(at.lead.input, step.fields), [link]: idOf(at) }));
  const endpoint = stepEndpoint(route, "customObject");
  const request = (_at: AtStep, i: number) => ({
    action: "createOrUpdate",
    dedupeBy: "dedupeFields",
    input: [records[i]],
  });
  const results = await ctx.client.syncCustomObjects(
    step.apiName,
    records,
    callHooks(ctx, route, "customObject", endpoint, (i) => {
      const at = batch[i];
      return at ? [{ at, request: request(at, i) }] : [];
    }),
  );
  return rows(
    ctx,
    batch,
    {
      step: "customObject",
      endpoint,
      request,
      results,
      delivered: `custom object ${step.apiName} written`,
    },
    started,
  );
}

/**
 * The custom activity a lead's route adds. Its date is the time the lead was accepted, the
 * same on every resend: with the lead, the type and the primary value it tells our activity
 * from any other when a lost call is looked for (verify.ts).
 */
export function activityOf(step: NonNullable<Route["activity"]>, at: AtStep) {
  const input = at.lead.input;
  return {
    leadId: idOf(at),
    activityDate: new Date(at.lead.acceptedAt).toISOString(),
    activityTypeId: step.activityTypeId,
    primaryAttributeValue: String(input[step.primaryAttributeField] ?? ""),
    attributes: (step.attributeFields ?? [])
      .filter((f) => input[f] !== undefined)
      .map((f) => ({ apiName: f, value: input[f] })),
  };
}

export async function addActivity(
  ctx: DeliveryContext,
  route: Route,
  step: NonNullable<Route["activity"]>,
  batch: readonly AtStep[],
): Promise<Sent[]> {
  const started = ctx.now();
  const activities = batch.map((at) => activityOf(step, at));
  const endpoint = stepEndpoint(route, "activity");
  const request = (_at: AtStep, i: number) => ({ input: [activities[i]] });
  // An activity is never replayed by the client: a lost answer comes back `unknown` and is
  // verified by reading the lead's activities (verify.ts) before it is sent again.
  const results = await ctx.client.addCustomActivities(
    activities,
    callHooks(ctx, route, "activity", endpoint, (i) => {
      const at = batch[i];
      return at ? [{ at, request: request(at, i) }] : [];
    }),
  );
  return rows(
    ctx,
    batch,
    {
      step: "activity",
      endpoint,
      request,
      results,
      delivered: `activity ${step.activityTypeId} added`,
    },
    started,
  );
}
