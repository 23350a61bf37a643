import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { type CsvError, type Info, Parser } from "csv-parse";
import { isReservedName, reservedNameReason } from "../reserved-names.ts";
import { IntakeError } from "./errors.ts";
import { checkString, quoteName, setField } from "./fields.ts";
import { type FieldValue, type IntakeItem, rejected } from "./items.ts";
import { asIntakeError } from "./open-file.ts";
import { limitsOf, type ReadOptions } from "./options.ts";
import { Utf8LineTracker } from "./utf8-lines.ts";

/**
 * csv-parse errors after which it finds the next record by itself (a wrong column count is
 * found at the record's end; a stray quote inside an unquoted field stays inside that record).
 * After any other error (a quote that is not closed, a bad closing quote, an over-long record)
 * it cannot tell where the record ends, so reading on would shift or swallow later rows.
 */
const RECOVERABLE = new Set(["CSV_RECORD_INCONSISTENT_FIELDS_LENGTH", "INVALID_OPENING_QUOTE"]);

interface Skipped {
  readonly skipped: CsvError & {
    readonly lines?: number;
    readonly bytes?: number;
    readonly column?: number | string | null;
    readonly record?: unknown;
  };
}
interface Parsed {
  readonly info: Info;
  readonly record: string[];
}

/**
 * Every record ends at a CRLF, an LF or a lone CR outside quotes, whatever the first line used:
 * files from Excel (CRLF), old Mac exports (CR) and Unix tools (LF) are sometimes concatenated.
 * CRLF comes first so that it is one break, not a CR and then an empty line.
 */
const RECORD_DELIMITERS = ["\r\n", "\n", "\r"];

/** Line breaks in a value, a CRLF counted once, as {@link Utf8LineTracker} counts them. */
function breaksIn(fields: readonly string[]): number {
  let breaks = 0;
  for (const f of fields) {
    if (f.indexOf("\n") === -1 && f.indexOf("\r") === -1) continue;
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10 || (c === 13 && f.charCodeAt(i + 1) !== 10)) breaks++;
    }
  }
  return breaks;
}

/**
 * Reads a CSV lead file as a stream: the first record is the header (source column names,
 * trimmed), every later record is a row. Rows with the wrong number of columns, a stray quote,
 * invalid UTF-8, a NUL character, a field over the size limit or no value at all are rejected
 * with their line; the rest of the file is still read. A UTF-8 byte order mark is skipped.
 * CRLF, LF and a lone CR each end a line and, outside quotes, a record; inside quotes they are
 * part of the value.
 *
 * Stops with an {@link IntakeError} for an empty file, a header-only file, an empty or duplicate
 * column name, or quoting the parser cannot recover from (`malformed_csv`, with its line).
 */
