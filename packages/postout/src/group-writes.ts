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
  /**
   * What a request may share with the others of its write, but not with a write on its way (a
   * destination): while one waits (on a lock of its destination, say), the later requests of its
   * lane wait for it, instead of starting another write that would wait on the same lock and
   * take the requests written with them along. @default none
   */
  readonly lane?: (item: T) => readonly (string | number)[];
  /** A request's size (e.g. its leads), and the most one merged write takes. @default 1, no limit */
  readonly size?: (item: T) => number;
  readonly maxSize?: number;
  /**
   * How long the newest write may be on its way before requests that came meanwhile go in a
   * write of their own, so one stuck statement (a lock wait, a lost connection) does not hold
   * up every later request. @default 1000
   */
  readonly stuckMs?: number;
  /** The most writes on their way at once (the stuck ones included). @default 4 */
  readonly maxInFlight?: number;
}

/** A write on its way: when it started, and the unique values and lanes its requests hold. */
interface Flight {
  readonly startedAt: number;
  readonly holds: ReadonlySet<string | number>;
  readonly lanes: ReadonlySet<string | number>;
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
 * request at a time, so that request alone fails. One write is on its way at a time, unless it
 * takes longer than `stuckMs`: then the requests waiting behind it start another (up to
 * `maxInFlight`), never one that shares a unique value or a lane with a write on its way.
 */
export class GroupWrites<T, R> {
  readonly #o: GroupWritesOptions<T, R>;
  #waiting: Waiting<T, R>[] = [];
  readonly #flights = new Set<Flight>();
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: GroupWritesOptions<T, R>) {
    this.#o = options;
  }

  /** Writes `item`, with whatever else waits at the same time. */
  write(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#scheduled) return;
      // Requests made in the same turn of the event loop join the same write.
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    });
  }

  /** Starts a write of what waits, when none is on its way or the newest one looks stuck. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0) return;
    const { stuckMs = 1000, maxInFlight = 4 } = this.#o;
    const now = performance.now();
    if (this.#flights.size > 0) {
      // A write that settles pumps again; until then the waiting requests gather.
      if (this.#flights.size >= maxInFlight) return;
      const newest = Math.max(...[...this.#flights].map((f) => f.startedAt));
      if (now - newest < stuckMs) {
        this.#timer = setTimeout(() => this.#pump(), stuckMs - (now - newest));
        this.#timer.unref();
        return;
      }
    }
    const busy = new Set<string | number>();
    const busyLanes = new Set<string | number>();
    for (const flight of this.#flights) {
      for (const v of flight.holds) busy.add(v);
      for (const v of flight.lanes) busyLanes.add(v);
    }
    const { groups, holds, lanes } = this.#take(busy, busyLanes);
    if (groups.length === 0) return;
    const flight: Flight = { startedAt: now, holds, lanes };
    this.#flights.add(flight);
    void Promise.all(groups.map((group) => this.#writeGroup(group))).finally(() => {
      this.#flights.delete(flight);
      this.#pump();
    });
    // Requests left for the next write (too many, or sharing a value) wait for this one to
    // settle, or for it to look stuck.
    if (this.#waiting.length > 0 && this.#flights.size < maxInFlight) {
      this.#timer = setTimeout(() => this.#pump(), stuckMs);
      this.#timer.unref();
    }
  }

  /**
   * The waiting requests by key, each group at most maxSize (a larger request goes alone),
   * leaving those that share a unique value with the group or with a write on its way (`busy`),
   * or a lane with a write on its way (`busyLanes`).
   */
  #take(
    busy: ReadonlySet<string | number>,
    busyLanes: ReadonlySet<string | number>,
  ): {
    groups: Waiting<T, R>[][];
    holds: Set<string | number>;
    lanes: Set<string | number>;
  } {
    const { key, unique, lane, size = () => 1, maxSize = Number.POSITIVE_INFINITY } = this.#o;
    const groups = new Map<string, { list: Waiting<T, R>[]; size: number }>();
    const holds = new Set<string | number>();
    const lanes = new Set<string | number>();
    const left: Waiting<T, R>[] = [];
    for (const w of this.#waiting) {
      const k = key?.(w.item) ?? "";
      const n = size(w.item);
      const u = unique?.(w.item) ?? [];
      const values = typeof u === "string" ? [u] : u;
      const ways = lane?.(w.item) ?? [];
      const group = groups.get(k);
      const free =
        !values.some((v) => holds.has(v) || busy.has(v)) && !ways.some((v) => busyLanes.has(v));
      if (free && !group) groups.set(k, { list: [w], size: n });
      else if (free && group && group.size + n <= maxSize) {
        group.list.push(w);
        group.size += n;
      } else {
        left.push(w);
        continue;
      }
      for (const v of values) holds.add(v);
      for (const v of ways) lanes.add(v);
    }
    this.#waiting = left;
    return { groups: [...groups.values()].map((g) => g.list), holds, lanes };
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
