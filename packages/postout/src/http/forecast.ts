import { nextQuotaReset } from "@postout/marketo";

const DAY_MS = 24 * 3_600_000;

/** When the daily quota runs out at the pace of today so far, if before it resets. */
export interface QuotaForecast {
  readonly used: number;
  readonly limit: number;
  /** Calls per hour since the quota day began (midnight America/Chicago). */
  readonly pacePerHour: number;
  /** `null` when the quota lasts until the reset at this pace. */
  readonly runsOutAt: string | null;
  readonly resetsAt: string;
}

/**
 * Straight-line forecast: today's calls over the time since the quota day began, carried
 * forward. (A day when daylight saving changes is taken as 24 h; the error is an hour's pace.)
 */
export function forecastQuota(used: number, limit: number, now: number): QuotaForecast {
  const reset = nextQuotaReset(new Date(now)).getTime();
  const elapsed = Math.max(60_000, now - (reset - DAY_MS));
  const perMs = used / elapsed;
  let runsOut: number | undefined;
  if (used >= limit) runsOut = now;
  else if (perMs > 0) {
    const at = now + (limit - used) / perMs;
    if (at < reset) runsOut = at;
  }
  return {
    used,
    limit,
    pacePerHour: Math.round(perMs * 3_600_000),
    runsOutAt: runsOut === undefined ? null : new Date(runsOut).toISOString(),
    resetsAt: new Date(reset).toISOString(),
  };
}
