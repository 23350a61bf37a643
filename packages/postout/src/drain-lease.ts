import type { DestinationLeases } from "./store/destination-leases.ts";

/** What a drain needs to hold a destination's lease. */
export interface DrainLeaseOptions {
  readonly store: Pick<DestinationLeases, "balance">;
  readonly worker: string;
  readonly destination: string;
  /** How long the lease lasts unless renewed (the scheduler's lease). */
  readonly leaseMs: number;
  readonly now: () => number;
}

/**
 * Runs a drain of one destination without the scheduler (`post`, `repost`, a test integration,
 * the demo) under the destination's lease, as a batch job must: markOnWire lets a call out only
 * while its worker holds the lease, so two processes never send to one destination at once.
 * `run` gets `hold`, which takes the lease (or renews it, when this worker holds it already, e.g.
 * its scheduler) and answers whether the worker holds it now: the drain calls it before each
 * round and stops when it answers false (another live worker holds the lease and sends these
 * leads). Meanwhile the lease is renewed every third of its length, so a long round keeps it.
 * Taking the lease of a single destination never gives up another (a share of one is one); the
 * gateway gives its leases up when it closes.
 */
export async function whileLeased<T>(
  options: DrainLeaseOptions,
  run: (hold: () => Promise<boolean>) => Promise<T>,
): Promise<T> {
  const { store, worker, destination, leaseMs, now } = options;
  const hold = async () =>
    (await store.balance(worker, [destination], now(), leaseMs)).includes(destination);
  // A renewal that fails (a busy database) is tried again at the next one, or before the next
  // round; a call made after the lease ran out is refused by markOnWire, not sent.
  const renew = setInterval(() => void hold().catch(() => {}), Math.max(100, leaseMs / 3));
  try {
    return await run(hold);
  } finally {
    clearInterval(renew);
  }
}
