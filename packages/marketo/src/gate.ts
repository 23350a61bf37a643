import { explainCode } from "./codes.ts";
import { DailyQuotaError } from "./errors.ts";
import { nextQuotaReset, quotaDay } from "./quota-day.ts";

/** The limits one acquisition is checked against (already lowered to this client's share). */
export interface GateLimits {
  readonly calls: number;
  /** The rolling window, margin included. */
  readonly windowMs: number;
  readonly concurrency: number;
  readonly dailyQuota: number;
}

/** A granted slot; give it back with {@link GateStore.release}. */
export interface Ticket {
  readonly id: string;
  readonly startedAt: number;
  /** This client's calls in the rolling window when the slot was granted, this one not counted. */
  readonly inWindow: number;
  /** This client's calls in flight when the slot was granted, this one not counted. */
  readonly inFlight: number;
}

export type PauseReason = "rate" | "quota";

export type AcquireAnswer =
  | { readonly granted: true; readonly ticket: Ticket }
  | {
      readonly granted: false;
      readonly reason: "window" | "concurrency" | PauseReason;
      /** When trying again can succeed; `undefined` when it waits for a release. */
      readonly retryInMs: number | undefined;
    };

/** The share of the limits this client uses, lowered after 606/615 caused by other apps. */
export interface ShareState {
  readonly share: number;
  /** When the share was last lowered; it grows back from there. */
  readonly since: number;
}

export interface GateSnapshot {
  readonly inFlight: number;
  readonly inWindow: number;
  readonly quotaUsed: number;
  readonly pausedUntil: number;
  readonly pauseReason: PauseReason | undefined;
  readonly share: ShareState;
  /** The share in force now (the stored one grown back since). */
  readonly currentShare: number;
}

/**
 * Where the gate keeps its state. Each method is one atomic step, so that an implementation
 * over Redis or a database row lets several processes share one instance's budget.
 * `tryAcquire` checks pause, quota, window and concurrency and, if all allow, records the call.
 */
export interface GateStore {
  tryAcquire(now: number, limits: GateLimits, day: string): Promise<AcquireAnswer>;
  release(ticket: Ticket, now: number): Promise<void>;
  /** Refuses every acquisition until `until` (606: one window; 607: the quota reset). */
  pause(until: number, reason: PauseReason): Promise<void>;
  /** Adds `delta` to the day's count (negative for calls Marketo does not count, §12). */
  adjustQuota(day: string, delta: number): Promise<void>;
  /** Sets the day's count to Marketo's own figure when that is higher (usage.json). */
  reconcileQuota(day: string, used: number): Promise<void>;
  readShare(): Promise<ShareState>;
  writeShare(state: ShareState): Promise<void>;
  /** `inWindow` counts the calls started in the `windowMs` before `now`. */
  snapshot(now: number, day: string, windowMs: number): Promise<GateSnapshot>;
}

/**
 * The gate's state in this process. The rolling window is a log of start times rather than
 * p-queue's `interval`/`intervalCap`: p-queue keeps its counters private to one process, and
 * this state must be able to move behind a shared store.
 */
export class MemoryGateStore implements GateStore {
  #starts: number[] = [];
  #inFlight = new Set<string>();
  #quota = new Map<string, number>();
  #pausedUntil = 0;
  #pauseReason: PauseReason | undefined;
  #share: ShareState = { share: 1, since: 0 };
  #nextId = 0;

  #prune(now: number, windowMs: number): void {
    let drop = 0;
    while (drop < this.#starts.length && (this.#starts[drop] ?? 0) <= now - windowMs) drop++;
    if (drop > 0) this.#starts.splice(0, drop);
  }

