/** A time source or a moment, as epoch milliseconds or a Date. */
export type Instant = number | Date;

// The range of a JavaScript Date: a clock outside it could not stamp a requestId or a log line.
const maxMs = 8.64e15;

function toMs(at: Instant): number {
  const ms = typeof at === "number" ? at : at.getTime();
  if (!Number.isFinite(ms) || Math.abs(ms) > maxMs)
    throw new TypeError(`invalid time: ${String(at)}`);
  return ms;
}

/**
 * The sandbox's settable clock. It runs at wall-clock speed from wherever it was set;
 * token expiry, the rate window, the quota day and bulk-import progress all read it, so a
 * test can jump past an hour or a Chicago midnight without waiting.
 */
export class Clock {
  #offset: number;

  constructor(start?: Instant) {
    this.#offset = start === undefined ? 0 : toMs(start) - Date.now();
  }

  /** Current sandbox time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.#offset;
  }

  /** Moves the clock to `at`; it keeps running from there. */
  set(at: Instant): void {
    this.#offset = toMs(at) - Date.now();
  }

  /** Moves the clock forward (or back, if negative) by `ms`. */
  advance(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms))
      throw new TypeError(`invalid advance: ${String(ms)}`);
    toMs(this.now() + ms);
    this.#offset += ms;
  }
}

export { toMs };
