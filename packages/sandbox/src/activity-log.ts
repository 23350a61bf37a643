/** One activity as stored: the members Get Lead Activities reads back. */
export interface Activity {
  id: number;
  leadId: number;
  activityTypeId: number;
  /** Epoch milliseconds of `activityDate`; activities are read in this order. */
  at: number;
  /** The id behind the primary attribute (a program id for Push Lead), when it has one. */
  primaryAttributeValueId?: number;
  primaryAttributeValue: string;
  /** Secondary attributes by display name, in the order written. */
  attributes: Array<{ name: string; value: unknown }>;
}

/** A read position: after the activity dated `at` with id `id` (id 0: from `at` on). */
export interface Position {
  at: number;
  id: number;
}

/** One window of a scan. */
export interface Scanned {
  /** The activities in the window, oldest first. */
  rows: Activity[];
  /** Where the next window starts (unchanged when the window was empty). */
  next: Position;
  /** True when activities remain after the window. */
  more: boolean;
}

/**
 * Activities ordered by activity date, then id, as Get Lead Activities pages through them.
 * Only the `keep` latest by date are kept: Marketo purges old activities after a while, and
 * a long benchmark writes millions. Dropping the oldest by date keeps every read correct for
 * what is kept: a read from before the oldest kept activity starts at that activity.
 */
export class ActivityLog {
  readonly keep: number;
  #rows: Activity[] = [];
  #nextId = 1;
  #purged = 0;

  constructor(keep: number) {
    this.keep = keep;
  }

  /** Activities ever written, kept or purged. */
  get written(): number {
    return this.#nextId - 1;
  }

  /** Activities dropped to stay within `keep`. */
  get purged(): number {
    return this.#purged;
  }

  /** The kept activities, oldest first. */
  get rows(): readonly Activity[] {
    return this.#rows;
  }

  /** Writes an activity and returns its id. */
  add(activity: Omit<Activity, "id">): number {
    const row: Activity = { ...activity, id: this.#nextId++ };
    // A new id is the largest, so it goes after every activity of the same date.
    const i = this.#firstAfter({ at: row.at, id: row.id });
    if (i === this.#rows.length) this.#rows.push(row);
    else this.#rows.splice(i, 0, row);
    // Trim in steps of a tenth, so a write costs no copy of the whole log on average.
    if (this.#rows.length > this.keep + Math.max(1, Math.floor(this.keep / 10))) {
      const drop = this.#rows.length - this.keep;
      this.#rows.splice(0, drop);
      this.#purged += drop;
    }
    return row.id;
  }

  /** Index of the first activity after `p` in (date, id) order. */
  #firstAfter(p: Position): number {
    let lo = 0;
    let hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.#rows[mid] as Activity;
      if (r.at < p.at || (r.at === p.at && r.id <= p.id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Up to `size` activities after `from` of the leads `leadOk` accepts (all types), and
   * whether more of those leads' activities follow.
   */
  scan(from: Position, size: number, leadOk: (leadId: number) => boolean): Scanned {
    const rows: Activity[] = [];
    let i = this.#firstAfter(from);
    for (; i < this.#rows.length && rows.length < size; i++) {
      const r = this.#rows[i] as Activity;
      if (leadOk(r.leadId)) rows.push(r);
    }
    let more = false;
    for (; i < this.#rows.length && !more; i++) more = leadOk((this.#rows[i] as Activity).leadId);
    const last = rows.at(-1);
    return { rows, next: last === undefined ? from : { at: last.at, id: last.id }, more };
  }

  clear(): void {
    this.#rows = [];
    this.#nextId = 1;
    this.#purged = 0;
  }
}
