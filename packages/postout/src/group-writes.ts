export interface GroupWritesOptions<T, R> {
  /** Writes several requests as one; resolves to each one's result, in their order. */
  readonly together: (items: readonly T[]) => Promise<readonly R[]>;
  /** Writes one request by itself: one that waited alone, or each of a merged write that failed. */
  readonly alone: (item: T) => Promise<R>;
  /**
   * Whether a merged write's failure is every request's (the database is gone, full,
   * unreachable: each would meet it alone too), so they all fail without being tried one by one.
   */
  readonly shared: (error: unknown) => boolean;
  /** Only requests with the same key are written together. @default one key for all */
  readonly key?: (item: T) => string;
  /**
   * What no two requests of one write may share (a destination, lead ids): a request that
   * shares one with the group waits for the next write.
   */
  readonly unique?: (item: T) => string | readonly (string | number)[];
  /** A request's size (e.g. its leads), and the most one merged write takes. @default 1, no limit */
  readonly size?: (item: T) => number;
  readonly maxSize?: number;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: the requests that arrive while a write is on its way go to the database together
 * in the next one, instead of one round trip and one commit each. A thousand destinations
 * trickling make a thousand small claims, marks, records and intakes a second; written together
 * they cost a few statements. Each request still resolves only when its own write is durable,
 * with its own result. A merged write that fails for one request's sake is tried again one
 * request at a time, so that request alone fails.
 */
export class GroupWrites<T, R> {
  readonly #o: GroupWritesOptions<T, R>;
  #waiting: Waiting<T, R>[] = [];
  #writing: Promise<void> | undefined;

  constructor(options: GroupWritesOptions<T, R>) {
    this.#o = options;
  }

  /** Writes `item`, with whatever else waits at the same time. */
  write(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  /** Writes what waits, then what came meanwhile, until nothing does. */
  async #drain(): Promise<void> {
    // Requests made in the same turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    for (let pass = 0; this.#waiting.length > 0 && pass < 1_000_000; pass++) {
      const taken = this.#take();
      await Promise.all([...taken.values()].map((group) => this.#writeGroup(group)));
    }
    this.#writing = undefined;
  }

  /** The waiting requests by key, each group at most maxSize (a larger request goes alone). */
  #take(): Map<string, Waiting<T, R>[]> {
    const { key, unique, size = () => 1, maxSize = Number.POSITIVE_INFINITY } = this.#o;
    const groups = new Map<
      string,
      { list: Waiting<T, R>[]; size: number; taken: Set<string | number> }
    >();
    const left: Waiting<T, R>[] = [];
    for (const w of this.#waiting) {
      const k = key?.(w.item) ?? "";
      const n = size(w.item);
      const u = unique?.(w.item) ?? [];
      const values = typeof u === "string" ? [u] : u;
      const group = groups.get(k);
      if (!group) groups.set(k, { list: [w], size: n, taken: new Set(values) });
      else if (group.size + n <= maxSize && !values.some((v) => group.taken.has(v))) {
        group.list.push(w);
        group.size += n;
        for (const v of values) group.taken.add(v);
      } else left.push(w);
    }
    this.#waiting = left;
    return new Map([...groups].map(([k, g]) => [k, g.list]));
  }

  async #writeGroup(group: readonly Waiting<T, R>[]): Promise<void> {
    const { shared } = this.#o;
    // A write that throws instead of rejecting fails its requests all the same.
    const together = async (items: readonly T[]) => this.#o.together(items);
    const alone = async (item: T) => this.#o.alone(item);
    if (group.length === 1) {
      const only = group[0] as Waiting<T, R>;
      await alone(only.item).then(only.resolve, only.reject);
      return;
    }
    let results: readonly R[];
    try {
      results = await together(group.map((w) => w.item));
    } catch (error) {
      if (shared(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      await Promise.all(group.map((w) => alone(w.item).then(w.resolve, w.reject)));
      return;
    }
    group.forEach((w, i) => {
      w.resolve(results[i] as R);
    });
  }
}
