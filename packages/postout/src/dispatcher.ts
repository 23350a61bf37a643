import type { MarketoClient } from "@postout/marketo";
import type { Sent } from "./attempt-row.ts";
import { crashPoint } from "./crash-point.ts";
import { deliverRound } from "./delivery.ts";
import { whileLeased } from "./drain-lease.ts";
import type { OutcomePolicy } from "./outcome.ts";
import type { AttemptRecord, ClaimedLead, Store } from "./store/store.ts";
import { StoreWrites } from "./store-writes.ts";
import { TryLog } from "./try-log.ts";
import { DEFAULT_VERIFY, type VerifyOptions } from "./verify.ts";

export interface DispatcherOptions {
  readonly store: Store;
  /**
   * The process's grouped writes (claims, wire marks, records), shared with its other
   * dispatchers so their rounds' writes go to the database together.
   * @default writes of its own
   */
  readonly writes?: StoreWrites;
  readonly destination: string;
  readonly client: MarketoClient;
  /** This process's worker id; claims carry it so a dead worker's leads can be given back. */
  readonly worker: string;
  /**
   * Leads claimed per round: ten full batches, enough to keep ten calls in flight.
   * @default 3000
   */
  readonly claimLimit?: number;
  /**
   * How long a claim holds before another worker may take the leads back. Renewed while sending.
   * @default 300_000
   */
  readonly leaseMs?: number;
  /**
   * How long the destination lease that {@link Dispatcher.drain} and {@link Dispatcher.runOnce}
   * take lasts unless renewed: the scheduler's lease (SchedulerOptions.leaseMs).
   * @default 15_000
   */
  readonly destinationLeaseMs?: number;
  /**
   * Least time between the starts of two rounds in the background (the scheduler paces by it). The gateway sets it a
   * little above window ÷ calls of the destination's share (20 s ÷ 100 → 250 ms), so a trickle
   * is batched at the pace Marketo allows instead of queueing single-lead calls in the gate.
   * @default 0
   */
  readonly minRoundIntervalMs?: number;
  readonly policy?: OutcomePolicy;
  /**
   * When leads whose call may be in Marketo are looked for, and how far Marketo's clock may lag.
   * @default DEFAULT_VERIFY (settle 60 s, skew 5 s)
   */
  readonly verify?: Partial<VerifyOptions>;
  /**
   * A lead field into which createOnly/createDuplicate leads carry Postout's id for them, so a
   * cut-off create is found by it (see DestinationConfig.markerField).
   * @default none: found by lookup value, times and fields
   */
  readonly markerField?: string;
  /**
   * Told when the store cannot keep leads (deleted, full), once per lasting fault.
   * @default writes the message to stderr
   */
  readonly onError?: (error: unknown) => void;
  /** Called after each round's attempts are recorded (e.g. to refresh the schema after a 1006). */
  readonly onRecorded?: (records: readonly AttemptRecord[]) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The rounds of one destination: ends pauses, claims due leads and holds their leases, hands
 * each round to the delivery pipeline (delivery.ts) and records what it returns. The only
 * writer of delivery state. In the background, the process's Scheduler (scheduler.ts) runs
 * its rounds while this process holds the destination's lease; `post` and `repost` drain it,
 * taking the lease themselves (drain-lease.ts). A call leaves only under the lease.
 */
export class Dispatcher {
  readonly #o: Required<
    Omit<DispatcherOptions, "policy" | "onRecorded" | "verify" | "markerField" | "writes">
  > & {
    readonly markerField: string | undefined;
    readonly policy: OutcomePolicy | undefined;
    readonly onRecorded: DispatcherOptions["onRecorded"] | undefined;
    readonly verify: VerifyOptions;
    readonly writes: StoreWrites;
  };
  /** The store's fault last reported, so a lasting one is told once. */
  #sick: string | undefined;

