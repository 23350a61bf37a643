import type { Recovery } from "./codes.ts";
import { DEFAULT_RETRY, type RetryOptions } from "./options.ts";

/** What a failed attempt tells the retry policy. Built from a typed error; no message text. */
export interface Outcome {
  /** The Marketo code, the HTTP status, `network`, `timeout` or `invalid_response`. */
  readonly code: string;
  readonly recovery: Recovery;
  /** Time since the first attempt of this request. */
  readonly elapsedMs: number;
  /** Whether this request already fetched a new token after a 601/602. */
  readonly reauthenticated?: boolean;
  /** For 607: when the quota resets. */
  readonly resetsAt?: Date;
  /** For 606: the rate window's length. */
  readonly windowMs?: number;
  /** The moment the outcome arrived (for 607). */
  readonly now?: number;
}

/** The retry policy with every option filled in. */
export type RetryPolicy = Required<RetryOptions>;

/**
 * Whether attempt number `attempt` (1 = the first) may be followed by another one.
 * Transient failures back off; 601/602 get exactly one resend after a new token;
 * 606/615 wait and resend; everything else — 607, 603, 1xxx, 413/414 (fixed elsewhere
 * by reshaping the request), 4xx — is not retried as is.
 */
export function shouldRetry(
  outcome: Outcome,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY,
): boolean {
  if (attempt >= policy.maxAttempts) return false;
  if (outcome.elapsedMs >= policy.maxTotalMs) return false;
  switch (outcome.recovery) {
    case "reauthenticate":
      return outcome.reauthenticated !== true;
    case "retry-with-backoff":
    case "slow-down":
      return true;
    case "split-request":
      // 604 is "Request time-out" and 6xx requests were not executed: safe to resend.
      // 413 cannot succeed as is; the batch layer splits it.
      return outcome.code === "604";
    case "wait-for-quota-reset":
    case "post-with-method-get":
    case "none":
      return false;
  }
}

/**
 * How long to wait before attempt `attempt + 1`. The server's hint wins: 606 waits out the
 * rolling window, 607 waits for midnight America/Chicago. Otherwise exponential backoff,
 * capped, with full jitter (a uniformly random delay up to the ceiling).
 */
export function delayMs(
  attempt: number,
  outcome: Outcome,
  policy: RetryPolicy = DEFAULT_RETRY,
  random: () => number = Math.random,
): number {
  if (outcome.code === "607" && outcome.resetsAt) {
    return Math.max(0, outcome.resetsAt.getTime() - (outcome.now ?? Date.now()));
  }
  if (outcome.code === "606") {
    // 606: more than the limit in the past window. Every call counted in it has left after one
    // window; a little jitter keeps several waiting calls from returning at the same instant.
    const windowMs = outcome.windowMs ?? 20_000;
    return Math.round(windowMs + random() * policy.baseDelayMs);
  }
  if (outcome.recovery === "reauthenticate") return 0;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
