import { isMarketoError, type MarketoClient } from "@postout/marketo";
import { attemptRow, type Sent } from "./attempt-row.ts";
import { crashPoint } from "./crash-point.ts";
import { addActivity, addToList, syncCustomObject } from "./follow-ups.ts";
import { sendLeads } from "./lead-step.ts";
import { type OutcomePolicy, retryOrGiveUp } from "./outcome.ts";
import { type Route, requestContent, stepEndpoint } from "./route.ts";
import type { ClaimedLead, Step, Store } from "./store/store.ts";
import type { StoreWrites } from "./store-writes.ts";
import type { TryLog } from "./try-log.ts";
import { type Verified, type VerifyOptions, verifyOnWire } from "./verify.ts";

/**
 * The delivery pipeline: one round of claimed leads → one attempt row per lead per step.
 *
 * Words, as the code uses them:
 * - **step**: one call a lead's route makes of Marketo, in order: the lead itself (Sync Leads or
 *   Push Lead), then its static list, custom object and custom activity. A lead is delivered
 *   when its last step is; the steps Marketo confirmed are kept, so a retry never repeats them.
 * - **attempt**: one step tried for one lead: one decisive row of the post-out log, numbered
 *   per lead from 1; it moves the lead's status.
 * - **call**: one HTTP request to Marketo. A call carries up to 300 leads; one attempt may take
 *   several calls when the client sends its leads again.
 * - **try**: a call of an attempt that did not decide it (the client sent the leads again after
 *   a 606, a new token, a split): a `sending` row before the attempt's decisive row.
 * - **wire mark**: the durable note, made before a call leaves, that it may put a step into
 *   Marketo; cleared when its answer is recorded. After a crash only marked leads are
 *   uncertain, and they are verified by what Marketo can prove (verify.ts) before anything is
 *   sent again.
 */
export interface DeliveryContext {
  readonly store: Store;
  readonly destination: string;
  /** The worker whose claims these leads are: a wire mark is only made on leads it holds. */
  readonly worker: string;
  /** Where the wire marks are written, with the other calls' marks asked for at the same time. */
  readonly marks: Pick<StoreWrites, "mark">;
  readonly client: MarketoClient;
  readonly now: () => number;
  readonly policy: OutcomePolicy | undefined;
  /** Where the calls the client sent again are logged. */
  readonly tries: TryLog;
  readonly verify: VerifyOptions;
  /** The lead field a create carries Postout's id in, where the destination has one. */
  readonly markerField: string | undefined;
  /**
   * What this round's verification attributed to our leads: Marketo lead ids and activity ids.
   * The store knows what earlier rounds recorded; this covers the round's other routes.
   */
  readonly attributed: { readonly leads: Set<number>; readonly activities: Set<number> };
}

/** A lead about to make one step this round. */
export interface AtStep {
  readonly lead: ClaimedLead;
  /** Attempts recorded for the lead before this step: its stored ones plus this round's. */
  readonly attempts: number;
  /** Its Marketo id, once the lead step is done. */
  readonly marketoId: number | undefined;
}

/** The route's steps, in the order they run. */
export function stepsOf(route: Route): Step[] {
  const steps: Step[] = ["lead"];
  if (route.listName !== undefined) steps.push("list");
  if (route.customObject) steps.push("customObject");
  if (route.activity) steps.push("activity");
  return steps;
}

/** The step a route makes before `step`: Marketo confirmed it once `step` is sent. */
export function stepBefore(route: Route, step: Step): Step | undefined {
  const steps = stepsOf(route);
  return steps[steps.indexOf(step) - 1];
}

/** Whether an outcome lets the lead go on to its next step. */
function passed(sent: Sent): boolean {
  return sent.outcome.status === "delivered" || sent.outcome.status === "test";
}

/** Runs one round: each route's leads through their steps. Every claimed lead gets at least one row. */
export async function deliverRound(
  ctx: DeliveryContext,
  claimed: readonly ClaimedLead[],
): Promise<Sent[]> {
  const routes = new Map<string, ClaimedLead[]>();
  for (const lead of claimed) {
    const group = routes.get(lead.routeKey);
    if (group) group.push(lead);
    else routes.set(lead.routeKey, [lead]);
  }
  // Every route's uncertain leads are looked for before any route sends: a lookup running
  // beside a send could take the lead that send just made for another of ours.
  const groups = [...routes.values()];
  const looked: ({ readonly verified: Verified[] } | { readonly failed: unknown })[] = [];
  for (const leads of groups) {
    const route = (leads[0] as ClaimedLead).route;
    looked.push(
      await verifyOnWire(
        ctx,
        route,
        leads.filter((l) => l.onWire),
      ).then(
        (verified) => ({ verified }),
        (failed: unknown) => ({ failed }),
      ),
    );
  }
  const rounds = await Promise.all(
    groups.map((leads, i) =>
      orRetry(ctx, leads, () => {
        const look = looked[i] as (typeof looked)[number];
        if ("failed" in look) throw look.failed;
        return deliverRoute(ctx, leads, look.verified);
      }),
    ),
  );
  return rounds.flat();
}

