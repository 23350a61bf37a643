import { LeaseLostError, type Store } from "./store/store.ts";

type Lead = { readonly id: number; readonly marketoId?: number };
type Mark = Parameters<Store["markOnWire"]>[1];

interface Waiting {
  readonly leads: readonly Lead[];
  readonly mark: Mark;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The wire marks of one round, written together: the marks asked for while the previous write
 * was on its way go to the store in one statement per step (group commit), instead of one
 * transaction per call. A round starts ten calls at once, and ten small writes of the same rows'
 * pages contend in the database; one write of their leads does not. Each call still leaves only
 * once its own leads' mark is durable. If a merged write finds a lead no longer held
 * (LeaseLostError), each call's mark is tried alone, so only the calls of lost leads fail.
 */
export class WireMarks {
  readonly #store: Store;
  #waiting: Waiting[] = [];
  #writing: Promise<void> | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Store.markOnWire, written with the other calls' marks waiting at the same time. */
  mark(leads: readonly Lead[], mark: Mark): Promise<void> {
    if (leads.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ leads, mark, resolve, reject });
      this.#writing ??= this.#write();
    });
  }

  /** Writes what waits, then what came meanwhile, until nothing does. */
  async #write(): Promise<void> {
    // The calls a round starts together ask within the same turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    for (let pass = 0; this.#waiting.length > 0 && pass < 1_000_000; pass++) {
      const taken = this.#waiting;
      this.#waiting = [];
      const groups = new Map<string, Waiting[]>();
      for (const w of taken) {
        const key = `${w.mark.step}\u0000${w.mark.done ?? ""}\u0000${w.mark.worker}`;
        const group = groups.get(key);
        if (group) group.push(w);
        else groups.set(key, [w]);
      }
      await Promise.all([...groups.values()].map((group) => this.#writeGroup(group)));
    }
    this.#writing = undefined;
  }

  async #writeGroup(group: readonly Waiting[]): Promise<void> {
    const first = group[0] as Waiting;
    // The earliest time of the group: a create is looked for from the first call that may have made it.
    const at = Math.min(...group.map((w) => w.mark.at));
    const mark = { ...first.mark, at };
    try {
      await this.#store.markOnWire(
        group.flatMap((w) => w.leads),
        mark,
      );
      for (const w of group) w.resolve();
    } catch (error) {
      if (!(error instanceof LeaseLostError) || group.length === 1) {
        for (const w of group) w.reject(error);
        return;
      }
      await Promise.all(
        group.map((w) => this.#store.markOnWire(w.leads, w.mark).then(w.resolve, w.reject)),
      );
    }
  }
}
