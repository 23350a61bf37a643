import {
  type BatchResult,
  explainCode,
  isMarketoError,
  type MarketoClient,
  type MarketoError,
  type RecordResult,
} from "@postout/marketo";
import { type LeadOutcome, type OutcomePolicy, outcomeOf } from "./outcome.ts";
import type { Route } from "./route.ts";
import type { AttemptRecord } from "./store/store.ts";
import type { TryLog } from "./try-log.ts";

/** One attempt for one lead: the row to record and what it means for the lead. */
export interface Sent {
  readonly record: AttemptRecord;
  readonly outcome: LeadOutcome;
}

/** A lead that the previous step delivered, ready for the next one. */
export interface Delivered {
  readonly leadId: number;
  readonly marketoId: number;
  /** The lead's full mapped input, including the fields meant for the steps. */
  readonly input: Readonly<Record<string, unknown>>;
  /** Attempts recorded before this step. */
  readonly attempts: number;
  readonly test: boolean;
}

export interface StepContext {
  readonly client: MarketoClient;
  readonly now: () => number;
  readonly policy: OutcomePolicy | undefined;
  /** Where the calls the client sent again are logged. */
  readonly tries?: TryLog;
}

/** The write options that log a step's retried calls, each record standing for one lead. */
function logTries(
  ctx: StepContext,
  endpoint: string,
  leads: readonly Delivered[],
  request: (d: Delivered, i: number) => unknown,
) {
  return (
    ctx.tries?.options(endpoint, (i) => {
      const d = leads[i];
      return d ? [{ leadId: d.leadId, n: d.attempts + 1, request: request(d, i) }] : [];
    }) ?? {}
  );
}

