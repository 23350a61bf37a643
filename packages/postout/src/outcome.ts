import {
  BadCredentialsError,
  DailyQuotaError,
  type ExplainedCode,
  fixFor,
  isMarketoError,
  type RecordResult,
  UnreachableError,
} from "@postout/marketo";
import type { LeadStatus } from "./store/store.ts";

/**
 * When a lead that failed for a transient reason is tried again, counted from the failure:
 * 1 min, 5 min, 30 min, 2 h, 6 h. After the last, the lead needs a person.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  6 * 3_600_000,
];

/** What one record's result means for its lead. */
export interface LeadOutcome {
  readonly status: Exclude<LeadStatus, "queued" | "sending">;
  /** "200" when delivered, else the Marketo code (or ours: `network`, `timeout`, `unknown`). */
  readonly statusCode: string;
  readonly reason: string | undefined;
  readonly fix: string | undefined;
  readonly nextAt?: number;
  readonly marketoId?: number;
  /** Set when the whole destination must stop: 607 until the reset, bad credentials, 603. */
  readonly pauseDestination?: {
    readonly until: number;
    readonly code: string;
    readonly reason: string;
  };
}

export interface OutcomePolicy {
  readonly retryScheduleMs: readonly number[];
  /** Per-code schedule overrides, e.g. `{ "611": [600_000] }`. */
  readonly perCode?: Readonly<Record<string, readonly number[]>>;
}

/** A pause with no end: it lasts until a person resumes the destination. */
export const UNTIL_RESUMED = Number.MAX_SAFE_INTEGER;

function describe(reason: ExplainedCode | undefined): {
  code: string;
  text: string;
  fix: string | undefined;
} {
  if (!reason) return { code: "unknown", text: "Marketo gave no reason", fix: undefined };
  return {
    code: reason.code,
    text: reason.message || reason.entry?.message || reason.code,
    fix: reason.entry ? fixFor(reason.entry, reason.values) : undefined,
  };
}

/** The code of a lead whose call could not reach Marketo: nothing was sent. */
export const UNREACHABLE = "unreachable";

/** What to do when Marketo cannot be reached: the host is named, the lead is sent again later. */
export function unreachableFix(error: UnreachableError): string {
  return `Check the destination's base URL, and that this machine can reach ${error.host} (network, VPN, firewall, proxy). Postout tries again on its retry schedule; once fixed, send now with: postout repost --code ${UNREACHABLE}`;
}

/** A transient failure: retry on the schedule, or hand the lead to a person once it is used up. */
export function retryOrGiveUp(
  code: string,
  text: string,
  fix: string | undefined,
  attempt: number,
  now: number,
  policy: OutcomePolicy = { retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS },
): LeadOutcome {
  const schedule = policy.perCode?.[code] ?? policy.retryScheduleMs;
  const delay = schedule[attempt - 1];
  if (delay === undefined) {
    return {
      status: "needs_fix",
      statusCode: code,
      reason: text,
      fix: `Gave up after ${attempt} attempts. ${fix ?? "Check Marketo's status, then repost."}`,
    };
  }
  return { status: "retrying", statusCode: code, reason: text, fix, nextAt: now + delay };
}

/**
 * Maps one record's result to its lead's next status. Pure: the dispatcher records what it
 * returns. `attempt` is this attempt's number (1 for the first send).
 */
export function outcomeOf(
  result: RecordResult,
  attempt: number,
  now: number,
  policy: OutcomePolicy = { retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS },
): LeadOutcome {
  const { code, text, fix } = describe(result.reasons[0]);
  switch (result.status) {
    case "created":
    case "updated":
      return {
        status: "delivered",
        statusCode: "200",
        reason: result.status,
        fix: undefined,
        ...(typeof result.id === "number" ? { marketoId: result.id } : {}),
      };
    case "unknown":
      // The answer was lost and the client could not verify: resending could duplicate the lead.
      return {
        status: "needs_fix",
        statusCode: "unknown",
        reason: text,
        fix: "Marketo may or may not have this lead: look it up in Marketo by its email, then repost it only if it is missing.",
      };
    case "skipped": {
      const recovery = result.reasons[0]?.entry?.recovery ?? "none";
      if (recovery === "none") return { status: "needs_fix", statusCode: code, reason: text, fix };
      return retryOrGiveUp(code, text, fix, attempt, now, policy);
    }
    case "failed": {
      const error = result.error;
      if (error instanceof DailyQuotaError) {
        const until = error.resetsAt.getTime();
        return {
          status: "paused",
          statusCode: code,
          reason: text,
          fix,
          nextAt: until,
          pauseDestination: {
            until,
            code,
            reason: `${text}; resumes at ${error.resetsAt.toISOString()}`,
          },
        };
      }
      // Bad credentials (the identity call answered 401) or access denied: no call can succeed
      // until a person acts, so the destination pauses instead of burning attempts. A 601/602
      // is not among them: the client already fetched a new token for it, and one still left
      // means the token was revoked or expired again while the call ran out of attempts (say,
      // waiting out 606s). The next send gets a new token, so it is retried on the schedule.
      if (error instanceof BadCredentialsError || code === "603") {
        return {
          status: "paused",
          statusCode: code,
          reason: text,
          fix,
          pauseDestination: { until: UNTIL_RESUMED, code, reason: text },
        };
      }
      // Refused, unresolved, blocked port: Marketo never saw the call, so it is never uncertain.
      if (error instanceof UnreachableError) {
        return retryOrGiveUp(code, text, unreachableFix(error), attempt, now, policy);
      }
      const recovery = isMarketoError(error)
        ? error.recovery
        : (result.reasons[0]?.entry?.recovery ?? "none");
      if (recovery === "none") return { status: "needs_fix", statusCode: code, reason: text, fix };
      return retryOrGiveUp(code, text, fix, attempt, now, policy);
    }
  }
}
