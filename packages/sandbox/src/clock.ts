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
 * The sandbox's settable clock. It runs at wall-clock speed from wherever it was set, or,
 * frozen, stands still until set or advanced; token expiry, the rate window, the quota day
 * and bulk-import progress all read it, so a test can jump past an hour or a Chicago
 * midnight without waiting, and a frozen clock makes those tests independent of how fast
 * the machine runs them.
 */
export class Clock {
  #offset: number;
  #frozenAt: number | undefined;

  constructor(start?: Instant, frozen = false) {
    this.#offset = start === undefined ? 0 : toMs(start) - Date.now();
    if (frozen) this.#frozenAt = this.now();
  }

  /** Current sandbox time in epoch milliseconds. */
  now(): number {
    return this.#frozenAt ?? Date.now() + this.#offset;
  }

  /** Moves the clock to `at`; a running clock keeps running from there. */
  set(at: Instant): void {
    const ms = toMs(at);
    if (this.#frozenAt !== undefined) this.#frozenAt = ms;
    else this.#offset = ms - Date.now();
  }

  /** Moves the clock forward (or back, if negative) by `ms`. */
  advance(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms))
      throw new TypeError(`invalid advance: ${String(ms)}`);
    const to = toMs(this.now() + ms);
    if (this.#frozenAt !== undefined) this.#frozenAt = to;
    else this.#offset += ms;
  }

  /** Stops the clock where it is; only `set` and `advance` move it until `resume`. */
  freeze(): void {
    this.#frozenAt = this.now();
  }

  /** Lets a frozen clock run again, at wall-clock speed, from where it stands. */
  resume(): void {
    if (this.#frozenAt === undefined) return;
    this.#offset = this.#frozenAt - Date.now();
    this.#frozenAt = undefined;
  }

  /**
   * An independent clock that reads what this one reads and runs or stands as it does; an
   * instance created on first use takes a fork of a clock made at start, so it reads as if
   * it had been created then.
   */
  fork(): Clock {
    const copy = new Clock();
    copy.#offset = this.#offset;
    copy.#frozenAt = this.#frozenAt;
    return copy;
  }

  /** Whether the clock stands still. */
  get frozen(): boolean {
    return this.#frozenAt !== undefined;
  }
}

export { toMs };
