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
 * §12: the rate limit counts "calls in the past 20 seconds", so the window slides with
 * every call (a queue of arrival times), it is not a fixed bucket.
 */
export class RateWindow {
  #times: number[] = [];
  #head = 0;
  readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  #prune(now: number): void {
    const start = now - this.windowMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= start) {
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Records `n` calls arriving at `at`. */
  add(at: number, n = 1): void {
    for (let i = 0; i < n; i++) this.#times.push(at);
  }

  /** Takes back the most recent call (a refused call, when refused calls do not count). */
  removeLast(): void {
    if (this.#times.length > this.#head) this.#times.pop();
  }

  /** Calls in the window ending at `now`. */
  count(now: number): number {
    this.#prune(now);
    let n = this.#times.length - this.#head;
    // Calls stamped after `now` (the clock was set back) still count; nothing to subtract.
    if (n < 0) n = 0;
    return n;
  }

  /** Forgets every call. */
  clear(): void {
    this.#times = [];
    this.#head = 0;
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