interface StepCall {
  readonly endpoint: string;
  readonly request: (d: Delivered, i: number) => unknown;
  /** One result per delivered lead, in order; `undefined` when the step's target does not exist. */
  readonly results: BatchResult | undefined;
  /** What to record when the target does not exist (e.g. an unknown list). */
  readonly missing?: { readonly code: string; readonly message: string };
  /** The call failed as a whole (e.g. the list lookup met a 607): every lead gets this error. */
  readonly error?: MarketoError;
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

/**
 * The path of the request a call failed at, when that was not the write itself: a token
 * request refused by Marketo's identity service means the write was never sent.
 */
export function failedAt(error: MarketoError | undefined): string | undefined {
  const url = error?.request?.url;
  if (url === undefined) return undefined;
  const path = URL.parse(url)?.pathname;
  return path?.startsWith("/identity/") ? path : undefined;
}

/** Marketo's answer for one record, as the post-out log keeps it. */
export function responseOf(result: RecordResult): Record<string, unknown> {
  const reasons = result.reasons.map((r) => ({ code: r.code, message: r.message }));
  if (result.status === "failed")
    return { requestId: result.requestId, success: false, errors: reasons };
  return {
    requestId: result.requestId,
    success: true,
    result: [
      {
        id: result.id,
        status: result.marketoStatus ?? result.status,
        ...(reasons.length > 0 ? { reasons } : {}),
      },
    ],
  };
}

function record(
  ctx: StepContext,
  leads: readonly Delivered[],
  call: StepCall,
  started: number,
): Sent[] {
  const at = ctx.now();
  return leads.map((d, i) => {
    const result =
      call.results?.results[i] ??
      (call.error ? failedResult(i, call.error) : undefined) ??
      missingResult(
        i,
        call.missing?.code ?? "unknown",
        call.missing?.message ?? "no answer for this lead",
      );
    const sent = outcomeOf(result, d.attempts + 1, at, ctx.policy);
    const done = sent.status === "delivered";
    // A lead sent by test-integration ends as `test`, so reports tell it from real leads.
    const outcome: LeadOutcome = done
      ? {
          ...sent,
          status: d.test ? "test" : "delivered",
          reason: call.delivered,
          marketoId: d.marketoId,
        }
      : sent;
    return {
      outcome,
      record: {
        leadId: d.leadId,
        at,
        endpoint: failedAt(result.error) ?? call.endpoint,
        request: call.request(d, i),
        response: responseOf(result),
        requestId: result.requestId,
        statusCode: outcome.statusCode,
        reason: outcome.reason,
        durationMs: at - started,
        status: outcome.status,
        ...(outcome.nextAt === undefined ? {} : { nextAt: outcome.nextAt }),
        ...(outcome.fix === undefined ? {} : { fix: outcome.fix }),
        // The lead itself is in Marketo and a retry starts again from the lead sync: a create
        // route (createOnly, createDuplicate) must look it up first instead of creating it twice.
        ...(done ? {} : { uncertain: true }),
      },
    };
  });
}

async function addToList(
  ctx: StepContext,
  listName: string,
  leads: readonly Delivered[],
): Promise<Sent[]> {
  const started = ctx.now();
  let list: Record<string, unknown> | undefined;
  let error: MarketoError | undefined;
  try {
    list = await ctx.client.getListByName(listName);
  } catch (thrown) {
    // The lookup is a plain call that throws (607, network …): it becomes each lead's outcome
    // here, so the lead sync that already succeeded keeps its own attempt row.
    if (!isMarketoError(thrown)) throw thrown;
    error = thrown;
  }
  const listId = typeof list?.id === "number" ? list.id : undefined;
  const endpoint =
    listId === undefined ? "/rest/v1/lists.json" : `/rest/v1/lists/${listId}/leads.json`;
  const request = (d: Delivered) => ({
    listName,
    ...(listId === undefined ? {} : { listId }),
    input: [{ id: d.marketoId }],
  });
  const results =
    listId === undefined
      ? undefined
      : await ctx.client.addToList(
          listId,
          leads.map((d) => d.marketoId),
          logTries(ctx, endpoint, leads, request),
        );
  return record(
    ctx,
    leads,
    {
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

async function syncCustomObject(
  ctx: StepContext,
  step: NonNullable<Route["customObject"]>,
  leads: readonly Delivered[],
): Promise<Sent[]> {
  const started = ctx.now();
  const link = step.linkField ?? "leadId";
  const records = leads.map((d) => ({ ...pick(d.input, step.fields), [link]: d.marketoId }));
  const endpoint = `/rest/v1/customobjects/${step.apiName}.json`;
  const request = (_d: Delivered, i: number) => ({
    action: "createOrUpdate",
    dedupeBy: "dedupeFields",
    input: [records[i]],
  });
  const results = await ctx.client.syncCustomObjects(
    step.apiName,
    records,
    logTries(ctx, endpoint, leads, request),
  );
  return record(
    ctx,
    leads,
    {
      endpoint,
      request,
      results,
      delivered: `custom object ${step.apiName} written`,
    },
    started,
  );
}

async function addActivity(
  ctx: StepContext,
  step: NonNullable<Route["activity"]>,
  leads: readonly Delivered[],
): Promise<Sent[]> {
  const started = ctx.now();
  const activityDate = new Date(started).toISOString();
  const activities = leads.map((d) => ({
    leadId: d.marketoId,
    activityDate,
    activityTypeId: step.activityTypeId,
    primaryAttributeValue: String(d.input[step.primaryAttributeField] ?? ""),
    attributes: (step.attributeFields ?? [])
      .filter((f) => d.input[f] !== undefined)
      .map((f) => ({ apiName: f, value: d.input[f] })),
  }));
  const endpoint = "/rest/v1/activities/external.json";
  const request = (_d: Delivered, i: number) => ({ input: [activities[i]] });
  const results = await ctx.client.addCustomActivities(
    activities,
    logTries(ctx, endpoint, leads, request),
  );
  return record(
    ctx,
    leads,
    {
      endpoint,
      request,
      results,
      delivered: `activity ${step.activityTypeId} added`,
    },
    started,
  );
}

/**
 * Runs the route's follow-up steps in order (static list, custom object, activity) for the
 * leads the previous step delivered. A lead that fails a step stops there, with that step's
 * outcome (needs_fix, retrying …). A retry sends the lead again from the start: the lead sync,
 * list add and object sync are idempotent, and an activity is only retried when Marketo said it
 * did not run (a lost answer makes it `unknown`, needs_fix, never replayed).
 */
export async function runFollowUps(
  ctx: StepContext,
  route: Route,
  delivered: readonly Delivered[],
): Promise<Sent[]> {
  const steps: ((leads: readonly Delivered[]) => Promise<Sent[]>)[] = [];
  if (route.listName !== undefined) steps.push((l) => addToList(ctx, route.listName as string, l));
  if (route.customObject)
    steps.push((l) =>
      syncCustomObject(ctx, route.customObject as NonNullable<Route["customObject"]>, l),
    );
  if (route.activity)
    steps.push((l) => addActivity(ctx, route.activity as NonNullable<Route["activity"]>, l));
  const out: Sent[] = [];
  let current = delivered;
  for (const step of steps) {
    if (current.length === 0) break;
    const sent = await step(current);
    out.push(...sent);
    current = current.flatMap((d, i) => {
      const s = sent[i];
      return s && (s.outcome.status === "delivered" || s.outcome.status === "test")
        ? [{ ...d, attempts: d.attempts + 1 }]
        : [];
    });
  }
  return out;
}
