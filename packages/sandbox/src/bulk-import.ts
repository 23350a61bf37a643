import { parse } from "csv-parse/sync";
import { type Answer, fail, ok, reason } from "./envelope.ts";
import type { Instance } from "./instance.ts";
import { type SyncOutcome, syncOne, syncSettings } from "./leads.ts";
import type { CallInput, Route } from "./routes.ts";

/** §11.4: two imports process at once; ten may wait (processing included); FIFO. */
const maxProcessing = 2;
const maxQueued = 10;

const keepJobsMs = 7 * 24 * 3600 * 1000;

const delimiters: Record<string, string> = { csv: ",", tsv: "\t", ssv: ";" };

type Status = "Queued" | "Importing" | "Complete" | "Failed";

/** One bulk import job. */
export interface ImportJob {
  batchId: number;
  status: Status;
  delimiter: string;
  header: string[];
  rows: string[][];
  lookupField: string;
  listId: number | undefined;
  partitionName: string | undefined;
  createdAt: number;
  startedAt: number | undefined;
  endsAt: number | undefined;
  imported: number;
  failures: string[][];
  warnings: string[][];
  message: string | undefined;
}

/** The bulk import queue. Progress is computed from the clock on each look, not by timers. */
export class BulkImports {
  readonly jobs = new Map<number, ImportJob>();
  #nextId = 1001;
  #lastFreedAt = 0;
  readonly #instance: Instance;

  constructor(instance: Instance) {
    this.#instance = instance;
  }

