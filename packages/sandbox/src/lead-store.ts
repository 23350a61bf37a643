/** A stored lead: field values by REST name, plus the system-managed members. */
export type Lead = Record<string, unknown> & {
  id: number;
  createdAt: string;
  updatedAt: string;
  leadPartitionId: number;
};

// unverified: Marketo matches email addresses without regard to case; we do too.
function keyOf(field: string, value: unknown): string {
  const text = String(value);
  return field === "email" ? text.toLowerCase() : text;
}

/**
 * The lead database in memory. Lookup fields are indexed on first use and kept current on
 * every write, so a 300-lead sync stays cheap with many leads stored.
 */
export class LeadStore {
  #leads = new Map<number, Lead>();
  #indexes = new Map<string, Map<string, Set<number>>>();
  #nextId = 1;

  get size(): number {
    return this.#leads.size;
  }

  get(id: number): Lead | undefined {
    return this.#leads.get(id);
  }

  /** Every lead in id order (ids only grow, and a Map keeps insertion order). */
  all(): IterableIterator<Lead> {
    return this.#leads.values();
  }

  /** Up to `limit` leads with ids above `id`, ascending, and whether more follow. */
  after(id: number, limit: number): { leads: Lead[]; more: boolean } {
    const leads: Lead[] = [];
    let next = Math.max(0, Math.floor(id)) + 1;
    // Ids are handed out in order, so walking them from `id` costs the page, not the store.
    for (; next < this.#nextId && leads.length < limit; next++) {
      const lead = this.#leads.get(next);
      if (lead !== undefined) leads.push(lead);
    }
    let more = false;
    for (; next < this.#nextId && !more; next++) more = this.#leads.has(next);
    return { leads, more };
  }

  #index(field: string): Map<string, Set<number>> {
    let index = this.#indexes.get(field);
    if (index === undefined) {
      index = new Map();
      for (const lead of this.#leads.values()) {
        const value = lead[field];
        if (value !== undefined && value !== null) add(index, keyOf(field, value), lead.id);
      }
      this.#indexes.set(field, index);
    }
    return index;
  }

  /** Ids of the leads whose `field` equals `value`, ascending. */
  find(field: string, value: unknown): number[] {
    if (value === undefined || value === null || value === "") return [];
    if (field === "id") {
      const id = Number(value);
      return this.#leads.has(id) ? [id] : [];
    }
    const ids = this.#index(field).get(keyOf(field, value));
    return ids === undefined ? [] : [...ids].sort((a, b) => a - b);
  }

  /** Creates a lead with `values` (already checked). */
  create(values: Record<string, unknown>, partitionId: number, nowIso: string): Lead {
    const lead: Lead = {
      ...values,
      id: this.#nextId++,
      createdAt: nowIso,
      updatedAt: nowIso,
      leadPartitionId: partitionId,
    };
    this.#leads.set(lead.id, lead);
    for (const [field, index] of this.#indexes) {
      const value = lead[field];
      if (value !== undefined && value !== null) add(index, keyOf(field, value), lead.id);
    }
    return lead;
  }

  /** Writes `values` (already checked) onto an existing lead. */
  update(lead: Lead, values: Record<string, unknown>, nowIso: string): void {
    for (const [field, value] of Object.entries(values)) {
      const index = this.#indexes.get(field);
      if (index !== undefined) {
        const old = lead[field];
        if (old !== undefined && old !== null) index.get(keyOf(field, old))?.delete(lead.id);
        if (value !== undefined && value !== null) add(index, keyOf(field, value), lead.id);
      }
      lead[field] = value;
    }
    lead.updatedAt = nowIso;
  }

  /** Leads whose email address another lead also holds (duplicates, e.g. by createDuplicate). */
  sharingEmail(): number {
    let n = 0;
    for (const ids of this.#index("email").values()) if (ids.size > 1) n += ids.size;
    return n;
  }

  clear(): void {
    this.#leads.clear();
    this.#indexes.clear();
    this.#nextId = 1;
  }
}

function add(index: Map<string, Set<number>>, key: string, id: number): void {
  let ids = index.get(key);
  if (ids === undefined) {
    ids = new Set();
    index.set(key, ids);
  }
  ids.add(id);
}
