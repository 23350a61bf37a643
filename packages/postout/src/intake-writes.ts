import { isStoreError } from "./store/errors.ts";
import type { AddResult, NewLead, Store } from "./store/store.ts";

interface Waiting {
  readonly leads: readonly NewLead[];
  readonly now: number;
  readonly resolve: (result: AddResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A process's intake writes, grouped: the batches that arrive while a write is on its way go to
 * the store together in the next one (group commit), instead of one transaction each. A form
 * backend posting a lead or two a request at a thousand requests a second would otherwise cost
 * a commit per request. Each caller still resolves only once its own leads are durable, with its
 * own ids in its own order.
 *
 * A merged write that fails for anything but the store's own fault (StoreError: the database is
 * gone, full, unreachable, which every caller would meet alone too) is retried batch by batch,
 * so one batch the database refuses fails only its own request.
 */
export class IntakeWrites {
  readonly #store: Store;
  readonly #maxLeads: number;
  #waiting: Waiting[] = [];
  #writing: Promise<void> | undefined;

  /** `maxLeads`: leads in one merged write at most (a batch larger than it is written alone). */
  constructor(store: Store, maxLeads = 5000) {
    this.#store = store;
    this.#maxLeads = maxLeads;
  }

  /** Store.addLeads, written with the batches waiting at the same time. */
  add(leads: readonly NewLead[], now: number): Promise<AddResult> {
    if (leads.length === 0) return this.#store.addLeads(leads, now);
    return new Promise<AddResult>((resolve, reject) => {
      this.#waiting.push({ leads, now, resolve, reject });
      this.#writing ??= this.#write();
    });
  }

  /** Writes what waits, then what came meanwhile, until nothing does. */
  async #write(): Promise<void> {
    // Requests parsed in the same turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    for (let pass = 0; this.#waiting.length > 0 && pass < 1_000_000; pass++) {
      let size = 0;
      let n = 0;
      while (n < this.#waiting.length) {
        size += (this.#waiting[n] as Waiting).leads.length;
        if (n > 0 && size > this.#maxLeads) break;
        n++;
      }
      await this.#writeGroup(this.#waiting.splice(0, n));
    }
    this.#writing = undefined;
  }

  async #writeGroup(group: readonly Waiting[]): Promise<void> {
    if (group.length === 1) {
      const only = group[0] as Waiting;
      await this.#store.addLeads(only.leads, only.now).then(only.resolve, only.reject);
      return;
    }
    let result: AddResult;
    try {
      // Every batch of the group was accepted by now: the latest of their times is the write's.
      const now = Math.max(...group.map((w) => w.now));
      result = await this.#store.addLeads(
        group.flatMap((w) => w.leads),
        now,
      );
    } catch (error) {
      if (isStoreError(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      for (const w of group) await this.#store.addLeads(w.leads, w.now).then(w.resolve, w.reject);
      return;
    }
    let from = 0;
    for (const w of group) {
      const to = from + w.leads.length;
      const duplicate = result.duplicate.slice(from, to);
      const duplicates = duplicate.filter(Boolean).length;
      w.resolve({
        ids: result.ids.slice(from, to),
        duplicate,
        accepted: w.leads.length - duplicates,
        duplicates,
      });
      from = to;
    }
  }
}
