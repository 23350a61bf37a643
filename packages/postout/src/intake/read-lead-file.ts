import { extname } from "node:path";
import { readCsv } from "./csv.ts";
import { IntakeError } from "./errors.ts";
import type { IntakeItem } from "./items.ts";
import { readJsonArray } from "./json-array.ts";
import { readJsonl } from "./jsonl.ts";
import { checkLeadFile } from "./open-file.ts";
import type { LeadFileFormat, ReadOptions } from "./options.ts";

const BY_EXTENSION: Readonly<Record<string, LeadFileFormat>> = {
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
};

/** The format named by `--format`, or by the file's extension; an {@link IntakeError} otherwise. */
export function formatOf(path: string, format?: string): LeadFileFormat {
  if (format !== undefined) {
    if (format === "csv" || format === "jsonl" || format === "json") return format;
    throw new IntakeError(
      "unknown_format",
      path,
      `unknown format '${format}'; use csv, jsonl or json`,
    );
  }
  const found = BY_EXTENSION[extname(path).toLowerCase()];
  if (found === undefined) {
    throw new IntakeError(
      "unknown_format",
      path,
      "has no known extension (.csv, .jsonl, .ndjson, .json); name the format with --format csv|jsonl|json",
    );
  }
  return found;
}

/**
 * Reads a lead file (CSV, JSONL or JSON array) as a stream of rows and rejected rows, each with
 * the physical line where it starts. Memory stays bounded for CSV and JSONL whatever the file
 * size (fields are capped at 64 KiB, rows at 1 MiB); a JSON array is read whole, up to 32 MiB.
 *
 * A file that cannot be read at all throws one {@link IntakeError} (with a `code`), at the first
 * `next()`: missing file, directory, unknown format, UTF-16/UTF-32, empty, header only, bad
 * header, unrecoverable CSV quoting (rows before its line were already yielded).
 */
export async function* readLeadFile(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<IntakeItem, void, undefined> {
  const format = formatOf(path, options.format);
  const size = await checkLeadFile(path);
  if (format === "csv") yield* readCsv(path, options);
  else if (format === "jsonl") yield* readJsonl(path, options);
  else yield* readJsonArray(path, size, options);
}