export async function* readCsv(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<IntakeItem> {
  const limits = limitsOf(options);
  const tracker = new Utf8LineTracker(limits.maxRowBytes);
  const parser: Parser = new Parser({
    bom: true,
    info: true,
    delimiter: options.delimiter ?? ",",
    record_delimiter: RECORD_DELIMITERS,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // A row with the wrong number of columns is rejected, never shifted or padded.
    relax_column_count: false,
    max_record_size: limits.maxRowBytes,
    // Every error goes into the stream in order; the loop below decides, so that line numbers
    // are computed in order and every row before a fatal error is still yielded.
    on_skip: (error) => {
      if (error !== undefined) parser.push({ skipped: error } satisfies Skipped);
      return undefined;
    },
  });
  pipeline(createReadStream(path), tracker, parser, () => {});

  // Lines come from byte offsets, which csv-parse reports exactly, mapped by the tracker, which
  // saw every line break; csv-parse's own line count takes a CRLF inside quotes as two lines.
  /** The lines of a record that ends (past its line break) at byte `end`. */
  const span = (end: number, fields: readonly string[]) => {
    const last = tracker.lineAt(end - 1);
    tracker.forgetBreaksBefore(end - 1);
    return { start: last - breaksIn(fields), end: last };
  };
  /**
   * The line where the field that an error names starts: csv-parse gives the offset of the
   * delimiter before it, or for a record's first field the end of the record before (blank
   * lines may follow).
   */
  const fieldLine = (error: Skipped["skipped"]) => {
    const at = error.bytes ?? 0;
    return error.column === 0 || typeof error.column !== "number"
      ? tracker.firstContentLine(at)
      : tracker.lineAt(at);
  };

  let header: string[] | undefined;
  let items = 0;
  let lastRejected = 0;
  try {
    for await (const item of parser as AsyncIterable<Parsed | Skipped>) {
      if ("skipped" in item) {
        const error = item.skipped;
        if (!RECOVERABLE.has(error.code)) {
          throw fatalError(path, error, fieldLine(error), limits.maxRowBytes);
        }
        // One rejection per record: a record can raise several errors (two stray quotes, then
        // its column count); a wrong count is given at the record's first line, a stray quote at
        // its own line, so the later ones are never before the first.
        const wrongCount = error.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH";
        const fields = wrongCount && Array.isArray(error.record) ? (error.record as string[]) : [];
        const line =
          wrongCount && error.bytes !== undefined
            ? span(error.bytes, fields).start
            : fieldLine(error);
        if (header === undefined) {
          throw new IntakeError(
            "malformed_csv",
            path,
            "the header row has a quote inside an unquoted name",
            line,
          );
        }
        if (line <= lastRejected) continue;
        lastRejected = line;
        items++;
        yield wrongCount
          ? rejected(
              line,
              "wrong_column_count",
              `expected ${header.length} columns as in the header, got ${fields.length}; quote fields that contain the delimiter`,
            )
          : rejected(
              line,
              "bad_quote",
              'a quote (") inside an unquoted field; put the whole field in quotes and double the quotes inside it ("")',
            );
        continue;
      }
      const { start, end } = span(item.info.bytes, item.record);
      const badUtf8 = tracker.hasBadLine(start, end);
      tracker.forgetBefore(start);
      if (header === undefined) {
        header = readHeader(path, item.record, start, badUtf8);
        continue;
      }
      items++;
      if (badUtf8) {
        yield rejected(
          start,
          "invalid_utf8",
          "not valid UTF-8 (the file may be Windows-1252 or Latin-1); save the file as UTF-8",
        );
        continue;
      }
      yield toRow(header, item.record, start, limits);
    }
  } catch (error) {
    throw asIntakeError(path, error);
  }
  if (header === undefined) throw new IntakeError("empty_file", path, "is empty (no leads)");
  if (items === 0) throw new IntakeError("no_leads", path, "has a header row but no leads");
}

function toRow(
  header: readonly string[],
  record: readonly string[],
  line: number,
  limits: ReturnType<typeof limitsOf>,
): IntakeItem {
  const fields: Record<string, FieldValue> = {};
  let empty = true;
  for (let i = 0; i < header.length; i++) {
    const name = header[i] as string;
    const value = record[i] ?? "";
    const problem = checkString(name, value, limits);
    if (problem) return rejected(line, problem.code, problem.reason);
    if (empty && value.trim() !== "") empty = false;
    setField(fields, name, value);
  }
  if (empty) return rejected(line, "empty_row", "the row has no values");
  return { kind: "row", line, fields };
}

function readHeader(path: string, record: readonly string[], line: number, badUtf8: boolean) {
  if (badUtf8) {
    throw new IntakeError(
      "invalid_utf8",
      path,
      "the header row is not valid UTF-8; save the file as UTF-8",
      line,
    );
  }
  const names = record.map((name) => name.trim());
  if (names.some((name) => name.includes("\0"))) {
    // "E\0m\0a\0i\0l\0": UTF-16 without a byte order mark.
    throw new IntakeError(
      "unsupported_encoding",
      path,
      "the header contains NUL bytes, so the file looks like UTF-16 without a byte order mark; save it as UTF-8",
      line,
    );
  }
  const empty = names.flatMap((name, i) => (name === "" ? [i + 1] : []));
  if (empty.length > 0) {
    throw new IntakeError(
      "empty_header",
      path,
      `column ${empty.join(", ")} of the header has no name; name every column (or delete empty columns)`,
      line,
    );
  }
  const reserved = names.find(isReservedName);
  if (reserved !== undefined) {
    throw new IntakeError(
      "reserved_name",
      path,
      `the header's column ${reservedNameReason(reserved)}`,
      line,
    );
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) duplicates.add(name);
    seen.add(name);
  }
  if (duplicates.size > 0) {
    throw new IntakeError(
      "duplicate_header",
      path,
      `the header names ${[...duplicates].map(quoteName).join(", ")} more than once; every column needs its own name`,
      line,
    );
  }
  return names;
}

function fatalError(
  path: string,
  error: CsvError | undefined,
  fieldStart: number,
  maxRowBytes: number,
): IntakeError {
  // `post` reads the whole file before it accepts a row, so a file that cannot be read is not posted.
  const after = "the file cannot be read from here on, so none of its rows was posted";
  switch (error?.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return new IntakeError(
        "malformed_csv",
        path,
        `a quoted field is never closed before the end of the file (${after}); close the quote or double the quotes inside the field ("")`,
        fieldStart,
      );
    case "CSV_INVALID_CLOSING_QUOTE":
      return new IntakeError(
        "malformed_csv",
        path,
        `a quoted field has text after its closing quote (${after}); double the quotes inside a quoted field ("")`,
        fieldStart,
      );
    case "CSV_MAX_RECORD_SIZE":
      return new IntakeError(
        "row_too_large",
        path,
        `a record is over ${maxRowBytes} bytes, most often a quote that is never closed (${after})`,
        fieldStart,
      );
    default:
      return new IntakeError(
        "malformed_csv",
        path,
        `the CSV cannot be read from here (${error?.code ?? "unknown"}; ${after})`,
        fieldStart,
      );
  }
}
