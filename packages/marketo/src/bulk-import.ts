import { stringify } from "csv-stringify/sync";
import type { Caller } from "./call.ts";
import { clip, MAX_CHARS } from "./clip.ts";
import { parseCsv } from "./csv.ts";
import { isMarketoError, type MarketoError } from "./errors.ts";

/** One row of a bulk import: REST API field names to values. */
export type ImportRow = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface ImportOptions {
  /**
   * The dedupe field (`id` makes the import update-only).
   * @default "email"
   */
  lookupField?: string;
  /** A static list the imported leads are also added to. */
  listId?: number;
  partitionName?: string;
  /**
   * A column holding each row's input index, so that the failures and warnings files can be
   * attributed back to input rows. On a real instance this must be a lead field (a custom
   * string field); `false` matches rows by their content instead.
   * @default "postoutRowId"
   */
  rowIdColumn?: string | false;
  /**
   * Called with each batch id as soon as its job exists, before any other file is uploaded.
   * @default none
   */
  onCreated?: (batchId: number) => void | Promise<void>;
}

export interface WaitOptions {
  /**
   * The shortest time between two looks at a job's status (Marketo advises 5–30 s). A job
   * whose progress is known is looked at again near its projected end instead, up to
   * `maxPollIntervalMs`; finished jobs are not looked at again.
   * @default 5000
   */
  pollIntervalMs?: number;
  /**
   * The longest time between two looks at an unfinished job.
   * @default 300000
   */
  maxPollIntervalMs?: number;
  /**
   * Give up polling after this long; rows of unfinished jobs are `unknown`.
   * @default 3600000
   */
  maxWaitMs?: number;
}

/** One job's status as Marketo reports it (§11.2). */
export interface ImportStatus {
  readonly batchId: number;
  readonly status: string;
  readonly numOfLeadsProcessed: number;
  readonly numOfRowsFailed: number;
  readonly numOfRowsWithWarning: number;
  readonly message: string | undefined;
}

/** What happened to one input row of an import. */
export interface ImportRowResult {
  readonly index: number;
  readonly status: "imported" | "warning" | "failed" | "unknown";
  /** Marketo's failure or warning reason, or why the row's job did not complete. */
  readonly reason: string | undefined;
  readonly batchId: number | undefined;
}

export interface ImportReport {
  readonly batches: readonly ImportStatus[];
  /** One result per input row, in input order. */
  readonly rows: readonly ImportRowResult[];
}

/** One uploaded file: the input rows it carries and its job, or why it has none. */
export interface ImportFile {
  readonly start: number;
  readonly end: number;
  readonly batchId: number | undefined;
  readonly error: MarketoError | undefined;
}

/** An import whose jobs exist; `wait()` polls them to the end and reads their failures and warnings. */
export interface ImportJob {
  /** The batch id of every job created, in file order. */
  readonly batchIds: readonly number[];
  readonly files: readonly ImportFile[];
  status(): Promise<ImportStatus[]>;
  wait(options?: WaitOptions): Promise<ImportReport>;
}

export interface ImportRunnerConfig {
  readonly caller: Caller;
  readonly maxFileBytes: number;
}

// Room for the multipart boundary and part headers around the file.
const MULTIPART_OVERHEAD = 2_048;
const FINAL = new Set(["Complete", "Failed"]);
const RANK = { imported: 1, warning: 2, unknown: 3, failed: 4 } as const;

/** What `wait()` knows of one job: its size, its latest status, and when to look again. */
interface Watch {
  readonly batchId: number;
  readonly size: number;
  status?: ImportStatus;
  lookedAt: number;
  /** When it was first seen importing, and how far it had got then. */
  first?: { readonly at: number; readonly processed: number };
  /** When to look again; `undefined` once it is finished. */
  due: number | undefined;
  queuedLooks: number;
}

