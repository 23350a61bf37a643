/** Limits one batch write must stay within. */
export interface BatchLimits {
  /** Records per call (§12: 300). */
  readonly maxRecords: number;
  /** Serialized body bytes per call (1 MB read as 10^6; 10^7 for bulk import). */
  readonly maxBytes: number;
}

export interface Cut {
  /** Input indices of each batch, in input order. */
  readonly batches: number[][];
  /** Indices of records that exceed `maxBytes` on their own and can never be sent. */
  readonly oversized: number[];
}

/** The UTF-8 byte length of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

/**
 * Cuts records into batches of at most `maxRecords` whose body — `envelope` with the batch as
 * its `input` — stays within `maxBytes`. Sizes are measured, not estimated, so a 413 can only
 * come from a server stricter than the documented limit.
 */
export function cutBatches(
  records: readonly unknown[],
  limits: BatchLimits,
  envelope: Readonly<Record<string, unknown>> = {},
): Cut {
  const overhead = jsonBytes({ ...envelope, input: [] });
  const batches: number[][] = [];
  const oversized: number[] = [];
  let current: number[] = [];
  let bytes = overhead;
  records.forEach((record, index) => {
    const size = jsonBytes(record);
    if (overhead + size > limits.maxBytes) {
      oversized.push(index);
      return;
    }
    const added = size + (current.length > 0 ? 1 : 0); // the comma between items
    if (current.length >= limits.maxRecords || bytes + added > limits.maxBytes) {
      batches.push(current);
      current = [];
      bytes = overhead;
    }
    bytes += size + (current.length > 0 ? 1 : 0);
    current.push(index);
  });
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}

/** Two halves of a batch (413 split, 604 bisect); the first takes the odd record. */
export function halves<T>(batch: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(batch.length / 2);
  return [batch.slice(0, middle), batch.slice(middle)];
}
