import { GroupWrites } from "./group-writes.ts";
import { isStoreError } from "./store/errors.ts";
import {
  type AddResult,
  type AttemptRecord,
  type ClaimedLead,
  LeaseLostError,
  type NewLead,
  type RecordOptions,
  type Store,
  type TryRecord,
} from "./store/store.ts";

type Mark = Parameters<Store["markOnWire"]>[1];
type MarkedLead = Parameters<Store["markOnWire"]>[0][number];
type ClaimOptions = Parameters<Store["claimDue"]>[1];

/**
 * A process's delivery writes, each kind written together with the same kind waiting at the same
 * time (GroupWrites): intake batches, claims of destinations whose rounds start together, the
 * wire marks of calls that start together, and the records of rounds that end together. One per
 * store and process, shared by every dispatcher and by intake. With a thousand destinations
 * trickling, this is what keeps the statements per second down to a few per scheduler tick
 * rather than four per Marketo call.
 */
export class StoreWrites {
  readonly #intake: GroupWrites<{ leads: readonly NewLead[]; now: number }, AddResult>;
  readonly #claims: GroupWrites<{ destination: string; options: ClaimOptions }, ClaimedLead[]>;
  readonly #marks: GroupWrites<{ leads: readonly MarkedLead[]; mark: Mark }, void>;
  readonly #records: GroupWrites<
    { records: readonly AttemptRecord[]; tries: readonly TryRecord[]; options: RecordOptions },
    void
  >;

  /** `maxLeads`: leads in one merged intake write at most (a larger batch is written alone). */
  constructor(store: Store, options: { readonly maxLeads?: number } = {}) {
    this.#intake = new GroupWrites({
      // Every batch of the group was accepted by now: the latest of their times is the write's.
      together: async (batches) =>
        splitAdded(
          await store.addLeads(
            batches.flatMap((b) => b.leads),
            Math.max(...batches.map((b) => b.now)),
          ),
          batches.map((b) => b.leads.length),
        ),
      alone: (b) => store.addLeads(b.leads, b.now),
      shared: isStoreError,
      size: (b) => b.leads.length,
      maxSize: options.maxLeads ?? 5000,
      // An intake waiting on its destination's lock (a paused destination's row, read FOR SHARE)
      // holds back that destination's later intakes only: written with them, another
      // destination's batch would wait on the same lock.
      lane: (b) => [...new Set(b.leads.map((l) => l.destination))],
    });
    this.#claims = new GroupWrites({
      // Claimed as of the latest time asked: every lead due then was due when the last one asked.
      together: (claims) => {
        const now = Math.max(...claims.map((c) => c.options.now));
        const { worker, leaseMs } = (claims[0] as (typeof claims)[number]).options;
        return store.claimDueMany(
          claims.map((c) => ({ destination: c.destination, limit: c.options.limit })),
          { now, worker, leaseMs },
        );
      },
      alone: (c) => store.claimDue(c.destination, c.options),
      shared: isStoreError,
      // One destination has one round at a time; its claims never wait together.
      key: (c) => `${c.options.worker}\u0000${c.options.leaseMs}`,
      unique: (c) => c.destination,
    });
    this.#marks = new GroupWrites({
      // The latest time of the group. The fence checks the lease at the mark's time, so each call
      // must be checked at its own time or later: an earlier call's time would let out a call whose
      // lease ran out in between. No call of the group leaves before this write commits, after
      // every one's time, so verification still looks for a create from before the call (less
      // verify.skewMs), and a step already marked keeps its first time.
      together: async (marks) => {
        const first = marks[0]?.mark as Mark;
        await store.markOnWire(
          marks.flatMap((m) => m.leads),
          { ...first, at: Math.max(...marks.map((m) => m.mark.at)) },
        );
        return marks.map(() => undefined);
      },
      alone: (m) => store.markOnWire(m.leads, m.mark),
      // A lead no longer held fails only the call it belongs to.
      shared: (error) => !(error instanceof LeaseLostError),
      key: (m) => `${m.mark.step}\u0000${m.mark.done ?? ""}\u0000${m.mark.worker}`,
    });
    this.#records = new GroupWrites({
      together: async (rounds) => {
        await store.recordAttempts(
          rounds.flatMap((r) => r.records),
          rounds.flatMap((r) => r.tries),
          rounds[0]?.options,
        );
        return rounds.map(() => undefined);
      },
      alone: (r) => store.recordAttempts(r.records, r.tries, r.options),
      shared: isStoreError,
      key: (r) => r.options.worker ?? "",
      // A lead's records of two rounds are not merged: its attempts are numbered in order.
      unique: (r) => r.records.map((a) => a.leadId),
    });
  }

  /** Store.addLeads. */
  add(leads: readonly NewLead[], now: number): Promise<AddResult> {
    return this.#intake.write({ leads, now });
  }

  /** Store.claimDue. */
  claim(destination: string, options: ClaimOptions): Promise<ClaimedLead[]> {
    return this.#claims.write({ destination, options });
  }

  /** Store.markOnWire. */
  mark(leads: readonly MarkedLead[], mark: Mark): Promise<void> {
    if (leads.length === 0) return Promise.resolve();
    return this.#marks.write({ leads, mark });
  }

  /** Store.recordAttempts. */
  record(
    records: readonly AttemptRecord[],
    tries: readonly TryRecord[],
    options: RecordOptions,
  ): Promise<void> {
    if (records.length === 0 && tries.length === 0) return Promise.resolve();
    return this.#records.write({ records, tries, options });
  }
}

/** One merged intake's result, cut back into each batch's (`sizes`: its leads, in order). */
function splitAdded(result: AddResult, sizes: readonly number[]): AddResult[] {
  let from = 0;
  return sizes.map((size) => {
    const to = from + size;
    const duplicate = result.duplicate.slice(from, to);
    const duplicates = duplicate.filter(Boolean).length;
    const part = {
      ids: result.ids.slice(from, to),
      duplicate,
      accepted: size - duplicates,
      duplicates,
    };
    from = to;
    return part;
  });
}
