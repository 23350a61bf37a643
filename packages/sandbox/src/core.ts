import { Clock } from "./clock.ts";
import { FaultBook } from "./faults.ts";
import { ForeignTraffic } from "./foreign.ts";
import { TokenStore } from "./identity.ts";
import { Instance } from "./instance.ts";
import { DailyQuota, RateWindow } from "./limits.ts";
import type { ResolvedOptions } from "./options.ts";
import { nextQuotaReset, quotaDay } from "./quota-day.ts";
import { records } from "./records.ts";
import type { Route } from "./routes.ts";
import { Stats } from "./stats.ts";
import { statsRoutes } from "./stats-endpoint.ts";

/** Everything one running sandbox holds: data, tokens, limits, faults, statistics. */
export class Core {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly instance: Instance;
  readonly tokens: TokenStore;
  readonly faults: FaultBook;
  readonly window: RateWindow | undefined;
  readonly quota = new DailyQuota();
  readonly stats: Stats;
  readonly foreign: ForeignTraffic;
  /** Every Marketo endpoint of this instance, in matching order. */
  readonly routes: readonly Route[];
  inFlight = 0;
  #calls = 0;

  /** `clock` defaults to a new clock at `options.clock`, frozen if `options.freezeClock`. */
  constructor(options: ResolvedOptions, clock = new Clock(options.clock, options.freezeClock)) {
    this.options = options;
    this.clock = clock;
    this.instance = new Instance(options, this.clock);
    this.tokens = new TokenStore(
      options.tokenLifetimeSeconds * 1000 * options.timeScale,
      options.scope,
    );
    this.faults = new FaultBook(options.seed);
    for (const spec of options.faults) this.faults.add(spec);
    this.window =
      options.rateLimit === false
        ? undefined
        : new RateWindow(options.rateLimit.windowMs * options.timeScale);
    this.stats = new Stats(options.callLogSize);
    this.foreign = new ForeignTraffic(this.window, this.quota, this.stats, options.timeScale);
    this.routes = [...this.instance.routes, ...statsRoutes(this)];
  }

  /** The next call number, for requestIds. */
  nextCall(): number {
    this.#calls++;
    return this.#calls;
  }

  /** Brings lazily computed state (foreign streams, bulk imports) up to `now`. */
  tick(now: number): void {
    this.foreign.tick(now);
    this.instance.bulk.tick(now);
  }

  /** Concurrency slots in use: our calls in flight plus slots held by other apps. */
  slotsInUse(now: number): number {
    return this.inFlight + this.foreign.heldSlots(now);
  }

  /** /_sandbox/records: what the instance holds, a page at a time (see records.ts). */
  records(query: Record<string, string | undefined>): Record<string, unknown> {
    this.tick(this.clock.now());
    return records(this.instance, query);
  }

  /** /_sandbox/state. */
  state(): Record<string, unknown> {
    const now = this.clock.now();
    this.tick(now);
    const { rateLimit, concurrency, dailyQuota } = this.options;
    return {
      now: new Date(now).toISOString(),
      ...this.instance.summary(),
      calls: {
        byCode: this.stats.byCode(),
        inFlight: this.inFlight,
        highestInFlight: this.stats.highestInFlight,
      },
      quota: {
        day: quotaDay(now),
        used: this.quota.used(now),
        limit: dailyQuota,
        resetsAt: new Date(nextQuotaReset(now)).toISOString(),
      },
      rateWindow: {
        calls: this.window?.count(now) ?? 0,
        limit: rateLimit === false ? false : rateLimit.calls,
        windowMs: rateLimit === false ? false : rateLimit.windowMs,
      },
      concurrency: { inUse: this.slotsInUse(now), limit: concurrency },
      foreignTraffic: this.foreign.describe(now),
      faults: this.faults.list(),
      liveTokens: this.tokens.live(now),
    };
  }

  /**
   * Back to the start: seed data, no calls, empty window and quota, initial faults, no
   * foreign traffic. Tokens stay valid and the clock keeps its time, so a connected client
   * carries on.
   */
  reset(): void {
    this.instance.reset();
    this.stats.clear();
    this.window?.clear();
    this.quota.clear();
    this.foreign.clear();
    this.faults.clear();
    this.faults.reseed(this.options.seed);
    for (const spec of this.options.faults) this.faults.add(spec);
  }
}