  #durationMs(job: ImportJob): number {
    const { bulkPace, timeScale } = this.#instance.options;
    return (bulkPace.startupMs + bulkPace.perRowMs * job.rows.length) * timeScale;
  }

  /** Brings every job up to `now`: starts queued jobs in free slots, finishes due ones. */
  tick(now: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const importing = [...this.jobs.values()].filter((j) => j.status === "Importing");
      const queued = [...this.jobs.values()].find((j) => j.status === "Queued");
      if (queued !== undefined && importing.length < maxProcessing) {
        // FIFO: a job starts when it was queued or when a slot freed, whichever is later.
        queued.status = "Importing";
        queued.startedAt = Math.max(queued.createdAt, this.#lastFreedAt);
        queued.endsAt = queued.startedAt + this.#durationMs(queued);
        continue;
      }
      let due: ImportJob | undefined;
      for (const j of importing) {
        if ((j.endsAt ?? 0) <= now && (due === undefined || (j.endsAt ?? 0) < (due.endsAt ?? 0)))
          due = j;
      }
      if (due === undefined) break;
      this.#finish(due);
      this.#lastFreedAt = due.endsAt ?? now;
    }
    // §11.1: a batchId stays usable for 7 days; older finished jobs are forgotten.
    for (const [id, job] of this.jobs) {
      if (
        (job.status === "Complete" || job.status === "Failed") &&
        (job.endsAt ?? now) < now - keepJobsMs
      )
        this.jobs.delete(id);
    }
  }

  #finish(job: ImportJob): void {
    const instance = this.#instance;
    const settings = syncSettings(
      instance,
      {
        action: job.lookupField === "id" ? "updateOnly" : "createOrUpdate",
        lookupField: job.lookupField,
        partitionName: job.partitionName,
      },
      "createOrUpdate",
    );
    const list = job.listId === undefined ? undefined : instance.lists.byId(job.listId);
    for (const row of job.rows) {
      if (row.length !== job.header.length) {
        job.failures.push([...row, "Invalid number of columns"]);
        continue;
      }
      const record: Record<string, unknown> = {};
      let warning: string | undefined;
      job.header.forEach((name, i) => {
        const value = row[i] ?? "";
        const field = instance.schema.get(name);
        // §11.3: a bad email imports the row without it and warns "Invalid email address".
        if (
          field?.dataType === "email" &&
          value !== "" &&
          name !== job.lookupField &&
          !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)
        ) {
          warning = "Invalid email address";
          return;
        }
        if (value !== "") record[name] = value;
      });
      if (record[job.lookupField] === undefined) {
        // §11.3: reason vocabulary beyond the doc examples is unverified; this one is documented.
        job.failures.push([...row, "missing.dedupe.fields"]);
        continue;
      }
      const outcome = settings === undefined ? undefined : syncOne(instance, settings, record);
      if (outcome?.lead === undefined) {
        job.failures.push([...row, failureReason(outcome)]);
        continue;
      }
      job.imported++;
      list?.members.add(outcome.lead.id);
      if (warning !== undefined) job.warnings.push([...row, warning]);
    }
    job.status = "Complete";
    // The rows are imported; only the failure and warning rows are still served.
    job.rows = [];
    const n = job.imported;
    job.message =
      job.failures.length > 0
        ? `Import completed with errors, ${n} records imported (${n} members), ${job.failures.length} failed`
        : job.warnings.length > 0
          ? `Import succeeded, ${n} records imported (${n} members), ${job.warnings.length} warning.`
          : `Import succeeded, ${n} records imported (${n} members)`;
  }

  /** §11.2 ImportLeadResponse for a job as of `now`. */
  view(job: ImportJob, now: number): Record<string, unknown> {
    const { bulkPace, timeScale } = this.#instance.options;
    let processed = job.imported;
    if (job.status === "Importing" && job.startedAt !== undefined) {
      const perRow = bulkPace.perRowMs * timeScale;
      const elapsed = now - job.startedAt - bulkPace.startupMs * timeScale;
      processed =
        perRow === 0 ? 0 : Math.max(0, Math.min(job.rows.length, Math.floor(elapsed / perRow)));
    }
    const out: Record<string, unknown> = {
      batchId: job.batchId,
      importId: String(job.batchId),
      status: job.status,
      numOfLeadsProcessed: processed,
      numOfRowsFailed: job.failures.length,
      numOfRowsWithWarning: job.warnings.length,
    };
    if (job.message !== undefined) out.message = job.message;
    return out;
  }

  /** Jobs that hold a place in the queue (queued or importing). */
  pending(): ImportJob[] {
    return [...this.jobs.values()].filter((j) => j.status === "Queued" || j.status === "Importing");
  }

  add(job: Omit<ImportJob, "batchId">): ImportJob {
    const full = { ...job, batchId: this.#nextId++ };
    this.jobs.set(full.batchId, full);
    return full;
  }
}

/** The failure file's reason for a row that was not imported. */
function failureReason(outcome: SyncOutcome | undefined): string {
  if (outcome === undefined || outcome.lead !== undefined) return "Invalid data";
  // §11.3 example: "Invalid data type in field Lead Score" for a type mismatch (1001).
  if (outcome.field !== undefined) return `Invalid data type in field ${outcome.field.displayName}`;
  return outcome.result.reasons[0]?.message ?? "Invalid data";
}

