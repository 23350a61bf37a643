import type { Dispatcher } from "./dispatcher.ts";
import type { Store } from "./store/store.ts";

export interface SchedulerOptions {
  readonly store: Store;
  /** This process's worker id: the owner of its destination leases and its lead claims. */
  readonly worker: string;
  /**
   * The destinations this process may send to, read at every balance (destinations can be
   * added and removed while it runs).
   */
  readonly destinations: () => readonly string[];
  /** The dispatcher of a destination, when it still exists. */
  readonly dispatcher: (destination: string) => Dispatcher | undefined;
  /**
   * How long a destination lease (and this worker's heartbeat) lasts unless renewed: a dead
   * process's destinations are taken over this long after its last renewal.
   * @default 15_000
   */
  readonly leaseMs?: number;
  /**
   * Time between looks for due leads: what another process's new leads wait at most before
   * this one sees them. Intake in this process wakes the scheduler at once instead.
   * @default 250
   */
  readonly tickMs?: number;
  /**
   * How long to wait after a wake before starting a round, so a real-time trickle still forms batches.
   * @default 50
   */
  readonly lingerMs?: number;
  /**
   * A round starts only while at least this much of its destination's lease is left: a round
   * must not outlive the lease it was started under (markOnWire still guards every call).
   * @default leaseMs / 3
   */
  readonly marginMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Called when a tick or a round fails (e.g. the database stays busy); the scheduler goes on.
   * @default writes the message to stderr
   */
  readonly onError?: (error: unknown) => void;
}

interface Running {
  /** The destination's round in flight, if any: at most one per destination. */
  round: Promise<void> | undefined;
  /** performance.now() at the start of its last round, for pacing. */
  lastRun: number;
  /** A wake waiting out the linger. */
  wake: ReturnType<typeof setTimeout> | undefined;
  /** New leads of this process arrived while its round was in flight: the round goes on for them. */
  again: boolean;
}

/**
 * The one scheduler of a process: heartbeats and balances its destination leases, finds the
 * owned destinations with due leads in one store query per tick, and runs a round for each
 * (Dispatcher.rounds until nothing is due), one at a time per destination, destinations
 * concurrently. Idle destinations cost no timer and no query of their own.
 */
export class Scheduler {
  readonly #o: Required<Omit<SchedulerOptions, "marginMs">> & { readonly marginMs: number };
  readonly #running = new Map<string, Running>();
  /** Destinations whose lease this worker holds, as of the last balance. */
  #owned = new Set<string>();
  /** Until when the leases of #owned hold (the time of the last balance + leaseMs). */
  #leaseUntil = Number.NEGATIVE_INFINITY;
  #nextBalance = Number.NEGATIVE_INFINITY;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #sleeping: { timer: ReturnType<typeof setTimeout>; done: () => void } | undefined;
  /** Destinations no round may start for (being rebuilt or removed), with how many hold each. */
  readonly #held = new Map<string, number>();

