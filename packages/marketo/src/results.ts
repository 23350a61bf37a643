import { clip, MAX_CHARS } from "./clip.ts";
import { type ExplainedCode, explainCode } from "./codes.ts";
import { type MarketoError, ResponseLevelError, recordReasons } from "./errors.ts";

/**
 * What happened to one input record.
 * - `created` / `updated`: Marketo wrote it (list and activity "added" read as `created`).
 * - `skipped`: Marketo refused this record; `reasons` say why (1xxx).
 * - `failed`: the client could not get it written (the whole call failed; `error` says how).
 * - `unknown`: a write whose answer was lost; it may or may not have happened. Verify.
 */
export type RecordStatus = "created" | "updated" | "skipped" | "failed" | "unknown";

export interface RecordResult<I = unknown> {
  /** Position in the caller's input. */
  readonly index: number;
  readonly input: I;
  readonly status: RecordStatus;
  /** Lead id, `marketoGUID`, or activity id, when Marketo gave one (a positive integer, or a GUID). */
  readonly id: number | string | undefined;
  /** Marketo's own status word (`created`, `added`, `skipped`, …), when it sent one; cut to `MAX_CHARS.code`. */
  readonly marketoStatus: string | undefined;
  /** Record-level codes (1xxx) or the call's error codes, each with its catalog entry. */
  readonly reasons: readonly ExplainedCode[];
  readonly requestId: string | undefined;
  /** For `failed`: the typed error of the call this record was in. */
  readonly error?: MarketoError;
}

export interface BatchResult<I = unknown> {
  /** One result per input record, in input order. */
  readonly results: readonly RecordResult<I>[];
  readonly counts: Readonly<Record<RecordStatus, number>>;
  /** Marketo's requestId of every call that answered. */
  readonly requestIds: readonly string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function statusOf(word: string | undefined, reasons: readonly ExplainedCode[]): RecordStatus {
  switch (word) {
    case "created":
    case "added":
      return "created";
    case "skipped":
      return "skipped";
    case undefined:
      // Push Lead's documented example: a record with reasons and no status word.
      return reasons.length > 0 ? "skipped" : "unknown";
    default:
      return reasons.length > 0 ? "skipped" : "updated";
  }
}

/**
 * Whether a value is an id of its key as Marketo sends it: a lead, list member or activity id
 * (`id`, `leadId`) is a positive integer; a custom object's `marketoGUID` a short string.
 */
function isId(key: string, value: unknown): value is number | string {
  if (key === "marketoGUID") {
    return typeof value === "string" && value !== "" && value.length <= MAX_CHARS.requestId;
  }
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * Reads one item of `result[]` as the result of input record `index`. An item that is not an
 * object, or that reports a write with an id that is not an id (`"abc"`, `-1`, a megabyte of
 * text), is `unknown`: the write may have happened, and only a lookup can tell which record.
 */
export function fromItem<I>(
  index: number,
  input: I,
  item: unknown,
  requestId: string | undefined,
  idKeys: readonly string[] = ["id", "marketoGUID", "leadId"],
): RecordResult<I> {
  if (!isObject(item)) {
    return unknown(index, input, "Marketo's result for this record was not an object; verify it.");
  }
  const reasons = recordReasons(item);
  const word = typeof item.status === "string" ? clip(item.status, MAX_CHARS.code) : undefined;
  const status = statusOf(word, reasons);
  let id: number | string | undefined;
  for (const key of idKeys) {
    const value = item[key];
    if (value === undefined || value === null) continue;
    if (isId(key, value)) {
      id = value;
      break;
    }
    if (status === "created" || status === "updated") {
      return unknown(
        index,
        input,
        `Marketo reported this record ${word} with an unreadable ${key}; verify it.`,
      );
    }
  }
  return {
    index,
    input,
    status,
    id,
    marketoStatus: word,
    reasons,
    requestId,
  };
}

/** The result of a record whose call failed as a whole. */
export function failed<I>(index: number, input: I, error: MarketoError): RecordResult<I> {
  const reasons =
    error instanceof ResponseLevelError ? error.errors : [explainCode(error.code, error.message)];
  return {
    index,
    input,
    status: "failed",
    id: undefined,
    marketoStatus: undefined,
    reasons,
    requestId: error.requestId,
    error,
  };
}

/** The result of a write whose outcome cannot be known without looking. */
export function unknown<I>(
  index: number,
  input: I,
  message: string,
  id?: number | string,
): RecordResult<I> {
  return {
    index,
    input,
    status: "unknown",
    id,
    marketoStatus: undefined,
    reasons: [explainCode("verify", message)],
    requestId: undefined,
  };
}

/**
 * Pairs the items of `result[]` with the input indices of the batch: by `seq` when Marketo
 * sends it (custom objects, §3.3), else by position (leads: same order as the request).
 * Indices Marketo did not answer for come back as `unknown`.
 */
export function matchItems<I>(
  batch: readonly number[],
  inputs: readonly I[],
  items: readonly unknown[],
  requestId: string | undefined,
): RecordResult<I>[] {
  const bySeq = items.every((item) => isObject(item) && typeof item.seq === "number");
  // One pass over the items, however many a hostile answer holds; the first of a seq wins.
  const seqs = new Map<unknown, unknown>();
  for (const item of bySeq ? items : []) {
    const seq = (item as Record<string, unknown>).seq;
    if (!seqs.has(seq)) seqs.set(seq, item);
  }
  return batch.map((index, position) => {
    const item = bySeq ? seqs.get(position) : items[position];
    const input = inputs[index] as I;
    if (item === undefined) {
      return unknown(index, input, "Marketo's answer had no result for this record; verify it.");
    }
    return fromItem(index, input, item, requestId);
  });
}

/** One result per input, in input order; a record with no result at all is `unknown`. */
export function merge<I>(
  inputs: readonly I[],
  parts: readonly RecordResult<I>[],
  requestIds: readonly string[],
): BatchResult<I> {
  const byIndex = new Map<number, RecordResult<I>>();
  for (const part of parts) byIndex.set(part.index, part);
  const results = inputs.map(
    (input, index) =>
      byIndex.get(index) ?? unknown(index, input, "No call carried this record; verify it."),
  );
  const counts = { created: 0, updated: 0, skipped: 0, failed: 0, unknown: 0 };
  for (const r of results) counts[r.status]++;
  return { results, counts, requestIds: [...new Set(requestIds)] };
}
