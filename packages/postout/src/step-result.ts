import { type MarketoError, mayHaveExecuted, type RecordResult } from "@postout/marketo";
import type { AtStep, DeliveryContext } from "./delivery.ts";
import { type LeadOutcome, outcomeOf, retryOrGiveUp } from "./outcome.ts";

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

/** Whether the record's call may have been carried out although its answer does not say so. */
export function uncertainAfter(result: RecordResult): boolean {
  return (
    result.status === "unknown" || (result.status === "failed" && mayHaveExecuted(result.error))
  );
}

/** The fix of a lead left for verification. */
export const VERIFY_FIX =
  "Nothing to do: Postout looks for it in Marketo before anything is sent again.";

/**
 * What one record's result means for its lead at this step. A lead sent by test-integration
 * ends as `test`, so reports tell it from real leads. An unknown result (a lost answer the
 * client could not settle) is verified later, once Marketo has surely finished the call.
 */
export function stepOutcome(
  ctx: DeliveryContext,
  at: AtStep,
  result: RecordResult,
  now: number,
  /** For a follow-up step: what its success is called; the lead keeps its own Marketo id. */
  followUp?: { readonly delivered: string },
): LeadOutcome {
  const attempt = at.attempts + 1;
  if (result.status === "unknown") {
    const text = result.reasons[0]?.message ?? "Marketo's answer for this lead was lost";
    // Looked for once Marketo has surely finished the call, not on the retry schedule; the
    // schedule still bounds how often (its end hands the lead to a person).
    const later = retryOrGiveUp("unknown", text, VERIFY_FIX, attempt, now, ctx.policy);
    return later.nextAt === undefined ? later : { ...later, nextAt: now + ctx.verify.settleMs };
  }
  const outcome = outcomeOf(result, attempt, now, ctx.policy);
  if (outcome.status !== "delivered") return outcome;
  const status = at.lead.test ? "test" : "delivered";
  if (!followUp) return { ...outcome, status };
  const { marketoId: _stepRecordId, ...rest } = outcome;
  return {
    ...rest,
    status,
    reason: followUp.delivered,
    ...(at.marketoId === undefined ? {} : { marketoId: at.marketoId }),
  };
}
