/**
 * Destination leases: each destination is sent to by one worker (process) at a time, the one
 * holding its lease, so each Marketo instance has one call gate. A worker proves it is alive
 * by its heartbeat; a lease it does not renew expires and another worker takes it.
 *
 * Glossary: a *worker* is one process's id (as on lead claims, `claimed_by`); a *lease* is the
 * right to send to one destination until `expiresAt`; a *claim* is a lead's `claimed_by` +
 * `lease_until` (Store.claimDue). A destination lease covers the claims on its leads: when
 * a worker takes a destination, the claims other workers hold on it are given back at once.
 */
export interface DestinationLeases {
  /** Marks the worker alive until `now + ttlMs`; fair shares count the workers alive. */
  heartbeat(worker: string, now: number, ttlMs: number): Promise<void>;
  /**
   * Renews the worker's leases on `destinations` to `now + leaseMs`, gives up those beyond its
   * fair share (⌈destinations ÷ live workers⌉) except the `busy` ones (a round in flight: it
   * would only lose its claims mid-round; given up at a later balance), takes unowned or expired ones up to it, and
   * gives back the lead claims whose own lease ran out on the destinations it owns. Taking a
   * destination gives back every other worker's lead claims on it (their wire marks stay, so
   * a cut-off call is verified before a resend). Each change of owner is one statement in
   * one transaction: two workers never own a destination at once. Resolves to the
   * destinations the worker owns, sorted.
   */
  balance(
    worker: string,
    destinations: readonly string[],
    now: number,
    leaseMs: number,
    busy?: readonly string[],
  ): Promise<string[]>;
  /** Gives up every lease of the worker and forgets it (a stop): others take them at once. */
  releaseWorker(worker: string): Promise<void>;
  /**
   * The workers holding a lease on any of `destinations`, expired or not: a process started
   * again finds those of its host that died (kill -9) and gives their leases up at once.
   */
  leaseOwners(destinations: readonly string[]): Promise<string[]>;
  /**
   * Of `destinations`, those with leads waiting (queued, retrying or paused), each with the
   * earliest time one is due. One query however many destinations: the scheduler's idle cost.
   */
  dueDestinations(destinations: readonly string[]): Promise<DueDestination[]>;
}

/** A destination with waiting leads and the earliest time one of them is due (epoch ms). */
export interface DueDestination {
  readonly destination: string;
  readonly dueAt: number;
}