/** When an importing job will end, at the pace seen between its first and latest looks. */
function projectedEnd(w: Watch): number | undefined {
  const s = w.status;
  if (s?.status !== "Importing" || !w.first || !w.size || w.lookedAt <= w.first.at) return;
  const rate = (s.numOfLeadsProcessed - w.first.processed) / (w.lookedAt - w.first.at);
  return rate > 0 ? w.lookedAt + (w.size - s.numOfLeadsProcessed) / rate : undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts and follows bulk lead imports (§11). */
export class ImportRunner {
  readonly #c: ImportRunnerConfig;

  constructor(config: ImportRunnerConfig) {
    this.#c = config;
  }

  async start(rows: readonly ImportRow[], options: ImportOptions): Promise<ImportJob> {
    const rowId = options.rowIdColumn ?? "postoutRowId";
    const columns = columnsOf(rows, rowId);
    const header = stringify([columns]);
    const lines = rows.map((row, index) => stringify([lineOf(row, columns, rowId, index)]));
    const limit = this.#c.maxFileBytes - MULTIPART_OVERHEAD;
    const files: ImportFile[] = [];
    let start = 0;
    // Cut files at 10 MB (§11.4: 413 above it), each with its own header row.
    while (start < rows.length) {
      let end = start;
      let bytes = Buffer.byteLength(header);
      while (end < rows.length && bytes + Buffer.byteLength(lines[end] ?? "") <= limit) {
        bytes += Buffer.byteLength(lines[end] ?? "");
        end++;
      }
      if (end === start) end = start + 1; // a single row over the limit: let Marketo say 413
      const csv = header + lines.slice(start, end).join("");
      try {
        const batchId = await this.#upload(csv, options);
        await options.onCreated?.(batchId);
        files.push({ start, end, batchId, error: undefined });
      } catch (error) {
        if (!isMarketoError(error)) throw error;
        files.push({ start, end, batchId: undefined, error });
      }
      start = end;
    }
    return this.#job(files, rows, options);
  }

  /**
   * An import job from stored batch ids (or stored files, with their row ranges). Without
   * ranges every job is read against every row; without rows nothing can be attributed.
   */
  resume(
    stored: readonly number[] | readonly Pick<ImportFile, "batchId" | "start" | "end">[],
    rows: readonly ImportRow[] | undefined,
    options: ImportOptions,
  ): ImportJob {
    const all = rows?.length ?? 0;
    const files = stored.map((item) =>
      typeof item === "number"
        ? { start: 0, end: all, batchId: item, error: undefined }
        : { ...item, error: undefined },
    );
    return this.#job(files, rows ?? [], options);
  }

  async #upload(csv: string, options: ImportOptions): Promise<number> {
    const envelope = await this.#c.caller.call<{ batchId: number; status: string }>({
      endpoint: "importLeads",
      method: "POST",
      path: "/bulk/v1/leads.json",
      query: {
        format: "csv",
        lookupField: options.lookupField,
        listId: options.listId,
        partitionName: options.partitionName,
      },
      form: () => {
        const form = new FormData();
        form.append("format", "csv");
        form.append("file", new Blob([csv], { type: "text/csv" }), "leads.csv");
        return form;
      },
    });
    const batchId = envelope.result[0]?.batchId;
    if (typeof batchId !== "number") throw new TypeError("Bulk import answered without a batchId");
    return batchId;
  }

  #job(
    files: readonly ImportFile[],
    inputRows: readonly ImportRow[],
    options: ImportOptions,
  ): ImportJob {
    const caller = this.#c.caller;
    const batchIds = files.flatMap((f) => (f.batchId === undefined ? [] : [f.batchId]));
    const statusOf = async (batchId: number): Promise<ImportStatus> => {
      const envelope = await caller.call<ImportStatus>({
        endpoint: "importStatus",
        method: "GET",
        path: `/bulk/v1/leads/batch/${batchId}.json`,
      });
      const s = envelope.result[0];
      return {
        batchId,
        status: typeof s?.status === "string" ? clip(s.status, MAX_CHARS.code) : "Unknown",
        numOfLeadsProcessed: s?.numOfLeadsProcessed ?? 0,
        numOfRowsFailed: s?.numOfRowsFailed ?? 0,
        numOfRowsWithWarning: s?.numOfRowsWithWarning ?? 0,
        message: typeof s?.message === "string" ? clip(s.message, MAX_CHARS.message) : undefined,
      };
    };
    const status = () => Promise.all(batchIds.map(statusOf));
    const wait = async (waitOptions: WaitOptions = {}): Promise<ImportReport> => {
      const minLook = waitOptions.pollIntervalMs ?? 5_000;
      const maxLook = Math.max(minLook, waitOptions.maxPollIntervalMs ?? 300_000);
      const deadline = Date.now() + (waitOptions.maxWaitMs ?? 3_600_000);
      const clamp = (ms: number) => Math.min(maxLook, Math.max(minLook, ms));
      const jobs = new Map<number, Watch>(
        files.flatMap((f) =>
          f.batchId === undefined
            ? []
            : [
                [
                  f.batchId,
                  {
                    batchId: f.batchId,
                    size: f.end - f.start,
                    lookedAt: 0,
                    due: 0,
                    queuedLooks: 0,
                  },
                ],
              ],
        ),
      );
      const importing = () => [...jobs.values()].filter((w) => w.status?.status === "Importing");
      // Each job is looked at on its own schedule: an importing job near its projected end; a
      // queued one when the first importing job should end (a slot frees), else right after
      // the next look at an importing job, else on a doubling wait; a finished one never again.
      // A long import so costs a few looks per file.
      const schedule = (looked: readonly Watch[], at: number) => {
        for (const w of looked) {
          if (w.status?.status !== "Importing") continue;
          const end = projectedEnd(w);
          w.due = at + (end === undefined ? minLook : clamp(end - at));
        }
        const running = importing();
        const ends = running.flatMap((w) => projectedEnd(w) ?? []);
        const dues = running.flatMap((w) => w.due ?? []);
        const slotFrees = Math.min(...(ends.length > 0 ? ends : dues));
        for (const w of looked) {
          const status = w.status?.status ?? "";
          if (FINAL.has(status)) w.due = undefined;
          if (FINAL.has(status) || status === "Importing") continue;
          const backoff = minLook * 2 ** Math.min(w.queuedLooks++, 10);
          w.due = at + clamp(Number.isFinite(slotFrees) ? slotFrees - at : backoff);
        }
      };
      for (;;) {
        const at = Date.now();
        const looked = [...jobs.values()].filter((w) => w.due !== undefined && w.due <= at);
        const statuses = await Promise.all(looked.map((w) => statusOf(w.batchId)));
        const seen = Date.now();
        looked.forEach((w, i) => {
          const st = statuses[i] as ImportStatus;
          w.status = st;
          w.lookedAt = seen;
          if (st.status === "Importing" && !w.first)
            w.first = { at: seen, processed: st.numOfLeadsProcessed };
        });
        schedule(looked, seen);
        const dues = [...jobs.values()].flatMap((w) => w.due ?? []);
        const left = deadline - Date.now();
        if (dues.length === 0 || left <= 0) break;
        await sleep(Math.min(Math.max(0, Math.min(...dues) - Date.now()), left));
      }
      const statuses = batchIds.map((id) => jobs.get(id)?.status as ImportStatus);
      const rows: ImportRowResult[] = [];
      for (const file of files) {
        const s = statuses.find((x) => x.batchId === file.batchId);
        // One push per row: a spread of a 100,000-row file overflows the call stack.
        for (const row of await this.#rowsOf(file, s, inputRows, options)) rows.push(row);
      }
      // With overlapping ranges (resumed without them) the most telling answer wins.
      const best = new Map<number, ImportRowResult>();
      for (const row of rows) {
        const seen = best.get(row.index);
        if (!seen || RANK[row.status] > RANK[seen.status]) best.set(row.index, row);
      }
      return { batches: statuses, rows: [...best.values()].sort((a, b) => a.index - b.index) };
    };
    return { batchIds, files, status, wait };
  }

  async #rowsOf(
    file: ImportFile,
    status: ImportStatus | undefined,
    inputRows: readonly ImportRow[],
    options: ImportOptions,
  ): Promise<ImportRowResult[]> {
    const indices = range(file.start, Math.min(file.end, inputRows.length));
    const all = (s: ImportRowResult["status"], reason: string | undefined) =>
      indices.map((index) => ({ index, status: s, reason, batchId: file.batchId }));
    if (file.batchId === undefined)
      return all("failed", file.error ? `${file.error.code} ${file.error.message}` : undefined);
    if (!status || status.status === "Failed")
      return all("failed", status?.message ?? "Import failed");
    if (status.status !== "Complete")
      return all("unknown", `Import still ${status.status}; poll again`);
    const byIndex = new Map<number, ImportRowResult>();
    const attribute = async (kind: "failures" | "warnings", result: "failed" | "warning") => {
      const text = await this.#c.caller.text({
        endpoint: "importStatus",
        method: "GET",
        path: `/bulk/v1/leads/batch/${file.batchId}/${kind}.json`,
      });
      for (const { index, reason } of attributeRows(text, indices, options, inputRows)) {
        byIndex.set(index, { index, status: result, reason, batchId: file.batchId });
      }
    };
    if (status.numOfRowsWithWarning > 0) await attribute("warnings", "warning");
    if (status.numOfRowsFailed > 0) await attribute("failures", "failed");
    return indices.map(
      (index) =>
        byIndex.get(index) ?? {
          index,
          status: "imported",
          reason: undefined,
          batchId: file.batchId,
        },
    );
  }
}

