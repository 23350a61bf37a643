/**
 * Finding the leads a create call made, when its answer is unknown (lost on the network, or the
 * process that sent it died). Marketo offers no idempotency key, so the proof is circumstantial:
 * a lead with the lookup value we sent, created after the call went out, holding the fields we
 * sent, and not already attributed to another record of ours. Where the caller wrote a marker
 * of its own into a lead field with the create, the marker alone is the proof. The client's own check after a
 * lost answer and the gateway's check after a crash both use this one definition.
 */

/** The key Marketo matches a lookup value by: strings trimmed and case-folded, numbers as written. */
export function lookupKey(value: unknown): string | undefined {
  if (typeof value === "string") {
    const key = value.trim().toLowerCase();
    return key === "" ? undefined : key;
  }
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** One record whose create call may have run. */
export interface CreateProbe {
  /** The record as it was sent, its lookup field included. */
  readonly input: Readonly<Record<string, unknown>>;
  /** Epoch ms when the first call that may have created it was handed to the network. */
  readonly sentAt: number;
  /**
   * A value of our own the record carried in a lead field (say, our lead's id): when given, a
   * lead is the call's if and only if it holds this value, whatever its times and other fields.
   */
  readonly marker?: { readonly field: string; readonly value: string };
}

/** The lead a probe's call created, as Marketo shows it. */
export interface FoundCreate {
  readonly id: number;
  /** Marketo's `createdAt`, ISO 8601 to the second. */
  readonly createdAt: string;
}

export interface FindCreatedOptions {
  /**
   * How far Marketo's clock may lag ours: a lead created up to this long before the call went
   * out (by its `createdAt`) still counts as the call's. Kept short: a lead another app created
   * just before our call, with the same values, would fall inside it.
   * @default 5_000
   */
  readonly skewMs?: number;
  /**
   * Which of the candidate lead ids are already attributed to other records (say, delivered
   * leads of ours): they are never attributed again.
   * @default none are
   */
  readonly taken?: (ids: readonly number[]) => ReadonlySet<number> | Promise<ReadonlySet<number>>;
}

/** What `findCreated` needs of the client: Get Leads by Filter Type. */
export interface LeadReader {
  getLeadsByFilter(filter: {
    filterType: string;
    filterValues: readonly (string | number)[];
    fields?: readonly string[];
  }): AsyncIterable<Record<string, unknown>[]>;
}

// Values Marketo may store in another form than sent (dates and datetimes): not compared.
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;

const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;

/** A scalar as Marketo may give it back: numbers and numeric text alike, text case-folded. */
function normal(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return String(value);
  if (typeof value !== "string") return undefined;
  return NUMERIC.test(value) ? String(Number(value)) : value.trim().toLowerCase();
}

function sameValue(sent: unknown, stored: unknown): boolean {
  if (sent === null || sent === undefined || sent === "") return true;
  if (typeof sent === "string" && DATE_LIKE.test(sent)) return true;
  if (typeof sent !== "string" && typeof sent !== "number" && typeof sent !== "boolean")
    return true;
  return normal(sent) === normal(stored);
}

/** The fields worth comparing: scalars Marketo keeps as sent. */
function comparedFields(input: Readonly<Record<string, unknown>>, lookupField: string): string[] {
  return Object.keys(input).filter((name) => {
    const value = input[name];
    return name !== lookupField && (typeof value !== "object" || value === null);
  });
}

/**
 * For each probe, the lead its create call made, or `undefined` when no lead proves it ran.
 * Probes without a lookup value cannot be looked up: the caller must not pass them. A lead
 * is attributed to one probe at most, the earliest created to the first probe that fits.
 * Throws what the read throws (a 606, a network failure …): nothing can be concluded then.
 */
export async function findCreated(
  reader: LeadReader,
  lookupField: string,
  probes: readonly CreateProbe[],
  options: FindCreatedOptions = {},
): Promise<(FoundCreate | undefined)[]> {
  const skewMs = options.skewMs ?? 5_000;
  const keys = probes.map((p) => lookupKey(p.input[lookupField]));
  const values = [
    ...new Set(
      probes.flatMap((p, i) => {
        const v = p.input[lookupField];
        return keys[i] !== undefined && (typeof v === "string" || typeof v === "number") ? [v] : [];
      }),
    ),
  ];
  if (values.length === 0) return probes.map(() => undefined);
  const fields = new Set(["id", "createdAt", lookupField]);
  for (const p of probes) {
    if (p.marker) fields.add(p.marker.field);
    else for (const f of comparedFields(p.input, lookupField)) fields.add(f);
  }
  const byKey = new Map<string, Record<string, unknown>[]>();
  for await (const page of reader.getLeadsByFilter({
    filterType: lookupField,
    filterValues: values,
    fields: [...fields],
  })) {
    for (const row of page) {
      const key = lookupKey(row[lookupField]);
      if (key === undefined || typeof row.id !== "number") continue;
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
  }
  const ids = [...byKey.values()].flat().map((row) => row.id as number);
  const taken = new Set(options.taken && ids.length > 0 ? await options.taken(ids) : []);
  return probes.map((probe, i) => {
    const key = keys[i];
    if (key === undefined) return undefined;
    // Marketo's createdAt is to the second: compare against the second the call went out in.
    const earliest = Math.floor(probe.sentAt / 1000) * 1000 - skewMs;
    const candidates = (byKey.get(key) ?? [])
      .map((row) => ({ row, created: Date.parse(String(row.createdAt)) }))
      .filter(({ row, created }) => {
        if (taken.has(row.id as number)) return false;
        const marker = probe.marker;
        if (marker) return String(row[marker.field] ?? "") === marker.value;
        if (!Number.isFinite(created) || created < earliest) return false;
        return comparedFields(probe.input, lookupField).every((f) =>
          sameValue(probe.input[f], row[f]),
        );
      })
      .sort((a, b) => a.created - b.created || (a.row.id as number) - (b.row.id as number));
    const first = candidates[0];
    if (!first) return undefined;
    taken.add(first.row.id as number);
    return { id: first.row.id as number, createdAt: String(first.row.createdAt) };
  });
}