  async tryAcquire(now: number, limits: GateLimits, day: string): Promise<AcquireAnswer> {
    if (this.#pausedUntil > now && this.#pauseReason) {
      return { granted: false, reason: this.#pauseReason, retryInMs: this.#pausedUntil - now };
    }
    if ((this.#quota.get(day) ?? 0) >= limits.dailyQuota) {
      return { granted: false, reason: "quota", retryInMs: undefined };
    }
    this.#prune(now, limits.windowMs);
    if (this.#starts.length >= limits.calls) {
      const oldest = this.#starts[this.#starts.length - limits.calls] ?? now;
      return {
        granted: false,
        reason: "window",
        retryInMs: Math.max(1, oldest + limits.windowMs - now),
      };
    }
    if (this.#inFlight.size >= limits.concurrency) {
      return { granted: false, reason: "concurrency", retryInMs: undefined };
    }
    const ticket = {
      id: String(++this.#nextId),
      startedAt: now,
      inWindow: this.#starts.length,
      inFlight: this.#inFlight.size,
    };
    this.#starts.push(now);
    this.#inFlight.add(ticket.id);
    this.#count(day, 1);
    return { granted: true, ticket };
  }

  async release(ticket: Ticket): Promise<void> {
    this.#inFlight.delete(ticket.id);
  }

  async pause(until: number, reason: PauseReason): Promise<void> {
    if (until > this.#pausedUntil) {
      this.#pausedUntil = until;
      this.#pauseReason = reason;
    }
  }

  #count(day: string, delta: number): void {
    // Only today matters; yesterday's count is dropped when a new quota day starts.
    if (!this.#quota.has(day)) this.#quota.clear();
    this.#quota.set(day, Math.max(0, (this.#quota.get(day) ?? 0) + delta));
  }

  async adjustQuota(day: string, delta: number): Promise<void> {
    this.#count(day, delta);
  }

  async reconcileQuota(day: string, used: number): Promise<void> {
    const counted = this.#quota.get(day) ?? 0;
    if (used > counted) this.#count(day, used - counted);
  }

  async readShare(): Promise<ShareState> {
    return this.#share;
  }

  async writeShare(state: ShareState): Promise<void> {
    this.#share = state;
  }

  async snapshot(now: number, day: string, windowMs: number): Promise<GateSnapshot> {
    return {
      inFlight: this.#inFlight.size,
      inWindow: this.#starts.filter((t) => t > now - windowMs && t <= now).length,
      quotaUsed: this.#quota.get(day) ?? 0,
      pausedUntil: this.#pausedUntil,
      pauseReason: this.#pausedUntil > now ? this.#pauseReason : undefined,
      share: this.#share,
      currentShare: this.#share.share,
    };
  }
}

/** What the gate enforces, before the share is applied. */
export interface GateConfig {
  readonly calls: number;
  readonly windowMs: number;
  readonly windowMarginMs: number;
  readonly concurrency: number;
  readonly dailyQuota: number;
  readonly minShare: number;
  readonly recoveryPerWindow: number;
  readonly store: GateStore;
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onWait?: (reason: string, ms: number | undefined) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The call gate of one Marketo instance: at most `calls` per rolling window, `concurrency` in
 * flight, and the daily quota. Waiters are served in arrival order.
 */
export class Gate {
  readonly #config: GateConfig;
  readonly #sleep: (ms: number) => Promise<void>;
  #line: Promise<unknown> = Promise.resolve();
  #released: { promise: Promise<void>; resolve: () => void } = Promise.withResolvers<void>();

  constructor(config: GateConfig) {
    this.#config = config;
    this.#sleep = config.sleep ?? realSleep;
  }

  /** The share in force now: the last lowered value, grown back linearly per window since. */
  async share(): Promise<number> {
    const { share, since } = await this.#config.store.readShare();
    const grown =
      share +
      (this.#config.recoveryPerWindow * (this.#config.now() - since)) / this.#config.windowMs;
    return Math.min(1, grown);
  }

  async limits(): Promise<GateLimits> {
    const share = await this.share();
    const c = this.#config;
    return {
      calls: Math.max(1, Math.floor(c.calls * share)),
      windowMs: c.windowMs + c.windowMarginMs,
      concurrency: Math.max(1, Math.floor(c.concurrency * share)),
      dailyQuota: c.dailyQuota,
    };
  }

  /** Waits for a slot. Throws {@link DailyQuotaError} at once when the quota is used up. */
  acquire(): Promise<Ticket> {
    const turn = this.#line.then(() => this.#take());
    this.#line = turn.catch(() => undefined);
    return turn;
  }

  async #take(): Promise<Ticket> {
    const { store, now } = this.#config;
    // Bounded: each pass either returns, throws, or sleeps until something can have changed.
    for (;;) {
      const at = now();
      const answer = await store.tryAcquire(at, await this.limits(), quotaDay(new Date(at)));
      if (answer.granted) return answer.ticket;
      if (answer.reason === "quota") throw quotaError(at);
      this.#config.onWait?.(answer.reason, answer.retryInMs);
      if (answer.retryInMs !== undefined) {
        await this.#sleep(answer.retryInMs);
      } else {
        // A release in this process wakes us at once; one in another process by the poll.
        const poll = Math.max(5, Math.min(250, this.#config.windowMs / 40));
        await this.#untilReleased(poll);
      }
    }
  }

  /** Waits for a release or `ms`, whichever comes first, and leaves no timer behind. */
  async #untilReleased(ms: number): Promise<void> {
    if (this.#config.sleep) {
      await Promise.race([this.#released.promise, this.#sleep(ms)]);
      return;
    }
    // A timer left running would keep a finished program alive for up to one poll.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    try {
      await Promise.race([this.#released.promise, poll]);
    } finally {
      clearTimeout(timer);
    }
  }

  async release(ticket: Ticket): Promise<void> {
    await this.#config.store.release(ticket, this.#config.now());
    const released = this.#released;
    this.#released = Promise.withResolvers<void>();
    released.resolve();
  }

  /** 606/615 from Marketo although the gate let the call through: other apps use the instance. */
  async rateLimited(code: string): Promise<void> {
    const at = this.#config.now();
    // The calls in flight when the instance filled up all come back refused together: lower
    // the share once per window, not once per refusal.
    const last = await this.#config.store.readShare();
    if (last.share < 1 && at - last.since < this.#config.windowMs) return;
    const share = Math.max(this.#config.minShare, (await this.share()) / 2);
    await this.#config.store.writeShare({ share, since: at });
    // 606: the instance's window is full; nothing can pass until it has rolled over.
    if (code === "606") await this.#config.store.pause(at + this.#config.windowMs, "rate");
  }

  /** 607: no call until midnight America/Chicago. */
  async quotaReached(resetsAt: Date): Promise<void> {
    await this.#config.store.pause(resetsAt.getTime(), "quota");
  }

  /** A call Marketo does not count against the quota (601, 602, 604, 605, 608, 611: §12). */
  async uncount(at: number): Promise<void> {
    await this.#config.store.adjustQuota(quotaDay(new Date(at)), -1);
  }

  async reconcile(day: string, used: number): Promise<void> {
    await this.#config.store.reconcileQuota(day, used);
  }

  async snapshot(): Promise<GateSnapshot> {
    const at = this.#config.now();
    const stored = await this.#config.store.snapshot(
      at,
      quotaDay(new Date(at)),
      this.#config.windowMs,
    );
    return { ...stored, currentShare: await this.share() };
  }
}

function quotaError(at: number): DailyQuotaError {
  return new DailyQuotaError({
    code: "607",
    message: `607 Daily quota reached (refused by the client's gate); resets at ${nextQuotaReset(new Date(at)).toISOString()}`,
    errors: [explainCode("607", "Daily quota reached")],
    now: new Date(at),
  });
}
