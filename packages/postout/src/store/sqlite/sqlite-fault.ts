import { StoreError, type StoreErrorCode } from "../errors.ts";

// SQLite's primary result codes for a database that cannot take a write; better-sqlite3 puts
// the extended code in `code` (e.g. SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED).
const FAULTS: readonly (readonly [string, StoreErrorCode])[] = [
  ["SQLITE_FULL", "full"],
  ["SQLITE_READONLY", "unwritable"],
  ["SQLITE_IOERR", "io"],
  ["SQLITE_CANTOPEN", "io"],
];

function faultCode(sqliteCode: string): StoreErrorCode | undefined {
  for (const [primary, code] of FAULTS) {
    if (sqliteCode === primary || sqliteCode.startsWith(`${primary}_`)) {
      // SQLite's own check that the file it opened is still at its path.
      if (sqliteCode === "SQLITE_READONLY_DBMOVED") return "deleted";
      return code;
    }
  }
  return undefined;
}

const WHAT_TO_DO: Record<StoreErrorCode, (path: string, sqliteCode: string) => string> = {
  full: (path, c) =>
    `the disk holding ${path} is full (${c}): free space (or raise the database's size limit); intake accepts leads again once a write fits`,
  unwritable: (path, c) =>
    `the database ${path} cannot be written (${c}): restore write permission on the file and its folder; intake resumes once a write succeeds`,
  io: (path, c) =>
    `the operating system failed a read or write of ${path} (${c}): check the disk and the file; intake resumes once a write succeeds`,
  deleted: (path, c) =>
    `the database file ${path} was moved or deleted while the gateway ran (${c}): restore it or restart the gateway`,
  replaced: (path) => `another file stands at ${path}`,
  locked: (path) => `${path} is locked`,
  unreachable: (path) => `${path} cannot be reached`,
  refused: (path) => `${path} refused the login`,
};

/**
 * The {@link StoreError} for a SQLite error that means the database cannot take writes (full,
 * read-only, I/O, cannot open), or `undefined` for any other error. Decided by the error's code.
 */
export function storeFaultOf(error: unknown, path: string): StoreError | undefined {
  const sqliteCode = (error as { code?: unknown } | null)?.code;
  if (typeof sqliteCode !== "string") return undefined;
  const code = faultCode(sqliteCode);
  if (code === undefined) return undefined;
  return new StoreError(code, path, WHAT_TO_DO[code](path, sqliteCode), { cause: error });
}