/** One route's leads; an unexpected failure schedules them for a retry instead of losing the round. */
async function orRetry(
  ctx: DeliveryContext,
  claimed: readonly ClaimedLead[],
  deliver: () => Promise<Sent[]>,
): Promise<Sent[]> {
  try {
    return await deliver();
  } catch (error) {
    return failed(
      ctx,
      "lead",
      claimed.map((lead) => ({ lead, attempts: lead.attempts, marketoId: lead.marketoId })),
      error,
    );
  }
}

/**
 * The rows of leads whose step failed unexpectedly (the store refused a wire mark, a bug): each
 * is retried on the schedule from that step. A lead whose call went out keeps its wire mark,
 * and the next round verifies it.
 */
function failed(
  ctx: DeliveryContext,
  step: Step,
  batch: readonly AtStep[],
  error: unknown,
): Sent[] {
  const at = ctx.now();
  const code = isMarketoError(error) ? error.code : "internal_error";
  const reason = error instanceof Error ? error.message : String(error);
  return batch.map(({ lead, attempts }) =>
    attemptRow(
      {
        leadId: lead.id,
        step,
        at,
        endpoint: stepEndpoint(lead.route, step),
        request: requestContent(lead.route, lead.input),
        response: undefined,
        requestId: undefined,
        durationMs: 0,
        uncertain: true,
      },
      retryOrGiveUp(code, reason, undefined, attempts + 1, at, ctx.policy),
    ),
  );
}

async function deliverRoute(
  ctx: DeliveryContext,
  claimed: readonly ClaimedLead[],
  verified: readonly Verified[],
) {
  const route = (claimed[0] as ClaimedLead).route;
  const steps = stepsOf(route);
  const entering = new Map<Step, AtStep[]>();
  const enter = (step: Step, at: AtStep) => {
    const list = entering.get(step);
    if (list) list.push(at);
    else entering.set(step, [at]);
  };
  const out: Sent[] = [];
  for (const { at, sent, step } of verified) {
    if (sent) {
      out.push(sent);
      // Proven done (a lead the lost call created): on to its next step.
      const next = steps[steps.indexOf(step) + 1];
      if (passed(sent) && next !== undefined) {
        enter(next, {
          lead: at.lead,
          attempts: at.attempts + 1,
          marketoId: sent.outcome.marketoId ?? at.marketoId,
        });
      }
    } else enter(step, at);
  }
  for (const lead of claimed) {
    if (lead.onWire) continue;
    // A retry starts after the last step Marketo confirmed.
    const next = lead.done === undefined ? "lead" : steps[steps.indexOf(lead.done) + 1];
    enter(next ?? "lead", { lead, attempts: lead.attempts, marketoId: lead.marketoId });
  }
  let carried: AtStep[] = [];
  for (const step of steps) {
    const batch = [...(entering.get(step) ?? []), ...carried];
    carried = [];
    if (batch.length === 0) continue;
    crashPoint("gate", step);
    // A step that fails unexpectedly fails for its own leads only: the rows of the steps
    // before it (a lead Marketo created, say) are kept.
    const sent = await runStep(ctx, route, step, batch).catch((error: unknown) =>
      failed(ctx, step, batch, error),
    );
    crashPoint("answer", step);
    out.push(...sent);
    const next = steps[steps.indexOf(step) + 1];
    sent.forEach((s, i) => {
      const at = batch[i] as AtStep;
      if (!passed(s) || next === undefined) return;
      const marketoId = s.outcome.marketoId ?? at.marketoId;
      // A follow-up needs the lead's id; Marketo gives one for every lead it wrote.
      if (marketoId === undefined) out.push(noId(at, next, ctx.now()));
      else carried.push({ lead: at.lead, attempts: at.attempts + 1, marketoId });
    });
  }
  return out;
}

/** A lead whose lead step Marketo confirmed without its id: its follow-ups cannot run. */
function noId(at: AtStep, step: Step, now: number): Sent {
  return attemptRow(
    {
      leadId: at.lead.id,
      step,
      at: now,
      endpoint: stepEndpoint(at.lead.route, step),
      request: requestContent(at.lead.route, at.lead.input),
      response: undefined,
      requestId: undefined,
      durationMs: 0,
    },
    {
      status: "needs_fix",
      statusCode: "no_id",
      reason: `Marketo confirmed the lead without its id, so its ${step} step cannot be sent`,
      fix: "Marketo gives an id for every lead it writes: look the lead up in Marketo and make its remaining steps there by hand, or ask Adobe support why the id was missing.",
    },
  );
}

/** One step for a batch of leads: one row per lead, in the batch's order. */
function runStep(
  ctx: DeliveryContext,
  route: Route,
  step: Step,
  batch: readonly AtStep[],
): Promise<Sent[]> {
  switch (step) {
    case "lead":
      return sendLeads(ctx, route, batch);
    case "list":
      return addToList(ctx, route, route.listName as string, batch);
    case "customObject":
      return syncCustomObject(
        ctx,
        route,
        route.customObject as NonNullable<Route["customObject"]>,
        batch,
      );
    case "activity":
      return addActivity(ctx, route, route.activity as NonNullable<Route["activity"]>, batch);
  }
}