  constructor(options: DispatcherOptions) {
    this.#o = {
      claimLimit: 3000,
      leaseMs: 300_000,
      destinationLeaseMs: 15_000,
      minRoundIntervalMs: 0,
      now: Date.now,
      onError: (error) =>
        process.stderr.write(
          `postout: dispatcher ${options.destination}: ${error instanceof Error ? error.message : String(error)}\n`,
        ),
      ...options,
      policy: options.policy,
      onRecorded: options.onRecorded,
      verify: { ...DEFAULT_VERIFY, ...options.verify },
      markerField: options.markerField,
      writes: options.writes ?? new StoreWrites(options.store),
    };
  }

  get destination(): string {
    return this.#o.destination;
  }

  /** Leads one round claims at most: a round that claimed fewer left none due behind it. */
  get claimLimit(): number {
    return this.#o.claimLimit;
  }

  /** Least time between the starts of two rounds (the scheduler paces by it too). */
  get minRoundIntervalMs(): number {
    return this.#o.minRoundIntervalMs;
  }

  /**
   * Runs rounds until no lead of the destination is due now (each is delivered, needs a fix,
   * or waits for a later retry or the end of a pause), holding the destination's lease (taken
   * first, as a batch job must). Resolves to the number of leads handled: none when another live
   * process holds the lease (its scheduler sends them).
   */
  drain(): Promise<number> {
    return this.#leased(() => true);
  }

  /**
   * Runs rounds while `proceed` allows (asked before each, with how many leads the round before
   * claimed) and leads are due, and resolves once every round's attempts are recorded, to the
   * number of leads handled.
   *
   * A round's record is written while the next round is claimed and sent: the database's work
   * overlaps Marketo's instead of leaving the call slots idle between rounds. Calls never
   * overlap: a round sends only after the previous one's answers are in. The next round waits
   * for the record when it matters: after an answer that pauses the destination, and before
   * leads whose cut-off calls are looked for (verification reads what earlier rounds attributed).
   * The caller holds the destination's lease (the scheduler; {@link drain} takes it).
   */
  async rounds(
    proceed: (claimed: number | undefined) => boolean | Promise<boolean> = () => true,
  ): Promise<number> {
    const { store, worker, leaseMs, now } = this.#o;
    const renew = setInterval(
      () => {
        void store.renewLeases(worker, now() + leaseMs).catch(() => {});
      },
      Math.max(1000, leaseMs / 3),
    );
    let recording: Promise<void> | undefined;
    let total = 0;
    let last: number | undefined;
    try {
      for (let round = 0; round < 1_000_000 && (await proceed(last)); round++) {
        let claimed = await this.#claim();
        if (claimed.length === 0 && recording) {
          // That claim ran beside the last record, which may make leads due now (a retry at 0).
          await recording;
          recording = undefined;
          claimed = await this.#claim();
        }
        last = claimed.length;
        if (claimed.length === 0) break;
        total += claimed.length;
        if (claimed.some((lead) => lead.onWire)) await recording;
        const answered = await this.#send(claimed);
        try {
          await recording;
        } finally {
          // Recorded even when the previous record failed: these calls were answered.
          recording = this.#record(answered);
          // Its failure is thrown where it is awaited (next round or the end), not left unhandled
          // meanwhile: an unhandled rejection would end the process.
          recording.catch(() => {});
        }
        if (answered.sent.some((s) => s.outcome.pauseDestination)) await recording;
      }
    } finally {
      try {
        await recording;
      } finally {
        clearInterval(renew);
      }
    }
    return total;
  }

