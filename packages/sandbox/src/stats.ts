import { isCatalogCode } from "./codes.ts";
import { quotaDay } from "./quota-day.ts";

/** One entry of the call log. */
export interface CallRecord {
  /** Sandbox time of arrival, ISO 8601. */
  at: string;
  method: string;
  path: string;
  /** "200" for success, a catalogue code, an HTTP status ("413", "502"…) or "reset". */
  code: string;
  /** HTTP status sent ("reset" answers none: 0). */
  status: number;
  /** Real milliseconds from arrival to answer. */
  durationMs: number;
  /** Whether the call counted against the daily quota (§12). */
  counted: boolean;
  requestId: string | undefined;
}

/** Counted calls and errors per quota day, and the call log. */
export class Stats {
  #log: CallRecord[] = [];
  readonly #logSize: number;
  #byCode = new Map<string, number>();
  #usage = new Map<string, Map<string, number>>();
  #errors = new Map<string, Map<string, number>>();
  highestInFlight = 0;

  constructor(logSize: number) {
    this.#logSize = logSize;
  }

  /** Records an answered REST or bulk call. */
  record(call: CallRecord, user: string, atMs: number): void {
    this.#log.push(call);
    if (this.#log.length > this.#logSize * 2) this.#log = this.#log.slice(-this.#logSize);
    this.#byCode.set(call.code, (this.#byCode.get(call.code) ?? 0) + 1);
    const day = quotaDay(atMs);
    if (call.counted) bump(this.#usage, day, user, 1);
    if (call.code !== "200" && isCatalogCode(call.code)) bump(this.#errors, day, call.code, 1);
  }

  /** Records calls made by other apps on the instance (foreign traffic). */
  recordForeign(atMs: number, user: string, n: number): void {
    bump(this.#usage, quotaDay(atMs), user, n);
  }

  /** The call log, oldest first (at most `callLogSize` entries). */
  calls(): CallRecord[] {
    return this.#log.slice(-this.#logSize);
  }

  /** Calls answered per code since the last reset. */
  byCode(): Record<string, number> {
    return Object.fromEntries([...this.#byCode].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** §12 usage.json: `{date, total, users:[{userId, count}]}` for the given days. */
  usage(days: string[]): unknown[] {
    return days.map((date) => {
      const users = [...(this.#usage.get(date) ?? [])].map(([userId, count]) => ({
        userId,
        count,
      }));
      return { date, total: users.reduce((sum, u) => sum + u.count, 0), users };
    });
  }

  /** §12 errors.json: `{date, total, errors:[{errorCode, count}]}` for the given days. */
  errors(days: string[]): unknown[] {
    return days.map((date) => {
      const errors = [...(this.#errors.get(date) ?? [])].map(([errorCode, count]) => ({
        errorCode,
        count,
      }));
      return { date, total: errors.reduce((sum, e) => sum + e.count, 0), errors };
    });
  }

  /** Forgets everything. */
  clear(): void {
    this.#log = [];
    this.#byCode.clear();
    this.#usage.clear();
    this.#errors.clear();
    this.highestInFlight = 0;
  }
}

function bump(map: Map<string, Map<string, number>>, day: string, key: string, n: number): void {
  let inner = map.get(day);
  if (inner === undefined) {
    inner = new Map();
    map.set(day, inner);
  }
  inner.set(key, (inner.get(key) ?? 0) + n);
}

/** The quota days of the last `n` days ending with the day of `now`, newest first. */
export function lastDays(now: number, n: number): string[] {
  const days: string[] = [];
  let at = now;
  // Step back by 20 h so no day is skipped across DST changes; dedupe the repeats.
  while (days.length < n) {
    const day = quotaDay(at);
    if (days.at(-1) !== day) days.push(day);
    at -= 20 * 3600 * 1000;
  }
  return days;
}
