import type { Writable } from "node:stream";
import { type Command, Option } from "commander";
import { stringify } from "csv-stringify";
import type { AttemptRow, LeadRow, Store } from "../store/store.ts";
import { type FilterOptions, filterOptions, parseFilter } from "./filters.ts";
import { DB_OPTION, openStoreOnly } from "./open.ts";

/** The columns of the post-out log report (seed 003's Post Out Log Report, done better). */
export const REPORT_COLUMNS = [
  "LeadId",
  "Email",
  "Destination",
  "Endpoint",
  "Program",
  "RequestContent",
  "ResponseStatusCode",
  "ResponseReason",
  "Status",
  "Attempts",
  "MarketoId",
  "UpdatedAt",
  "Fix",
] as const;

export type ReportRow = Record<(typeof REPORT_COLUMNS)[number], string | number | null> & {
  Attempt?: number;
};

function row(lead: LeadRow, attempt: AttemptRow | undefined): ReportRow {
  return {
    LeadId: lead.id,
    Email: lead.email ?? null,
    Destination: lead.destination,
    Endpoint: attempt?.endpoint ?? null,
    Program: lead.program ?? null,
    RequestContent: attempt ? JSON.stringify(attempt.request) : null,
    ResponseStatusCode: attempt?.statusCode ?? null,
    ResponseReason: attempt?.reason ?? null,
    Status: lead.status,
    Attempts: lead.attempts,
    MarketoId: lead.marketoId ?? null,
    UpdatedAt: new Date(lead.updatedAt).toISOString(),
    Fix: lead.fix ?? null,
  };
}

/** The report's rows: one per lead with its latest attempt, or one per attempt. */
export async function* reportRows(
  store: Store,
  filter: ReturnType<typeof parseFilter>,
  attempts: boolean,
): AsyncIterable<ReportRow> {
  if (attempts) {
    for await (const a of store.iterateAttempts(filter)) yield { ...row(a.lead, a), Attempt: a.n };
  } else {
    for await (const { lead, last } of store.iterateLeadReport(filter)) yield row(lead, last);
  }
}

/**
 * Lead data is untrusted and the CSV report is opened in spreadsheets: a text cell starting
 * with = + - @ or a tab/CR would run as a formula (CSV injection, OWASP), so it gets a leading '.
 */
export function spreadsheetSafe(row: ReportRow): ReportRow {
  const safe: Record<string, string | number | null> = {};
  for (const [key, value] of Object.entries(row)) {
    safe[key] = typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  }
  return safe as ReportRow;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise((resolve) => out.once("drain", resolve));
}

function cut(value: string | number | null, width: number): string {
  const text = value === null ? "" : String(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** Writes the report as a table, CSV or JSON, streaming. Resolves to the number of rows. */
export async function writeReport(
  rows: AsyncIterable<ReportRow>,
  format: string,
  out: Writable,
  attempts: boolean,
): Promise<number> {
  let n = 0;
  if (format === "csv") {
    const columns = attempts
      ? ["LeadId", "Attempt", ...REPORT_COLUMNS.slice(1)]
      : [...REPORT_COLUMNS];
    const csv = stringify({ header: true, columns });
    const done = new Promise<void>((resolve, reject) => {
      csv.on("end", resolve);
      csv.on("error", reject);
    });
    csv.on("data", (chunk: Buffer) => out.write(chunk));
    for await (const r of rows) {
      n++;
      if (!csv.write(spreadsheetSafe(r)))
        await new Promise((resolve) => csv.once("drain", resolve));
    }
    csv.end();
    await done;
    return n;
  }
  if (format === "json") {
    await write(out, "[");
    for await (const r of rows) {
      await write(out, `${n === 0 ? "\n" : ",\n"}${JSON.stringify(r)}`);
      n++;
    }
    await write(out, n === 0 ? "]\n" : "\n]\n");
    return n;
  }
  await write(
    out,
    `${cut("LeadId", 8)} ${cut("Email", 28)} ${cut("Status", 10)} ${cut("Code", 8)} ${cut("Reason", 40)} Fix\n`,
  );
  for await (const r of rows) {
    n++;
    await write(
      out,
      `${cut(r.LeadId, 8)} ${cut(r.Email, 28)} ${cut(r.Status, 10)} ${cut(r.ResponseStatusCode, 8)} ${cut(r.ResponseReason, 40)} ${r.Fix ?? ""}\n`,
    );
  }
  return n;
}

interface ReportOptions extends FilterOptions {
  readonly format?: string;
  readonly attempts?: boolean;
  readonly json?: boolean;
  readonly db?: string;
  readonly config?: string;
}

export function registerReport(program: Command): void {
  const command = program
    .command("report")
    .description(
      "the post-out log: what was sent for each lead, what Marketo answered, and the fix",
    );
  for (const option of filterOptions()) command.addOption(option);
  command
    .addOption(
      new Option("--format <format>", "table, csv or json")
        .choices(["table", "csv", "json"])
        .default("table"),
    )
    .option("--attempts", "one row per attempt instead of per lead")
    .option("--json", "same as --format json")
    .option("--db <path|url>", DB_OPTION)
    .option("--config <file>", "the config file")
    .action(async (o: ReportOptions) => {
      const filter = parseFilter(o);
      const store = await openStoreOnly(o);
      try {
        const format = o.json ? "json" : (o.format ?? "table");
        await writeReport(
          reportRows(store, filter, o.attempts === true),
          format,
          process.stdout,
          o.attempts === true,
        );
      } finally {
        await store.close();
      }
    });
}