function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}

function columnsOf(rows: readonly ImportRow[], rowId: string | false): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key);
  if (rowId) {
    columns.delete(rowId);
    columns.add(rowId);
  }
  return [...columns];
}

function lineOf(
  row: ImportRow,
  columns: readonly string[],
  rowId: string | false,
  index: number,
): string[] {
  return columns.map((column) => {
    if (rowId && column === rowId) return String(index);
    const value = row[column];
    return value === undefined || value === null ? "" : String(value);
  });
}

/**
 * Reads a failures or warnings file — the original columns plus one reason column at the end
 * (§11.3) — and finds each line's input row: by the row id column when it is there, else by
 * the row's content (the first unclaimed input row with the same cells). Each reason is cut to
 * `MAX_CHARS.message`.
 */
export function attributeRows(
  text: string,
  indices: readonly number[],
  options: Pick<ImportOptions, "rowIdColumn">,
  rowsForContent?: readonly ImportRow[],
): { index: number; reason: string | undefined }[] {
  const [header, ...records] = parseCsv(text);
  if (!header) return [];
  const rowId = options.rowIdColumn ?? "postoutRowId";
  const idAt = rowId ? header.indexOf(rowId) : -1;
  const out: { index: number; reason: string | undefined }[] = [];
  const unclaimed = new Set(indices);
  for (const record of records) {
    const last = record[header.length - 1];
    const reason = last === undefined ? undefined : clip(last, MAX_CHARS.message);
    let index: number | undefined;
    if (idAt >= 0) {
      const n = Number(record[idAt]);
      if (Number.isInteger(n) && unclaimed.has(n)) index = n;
    } else if (rowsForContent) {
      index = [...unclaimed].find((i) =>
        header
          .slice(0, -1)
          .every((col, c) => String(rowsForContent[i]?.[col] ?? "") === (record[c] ?? "")),
      );
    }
    if (index !== undefined) {
      unclaimed.delete(index);
      out.push({ index, reason });
    }
  }
  return out;
}