/** §11.1 Import Leads: a multipart CSV/TSV/SSV file; answers Queued at once. */
async function createImport(instance: Instance, call: CallInput): Promise<Answer> {
  const form = call.body;
  if (!(form instanceof FormData)) return fail("613");
  const formatValue = call.query.get("format") ?? form.get("format") ?? "csv";
  const format = String(formatValue).toLowerCase();
  const delimiter = delimiters[format];
  // unverified: an unknown format refuses the call with 1003 "Invalid data".
  if (delimiter === undefined) return fail("1003");
  const file = form.get("file");
  if (file === null || typeof file === "string") return fail("701", "file");
  const text = await file.text();
  const lookupField = call.query.get("lookupField") ?? "email";
  const partitionName = call.query.get("partitionName") ?? undefined;
  const settings = syncSettings(
    instance,
    { lookupField, partitionName, action: "createOrUpdate" },
    "createOrUpdate",
  );
  if (settings?.problem !== undefined)
    return { kind: "envelope", body: { success: false, errors: [settings.problem] } };
  const listParam = call.query.get("listId");
  const listId = listParam === null ? undefined : Number(listParam);
  if (listId !== undefined && instance.lists.byId(listId) === undefined) return fail("1013");
  const now = instance.clock.now();
  instance.bulk.tick(now);
  const pending = instance.bulk.pending();
  // §11.4: the 11th import waiting is refused with 1016; one list takes one import at a time (1019).
  // unverified: both at response level.
  if (pending.length >= maxQueued) return fail("1016");
  if (listId !== undefined && pending.some((j) => j.listId === listId)) return fail("1019");
  let records: string[][];
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as string[][];
  } catch {
    records = [];
  }
  const header = records[0] ?? [];
  const unknown = header.find((name) => instance.schema.get(name) === undefined);
  const job = instance.bulk.add({
    status: "Queued",
    delimiter,
    header,
    rows: records.slice(1),
    lookupField,
    listId,
    partitionName,
    createdAt: now,
    startedAt: undefined,
    endsAt: undefined,
    imported: 0,
    failures: [],
    warnings: [],
    message: undefined,
  });
  // §11.1: a job can be Failed at creation. unverified: the message texts.
  if (header.length === 0 || unknown !== undefined) {
    job.status = "Failed";
    job.endsAt = now;
    job.message =
      header.length === 0
        ? "Import failed: the file has no header row"
        : `Import failed: ${reason("1006", unknown ?? "").message}`;
  }
  return ok([{ batchId: job.batchId, importId: String(job.batchId), status: job.status }]);
}

function jobOf(instance: Instance, call: CallInput): ImportJob | undefined {
  instance.bulk.tick(instance.clock.now());
  return instance.bulk.jobs.get(Number(call.params[0]));
}

function status(instance: Instance, call: CallInput): Answer {
  const job = jobOf(instance, call);
  // unverified: an unknown batchId answers 1013 "Object not found".
  return job === undefined ? fail("1013") : ok([instance.bulk.view(job, instance.clock.now())]);
}

function quote(value: string, delimiter: string): string {
  return /["\r\n]/.test(value) || value.includes(delimiter)
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

/**
 * §11.3 failures and warnings files: the rows in the job's own delimiter with one extra
 * column. unverified: the header (taken from the program-member example) and `text/csv`.
 */
function file(instance: Instance, call: CallInput, kind: "failures" | "warnings"): Answer {
  const job = jobOf(instance, call);
  if (job === undefined) return fail("1013");
  const extra = kind === "failures" ? "Import Failure Reason" : "Import Warning Reason";
  const lines = [[...job.header, extra], ...(kind === "failures" ? job.failures : job.warnings)];
  const text = lines
    .map((cells) => cells.map((c) => quote(c, job.delimiter)).join(job.delimiter))
    .join("\n");
  return { kind: "file", contentType: "text/csv; charset=utf-8", text: `${text}\n` };
}

/** Routes of §11. */
export function bulkImportRoutes(instance: Instance): Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/bulk\/v1\/leads\.json$/,
      body: "multipart",
      latency: "bulk",
      handle: (c) => createImport(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/bulk\/v1\/leads\/batch\/(\d+)\.json$/,
      body: "none",
      latency: "bulk",
      handle: (c) => status(instance, c),
    },
    {
      method: "GET",
      pattern: /^\/bulk\/v1\/leads\/batch\/(\d+)\/failures\.json$/,
      body: "none",
      latency: "bulk",
      handle: (c) => file(instance, c, "failures"),
    },
    {
      method: "GET",
      pattern: /^\/bulk\/v1\/leads\/batch\/(\d+)\/warnings\.json$/,
      body: "none",
      latency: "bulk",
      handle: (c) => file(instance, c, "warnings"),
    },
  ];
}
