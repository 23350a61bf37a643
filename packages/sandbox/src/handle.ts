import type { Instant } from "./clock.ts";
import type { Core } from "./core.ts";
import type { Fault, FaultSpec } from "./faults.ts";
import type { ForeignTrafficSpec } from "./foreign.ts";
import type { CallRecord } from "./stats.ts";

/** The settable clock that token expiry, windows, the quota day and bulk progress read. */
export interface SandboxClock {
  now(): number;
  set(at: Instant): void;
  advance(ms: number): void;
  /** Stops the clock; only set and advance move it until resume. */
  freeze(): void;
  /** Lets a frozen clock run again from where it stands. */
  resume(): void;
  readonly frozen: boolean;
}

/** Fault injection, as `/_sandbox/faults`. */
export interface SandboxFaults {
  add(spec: FaultSpec): Fault;
  clear(): void;
  list(): Fault[];
  remove(id: number): boolean;
}

/** `/_sandbox/records` paging: at most `limit` per collection, after these ids. */
export interface RecordsQuery {
  /** @default 1000, at most 10000 */
  limit?: number;
  /** Leads and list members with a lead id above this. @default 0 */
  after?: number;
  /** Activities with an id above this. @default 0 */
  activitiesAfter?: number;
}

/**
 * One simulated Marketo instance: where it is, its credentials and its controls (the same
 * as its `/_sandbox/` controls over HTTP). The sandbox itself is one; each of its
 * `instances` is another, with its own data, limits, quota, faults, tokens and clock.
 */
export interface SandboxInstance {
  /** REST at `${url}/rest`, identity at `${url}/identity`, bulk at `${url}/bulk`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The instance's own clock. */
  readonly clock: SandboxClock;
  /** Fault injection, as `/_sandbox/faults`. */
  readonly faults: SandboxFaults;
  /** Every issued token becomes invalid; its next use answers 601. */
  revokeTokens(): void;
  /** Other apps using the instance: rate window, quota and concurrency slots (see ForeignTrafficSpec). */
  foreignTraffic(spec: ForeignTrafficSpec): void;
  /** As `GET /_sandbox/state`. */
  state(): Record<string, unknown>;
  /** As `GET /_sandbox/records`. */
  records(query?: RecordsQuery): Record<string, unknown>;
  /** As `GET /_sandbox/calls`. */
  calls(): CallRecord[];
  /** As `POST /_sandbox/reset`. */
  reset(): void;
}

/**
 * A SandboxInstance over the state an instance is given on first use: reading `url` or
 * the credentials makes nothing; any control does.
 */
export class InstanceHandle implements SandboxInstance {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly #core: () => Core;
  #faults: SandboxFaults | undefined;

  constructor(
    url: string,
    credentials: { clientId: string; clientSecret: string },
    core: () => Core,
  ) {
    this.url = url;
    this.clientId = credentials.clientId;
    this.clientSecret = credentials.clientSecret;
    this.#core = core;
  }

  get clock(): SandboxClock {
    return this.#core().clock;
  }

  get faults(): SandboxFaults {
    if (this.#faults === undefined) {
      const book = this.#core().faults;
      this.#faults = {
        add: (spec) => book.add(spec),
        clear: () => book.clear(),
        list: () => book.list(),
        remove: (id) => book.remove(id),
      };
    }
    return this.#faults;
  }

  revokeTokens(): void {
    this.#core().tokens.revokeAll();
  }

  foreignTraffic(spec: ForeignTrafficSpec): void {
    const core = this.#core();
    core.foreign.apply(spec, core.clock.now());
  }

  state(): Record<string, unknown> {
    return this.#core().state();
  }

  records(query: RecordsQuery = {}): Record<string, unknown> {
    const text: Record<string, string> = {};
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) text[key] = String(value);
    }
    return this.#core().records(text);
  }

  calls(): CallRecord[] {
    return this.#core().stats.calls();
  }

  reset(): void {
    this.#core().reset();
  }
}