  /**
   * Drains, then waits for the leads whose calls were cut off (a crash, a lost answer) to be
   * verified: they are due `verify.settleMs` after their call at the latest, so a batch job can
   * end with their outcome instead of leaving them retrying. `onWait` is told how long and for
   * how many before each wait. Resolves to the number of leads handled.
   */
  async drainSettled(onWait?: (ms: number, leads: number) => void): Promise<number> {
    const { store, destination, verify } = this.#o;
    let total = await this.drain();
    for (let round = 0; round < 100; round++) {
      const waiting = await store.countByStatus({
        destination,
        status: ["retrying"],
        // Waiting for a cut-off call to settle (verify.ts), or for a lost answer to be looked for.
        code: ["uncertain", "unknown"],
      });
      if (waiting.retrying === 0) break;
      const next = (await store.nextDueAt(destination)) ?? this.#o.now();
      const ms = Math.min(Math.max(0, next - this.#o.now()), verify.settleMs);
      onWait?.(ms, waiting.retrying);
      await new Promise((resolve) => setTimeout(resolve, ms));
      total += await this.drain();
    }
    return total;
  }

  /**
   * One round under the destination's lease, as {@link drain} holds it: claim due leads, send
   * them, record the outcomes. Resolves to how many leads it handled.
   */
  runOnce(): Promise<number> {
    let rounds = 0;
    return this.#leased(() => rounds++ === 0);
  }

  /** Rounds while `more` allows and this worker holds the destination's lease (taken or renewed before each). */
  #leased(more: () => boolean): Promise<number> {
    const { store, worker, destination, destinationLeaseMs, now } = this.#o;
    return whileLeased({ store, worker, destination, leaseMs: destinationLeaseMs, now }, (hold) =>
      this.rounds(async () => more() && (await hold())),
    );
  }

  /**
   * Claims the due leads of the destination, unless it is paused; ends a pause that is over. The
   * claim itself takes nothing while a pause lasts, so the pause is read only when it comes back
   * empty: one statement a round while leads flow.
   */
  async #claim(): Promise<ClaimedLead[]> {
    const { store, writes, destination, worker, leaseMs, claimLimit } = this.#o;
    // A database deleted, replaced or full: nothing is sent whose outcome could not be kept.
    const sick = await store.health();
    if (sick?.code !== this.#sick) {
      this.#sick = sick?.code;
      if (sick) this.#o.onError(sick);
    }
    if (sick) return [];
    const claim = () =>
      writes.claim(destination, { now: this.#o.now(), limit: claimLimit, worker, leaseMs });
    const claimed = await claim();
    if (claimed.length > 0) return claimed;
    const now = this.#o.now();
    const pause = await store.getDestination(destination);
    if (pause?.pausedUntil === undefined) return [];
    if (pause.pausedUntil > now) {
      // Leads accepted while the destination is paused wait as paused, so a summary or a
      // report counts them instead of showing them nowhere.
      await store.holdQueued(destination, pause.pausedUntil, now);
      return [];
    }
    // The pause is over (e.g. the quota reset at midnight Chicago): put the paused leads back in line.
    await store.setDestinationPause(destination, undefined, now);
    await store.resumeDestination(destination, now);
    return claim();
  }

  /** Sends claimed leads through their steps: what each step made of each lead. */
  #send(claimed: readonly ClaimedLead[]): Promise<{ sent: Sent[]; tries: TryLog }> {
    const { store, writes, destination, worker, client, now, policy, verify, markerField } =
      this.#o;
    const tries = new TryLog(now);
    return deliverRound(
      {
        store,
        destination,
        worker,
        marks: writes,
        client,
        now,
        policy,
        tries,
        verify,
        markerField,
        attributed: { leads: new Set(), activities: new Set() },
      },
      claimed,
    ).then((sent) => ({ sent, tries }));
  }

  /** Records an attempt for each step made, and the pause an answer asked for. */
  async #record({ sent, tries }: { sent: Sent[]; tries: TryLog }): Promise<void> {
    const { store, writes, destination, worker, now } = this.#o;
    const records = sent.map((s) => s.record);
    await writes.record(records, tries.take(), { worker });
    crashPoint("recorded");
    this.#o.onRecorded?.(records);
    const pause = sent.find((s) => s.outcome.pauseDestination)?.outcome.pauseDestination;
    if (pause) await store.setDestinationPause(destination, pause, now());
  }
}
