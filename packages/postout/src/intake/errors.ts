/**
 * Why a whole lead file cannot be read. A closed set: callers branch on `code`, never on the
 * message (STYLE: one error hierarchy, never branch on message text).
 */
export type IntakeErrorCode =
  | "file_not_found"
  | "not_a_file"
  | "unreadable"
  | "unknown_format"
  | "unsupported_encoding"
  | "invalid_utf8"
  | "empty_file"
  | "no_leads"
  | "empty_header"
  | "duplicate_header"
  | "reserved_name"
  | "malformed_csv"
  | "row_too_large"
  | "file_too_large"
  | "invalid_json"
  | "not_an_array";

/**
 * A lead file that cannot be read at all (or, for `malformed_csv` and `row_too_large`, not past
 * `line`: rows before that line were already yielded). The message names the file, the line
 * when there is one, the problem and what to do; it never carries a stack trace for the user.
 */
export class IntakeError extends Error {
  override readonly name = "IntakeError";
  readonly code: IntakeErrorCode;
  readonly path: string;
  /** The physical line (1-based) where the problem is, when it has one. */
  readonly line: number | undefined;

  constructor(code: IntakeErrorCode, path: string, message: string, line?: number) {
    super(line === undefined ? `${path}: ${message}` : `${path}, line ${line}: ${message}`);
    this.code = code;
    this.path = path;
    this.line = line;
  }
}

/** True for an {@link IntakeError}, also across realms (checks `name`, as ky's `isHTTPError`). */
export function isIntakeError(error: unknown): error is IntakeError {
  return (
    error instanceof IntakeError || (error as { name?: unknown } | null)?.name === "IntakeError"
  );
}

/** Why one row was rejected while the rest of the file is still read. */
export type RejectCode =
  | "wrong_column_count"
  | "bad_quote"
  | "invalid_utf8"
  | "field_too_large"
  | "row_too_large"
  | "nul_character"
  | "unpaired_surrogate"
  | "empty_row"
  | "invalid_json"
  | "not_an_object"
  | "nested_value"
  | "empty_field_name"
  | "reserved_name";
