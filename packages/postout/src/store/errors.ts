/**
 * Why the store cannot keep what it is given. A closed set: callers branch on `code`, never on
 * the message (STYLE: one error hierarchy).
 * - `deleted`: the database file (or its write-ahead log) was removed while the gateway ran.
 * - `replaced`: another file now stands at the database's path.
 * - `unwritable`: the file or its folder cannot be written (permissions, a read-only mount).
 * - `full`: the disk, or the database's size limit, has no room for the write.
 * - `io`: the operating system failed a read or write.
 * - `locked`: another process is dispatching from the same database file.
 * - `unreachable`: the database server cannot be reached (down, refused, connection lost).
 * - `refused`: the database server answered but refused the login: no such role, a wrong
 *   password, no such database.
 */
export type StoreErrorCode =
  | "deleted"
  | "replaced"
  | "unwritable"
  | "full"
  | "io"
  | "locked"
  | "unreachable"
  | "refused";

/**
 * The store refused a write (or a process) for a cause a person must fix. The message names the
 * file, the cause and what to do. Nothing the store answered with this error was stored.
 */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: StoreErrorCode;
  /** The database file, or the database server's URL without its password. */
  readonly path: string;

  constructor(code: StoreErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}

/** The process that holds a database file for dispatching, as it described itself. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Epoch ms the holder took the lock. */
  readonly since: number;
  /** The holder's command line, e.g. `postout serve --port 8080`. */
  readonly command: string;
}

/** A second dispatching process on a SQLite file: refused, naming the one that holds it. */
export class StoreLockedError extends StoreError {
  override readonly name = "StoreLockedError";
  /** Undefined when the holder has not described itself yet (it is starting). */
  readonly holder: LockHolder | undefined;

  constructor(path: string, holder: LockHolder | undefined) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host} (${holder.command}), since ${new Date(holder.since).toISOString()}`
      : "another process (starting; it has not described itself yet)";
    super(
      "locked",
      path,
      `the database ${path} is in use by ${who}. SQLite keeps one dispatching process per file: stop that process first, post to its HTTP API instead (POST /v1/leads), or give this command another --db. Reading commands (report, explain) work while it runs.`,
    );
    this.holder = holder;
  }
}

/** True for a {@link StoreError} (any subclass), also across realms (checks `name`). */
export function isStoreError(error: unknown): error is StoreError {
  const name = (error as { name?: unknown } | null)?.name;
  return error instanceof StoreError || name === "StoreError" || name === "StoreLockedError";
}
