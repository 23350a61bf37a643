import { quotaDay } from "./quota-day.ts";

/**
 * §12 "which calls count": the one place that decides whether an answered call is counted
 * against the daily quota.
 * - Identity calls are never counted (swagger: "not counted towards API call limit"); the
 *   caller does not ask for them.
 * - The asterisked codes 601, 602, 604, 605, 608, 611 are not counted (error-codes.md).
 * - Calls refused for the limits themselves (606, 607, 615) are not counted: the older
 *   official page says calls returning errors do not count, and a refused call did no work.
 * - HTTP-level refusals (413, 414, gateway 5xx) and connection resets never reached the API.
 * - Everything else counts, including success with record-level skips (unverified).
 */
export function countsAgainstQuota(code: string): boolean {
  switch (code) {
    case "601":
    case "602":
    case "604":
    case "605":
    case "608":
    case "611":
    case "606":
    case "607":
    case "615":
    case "413":
    case "414":
    case "500":
    case "502":
    case "503":
    case "reset":
      return false;
    default:
      return true;
  }
}

/**
 * §12 "which calls count", for the rolling rate window. error-codes.md says a call answered
 * with an asterisked code is counted against neither the quota nor the rate limit, so the
 * window follows the quota rule; calls refused for the limits themselves (606, 607, 615)
 * stay in it when `countRejected` is set (Marketo does not say; counting them is the
 * stricter reading, so a client that hammers stays locked out).
 */
export function countsAgainstRateWindow(code: string, countRejected: boolean): boolean {
  if (code === "606" || code === "607" || code === "615") return countRejected;
  return countsAgainstQuota(code);
}

/** Calls that arrived at the same sandbox millisecond. */
interface Run {
  at: number;
  n: number;
}

/**
 * §12: the rate limit counts "calls in the past 20 seconds", so the window slides with
 * every call, it is not a fixed bucket. Arrivals are kept as runs of calls per instant, in
 * time order, so memory follows the distinct instants in the window, not the call count
 * (foreign traffic may add millions of calls at once).
 */
export class RateWindow {
  #runs: Run[] = [];
  #head = 0;
  #total = 0;
  readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  #prune(now: number): void {
    const start = now - this.windowMs;
    while (this.#head < this.#runs.length) {
      const run = this.#runs[this.#head] as Run;
      if (run.at > start) break;
      this.#total -= run.n;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#runs.length) {
      this.#runs = this.#runs.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Records `n` calls arriving at `at`. */
  add(at: number, n = 1): void {
    if (n <= 0) return;
    this.#total += n;
    // Usually the newest; after the clock was set back, or for a foreign stream's
    // back-dated calls, it goes to its place in time order.
    let i = this.#runs.length;
    while (i > this.#head && (this.#runs[i - 1] as Run).at > at) i--;
    const before = this.#runs[i - 1];
    if (i > this.#head && before !== undefined && before.at === at) before.n += n;
    else this.#runs.splice(i, 0, { at, n });
  }

  /** Takes back one call that arrived at `at` (a call that, by §12, does not count). */
  remove(at: number): void {
    for (let i = this.#runs.length - 1; i >= this.#head; i--) {
      const run = this.#runs[i] as Run;
      if (run.at !== at) continue;
      run.n--;
      this.#total--;
      if (run.n === 0) this.#runs.splice(i, 1);
      return;
    }
  }

  /**
   * Calls in the window ending at `now`. Calls stamped after `now` (the clock was set
   * back) still count.
   */
  count(now: number): number {
    this.#prune(now);
    return this.#total;
  }

  /** Forgets every call. */
  clear(): void {
    this.#runs = [];
    this.#head = 0;
    this.#total = 0;
  }
}

/** §12: counted calls per quota day (midnight America/Chicago). */
export class DailyQuota {
  #day = "";
  #used = 0;

  /** Counted calls so far on the quota day of `now`. */
  used(now: number): number {
    const day = quotaDay(now);
    if (day !== this.#day) {
      this.#day = day;
      this.#used = 0;
    }
    return this.#used;
  }

  /** Counts `n` calls at `now`. */
  consume(now: number, n = 1): void {
    this.used(now);
    this.#used += n;
  }

  /** Forgets today's use. */
  clear(): void {
    this.#used = 0;
  }
}
