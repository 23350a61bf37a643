import type { LeadOutcome } from "./outcome.ts";
import type { AttemptRecord, Step } from "./store/store.ts";

/** One attempt for one lead: the row to record and what it means for the lead. */
export interface Sent {
  readonly record: AttemptRecord;
  readonly outcome: LeadOutcome;
}

/** What a decisive row of the post-out log says besides the outcome. */
export interface AttemptFacts {
  readonly leadId: number;
  readonly step: Step;
  readonly at: number;
  readonly endpoint: string;
  /** What was sent for this lead (routing section + input), or asked to verify it. */
  readonly request: unknown;
  /** Marketo's answer for this lead, as the log keeps it. */
  readonly response: unknown;
  readonly requestId: string | undefined;
  readonly durationMs: number;
  /** The answer of the call that may have carried the lead is still unknown: keep its wire mark. */
  readonly uncertain?: boolean;
}

/**
 * The one place a decisive post-out log row is built: the facts of the call, the outcome's
 * status, code, reason, fix, next time and Marketo id.
 */
export function attemptRow(facts: AttemptFacts, outcome: LeadOutcome): Sent {
  const { uncertain, ...call } = facts;
  return {
    outcome,
    record: {
      ...call,
      statusCode: outcome.statusCode,
      reason: outcome.reason,
      status: outcome.status,
      ...(outcome.nextAt === undefined ? {} : { nextAt: outcome.nextAt }),
      ...(outcome.marketoId === undefined ? {} : { marketoId: outcome.marketoId }),
      ...(outcome.fix === undefined ? {} : { fix: outcome.fix }),
      ...(uncertain ? { uncertain: true } : {}),
    },
  };
}
