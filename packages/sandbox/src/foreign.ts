import type { DailyQuota, RateWindow } from "./limits.ts";
import type { Stats } from "./stats.ts";

/**
 * Other apps using the same instance (§12: limits are per instance, shared by every API
 * service). Every member is optional and they combine.
 */
export interface ForeignTrafficSpec {
  /** Calls made just now: each enters the rate window and counts against the daily quota. */
  calls?: number;
  /** Calls made earlier today: they count against the daily quota only. */
  quota?: number;
  /** Concurrency slots (of `concurrency`) held by other apps… */
  holdSlots?: number;
  /** …for this long, in ms (scaled by timeScale). @default 1000 */
  holdMs?: number;
  /** A steady stream of calls per second (the second scaled by timeScale). */
  perSecond?: number;
  /** How long the steady stream lasts, in ms (scaled). @default until reset or stop */
  forMs?: number;
}

/** The user id other apps' calls are counted under in usage stats. */
export const foreignUser = "other-integration@example.com";

interface Hold {
  slots: number;
  until: number;
}

interface Stream {
  intervalMs: number;
  start: number;
  until: number;
  emitted: number;
}

function count(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || (value as number) < 0) {
    throw new TypeError(`foreignTraffic.${name} must be an integer ≥ 0`);
  }
  return value as number;
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value))
    throw new TypeError(`foreignTraffic.${name} must be a finite number ≥ 0`);
  return value;
}

/**
 * A stream's calls still inside the window enter it as at most this many runs per tick,
 * so a fast stream or a long clock jump costs bounded time and memory.
 */
const maxRunsPerTick = 10_000;

/** Foreign traffic, applied lazily from the clock on every call. */
export class ForeignTraffic {
  #holds: Hold[] = [];
  #streams: Stream[] = [];
  readonly #window: RateWindow | undefined;
  readonly #quota: DailyQuota;
  readonly #stats: Stats;
  readonly #timeScale: number;

  constructor(window: RateWindow | undefined, quota: DailyQuota, stats: Stats, timeScale: number) {
    this.#window = window;
    this.#quota = quota;
    this.#stats = stats;
    this.#timeScale = timeScale;
  }

  /** Applies a spec at `now`; throws TypeError on a bad member. */
  apply(spec: ForeignTrafficSpec, now: number): void {
    if (typeof spec !== "object" || spec === null || Array.isArray(spec))
      throw new TypeError("foreignTraffic: expected an object");
    const calls = count("calls", spec.calls);
    const quota = count("quota", spec.quota);
    const holdSlots = count("holdSlots", spec.holdSlots);
    const holdMs = duration("holdMs", spec.holdMs, 1000);
    const perSecond = duration("perSecond", spec.perSecond, 0);
    const forMs =
      spec.forMs === undefined ? Number.POSITIVE_INFINITY : duration("forMs", spec.forMs, 0);
    if (calls > 0) {
      this.#window?.add(now, calls);
      this.#use(now, calls);
    }
    if (quota > 0) this.#use(now, quota);
    if (holdSlots > 0)
      this.#holds.push({ slots: holdSlots, until: now + holdMs * this.#timeScale });
    if (perSecond > 0) {
      this.#streams.push({
        intervalMs: (1000 / perSecond) * this.#timeScale,
        start: now,
        until: now + forMs * this.#timeScale,
        emitted: 0,
      });
    }
  }

  #use(now: number, n: number): void {
    this.#quota.consume(now, n);
    this.#stats.recordForeign(now, foreignUser, n);
  }

  /** Emits the steady streams' calls up to `now`. */
  tick(now: number): void {
    for (const s of this.#streams) {
      const due = Math.floor((Math.min(now, s.until) - s.start) / s.intervalMs);
      const n = due - s.emitted;
      if (n <= 0) continue;
      const windowMs = this.#window?.windowMs ?? 0;
      // Only calls still inside the window matter to it; older ones would be pruned at once.
      const inWindow = Math.min(n, Math.ceil(windowMs / s.intervalMs) + 1);
      const first = n - inWindow + 1;
      const runs = Math.min(inWindow, maxRunsPerTick);
      for (let r = 0; r < runs; r++) {
        const lo = first + Math.floor((r * inWindow) / runs);
        const hi = first + Math.floor(((r + 1) * inWindow) / runs) - 1;
        // A run is stamped with its latest call, so it leaves the window no earlier than they would.
        this.#window?.add(s.start + (s.emitted + hi) * s.intervalMs, hi - lo + 1);
      }
      this.#use(now, n);
      s.emitted = due;
    }
    this.#streams = this.#streams.filter((s) => s.until > now);
  }

  /** Concurrency slots held by other apps at `now`. */
  heldSlots(now: number): number {
    this.#holds = this.#holds.filter((h) => h.until > now);
    return this.#holds.reduce((sum, h) => sum + h.slots, 0);
  }

  /** What is going on, for /_sandbox/state. */
  describe(now: number): Record<string, unknown> {
    return {
      heldSlots: this.heldSlots(now),
      streams: this.#streams.map((s) => ({
        perSecond: 1000 / (s.intervalMs / this.#timeScale),
        until: s.until,
      })),
    };
  }

  /** Stops all foreign traffic. */
  clear(): void {
    this.#holds = [];
    this.#streams = [];
  }
}