  constructor(options: SchedulerOptions) {
    const leaseMs = options.leaseMs ?? 15_000;
    this.#o = {
      leaseMs,
      tickMs: 250,
      lingerMs: 50,
      now: Date.now,
      onError: (error) =>
        process.stderr.write(
          `postout: scheduler: ${error instanceof Error ? error.message : String(error)}\n`,
        ),
      ...options,
      marginMs: options.marginMs ?? leaseMs / 3,
    };
  }

  /** The destinations this worker holds the lease of, as of the last balance. */
  get owned(): ReadonlySet<string> {
    return this.#owned;
  }

  /** Ticks in the background until {@link stop}. */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /**
   * Stops starting rounds, lets the rounds in flight finish, then gives up every lease of this
   * worker so other processes take the destinations at once (SIGTERM). Also when it never
   * started: the leases a drain took (`post`, `repost`) are given up at the command's end. A
   * store that cannot take the release (deleted, full) is told to `onError`: the leases run out
   * by themselves, and the stop goes on.
   */
  async stop(): Promise<void> {
    if (this.#loop) {
      this.#stopping = true;
      if (this.#sleeping) {
        clearTimeout(this.#sleeping.timer);
        this.#sleeping.done();
      }
      for (const r of this.#running.values()) clearTimeout(r.wake);
      await this.#loop;
      this.#loop = undefined;
      await Promise.all([...this.#running.values()].map((r) => r.round));
    }
    this.#owned = new Set();
    await this.#o.store.releaseWorker(this.#o.worker).catch(this.#o.onError);
  }

  /** Resolves when the rounds in flight now have finished (a batch job, a test). */
  async settled(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => r.round));
  }

  /**
   * Starts no round of `destination` until the returned release is called, and resolves once
   * its round in flight (if any) has finished: a destination is rebuilt or removed between rounds.
   */
  async hold(destination: string): Promise<() => void> {
    this.#held.set(destination, (this.#held.get(destination) ?? 0) + 1);
    await this.#running.get(destination)?.round;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#held.get(destination) ?? 1) - 1;
      if (n > 0) this.#held.set(destination, n);
      else this.#held.delete(destination);
    };
  }

  /** New leads for `destination` in this process: start its round after the linger. */
  wake(destination: string): void {
    if (this.#stopping) return;
    const r = this.#state(destination);
    if (r.round) r.again = true;
    if (r.wake) return;
    r.wake = setTimeout(() => {
      r.wake = undefined;
      this.#startRound(destination);
    }, this.#o.lingerMs);
  }

  /**
   * One tick: heartbeat and balance when due (every leaseMs / 3), then one query for the owned
   * destinations with due leads, and a round for each that has none in flight.
   */
  async tick(): Promise<void> {
    const { store, worker, leaseMs } = this.#o;
    const now = this.#o.now();
    if (now >= this.#nextBalance) {
      const names = this.#o.destinations();
      await store.heartbeat(worker, now, leaseMs);
      const busy = [...this.#running].flatMap(([d, r]) => (r.round ? [d] : []));
      this.#owned = new Set(await store.balance(worker, names, now, leaseMs, busy));
      this.#leaseUntil = now + leaseMs;
      this.#nextBalance = now + leaseMs / 3;
    }
    const idle = [...this.#owned].filter((d) => this.#running.get(d)?.round === undefined);
    if (idle.length === 0) return;
    for (const { destination, dueAt } of await store.dueDestinations(idle)) {
      if (dueAt <= now) this.#startRound(destination);
    }
  }

  /** Whether a round of `destination` may start now: leased, with time left on the lease. */
  #mayStart(destination: string): boolean {
    return (
      !this.#stopping &&
      !this.#held.has(destination) &&
      this.#owned.has(destination) &&
      this.#o.now() < this.#leaseUntil - this.#o.marginMs
    );
  }

  #state(destination: string): Running {
    let r = this.#running.get(destination);
    if (!r) {
      r = { round: undefined, lastRun: Number.NEGATIVE_INFINITY, wake: undefined, again: false };
      this.#running.set(destination, r);
    }
    return r;
  }

  #startRound(destination: string): void {
    const dispatcher = this.#o.dispatcher(destination);
    const r = this.#state(destination);
    if (!dispatcher || r.round || !this.#mayStart(destination)) return;
    r.round = this.#round(dispatcher, r).finally(() => {
      r.round = undefined;
      // New leads of this process came while the round was ending: their wake found it running.
      if (r.again) this.wake(destination);
    });
  }

  /**
   * Runs the destination's rounds while leads are left behind (a full claim) or new ones of this
   * process came in meanwhile, until nothing of it is due or its lease is ending. Leads another
   * process accepted during a round are found by the next tick: a round that claimed less than
   * its limit does not look again, which with a thousand destinations trickling was one wasted
   * claim (and pause read) per call. One round at a time: while a call is in flight, new leads
   * gather into the next batch. At Marketo's 100 calls per 20 s a trickle must be batched anyway
   * (50 leads/s needs ≥ 10 leads a call); overlapping rounds were measured to overrun the gate
   * and make latency worse.
   */
  async #round(dispatcher: Dispatcher, r: Running): Promise<void> {
    try {
      // Dispatcher.rounds writes each round's record while the next is claimed and sent.
      await dispatcher.rounds(async (claimed) => {
        if (claimed !== undefined && claimed < dispatcher.claimLimit && !r.again) return false;
        if (!this.#mayStart(dispatcher.destination)) return false;
        // Pace rounds to the destination's share of the rate limit.
        const gap = r.lastRun + dispatcher.minRoundIntervalMs - performance.now();
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        if (!this.#mayStart(dispatcher.destination)) return false;
        r.lastRun = performance.now();
        r.again = false;
        return true;
      });
    } catch (error) {
      // Its leads stay claimed until their lease runs out; balance then gives them back.
      this.#o.onError(error);
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.tick();
      } catch (error) {
        this.#o.onError(error);
      }
      if (this.#stopping) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#sleeping = undefined;
          resolve();
        };
        this.#sleeping = { timer: setTimeout(done, this.#o.tickMs), done };
      });
    }
  }
}
