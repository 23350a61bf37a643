import pg from "pg";
import { StoreError, type StoreErrorCode } from "../errors.ts";

/**
 * SQLSTATEs (by class or in full) that mean the database cannot keep what it is given, and the
 * fault each is. https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const SQLSTATES: readonly (readonly [string, StoreErrorCode])[] = [
  ["08", "unreachable"], // connection exception
  ["28", "refused"], // invalid authorization specification: no such role, wrong password
  ["3D000", "refused"], // invalid catalog name: no such database
  ["57P01", "unreachable"], // admin shutdown
  ["57P02", "unreachable"], // crash shutdown
  ["57P03", "unreachable"], // cannot connect now (starting, recovering)
  ["53300", "unreachable"], // too many connections
  ["53100", "full"], // disk full
  ["25006", "unwritable"], // read-only SQL transaction (a standby, or default_transaction_read_only)
  ["42501", "unwritable"], // insufficient privilege
  ["58030", "io"], // I/O error
];

// Node's codes for a socket that could not be opened or was cut.
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

function faultCode(error: unknown): StoreErrorCode | undefined {
  if (error instanceof pg.DatabaseError) {
    const state = error.code ?? "";
    return SQLSTATES.find(([prefix]) => state.startsWith(prefix))?.[1];
  }
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string") return NETWORK.has(code) ? "unreachable" : undefined;
  // pg reports a connection lost mid-query, or a connect that timed out, as a plain Error with
  // no code; a programming error is a TypeError, RangeError … and is left alone.
  return Object.getPrototypeOf(error) === Error.prototype ? "unreachable" : undefined;
}

const NO_SUCH_DATABASE = "3D000";

/** The role and the database a URL names, for messages; placeholders when it does not parse. */
function namesIn(url: string): { readonly role: string; readonly database: string } {
  try {
    const parsed = new URL(url);
    return {
      role: decodeURIComponent(parsed.username) || "the role",
      database: decodeURIComponent(parsed.pathname.slice(1)) || "the database",
    };
  } catch {
    return { role: "the role", database: "the database" };
  }
}

const WHAT_TO_DO: Record<
  StoreErrorCode,
  (url: string, detail: string, sqlState: string | undefined) => string
> = {
  unreachable: (url, d) =>
    `the PostgreSQL server at ${url} cannot be reached (${d}): start it, or check the host, the port and the network; intake accepts leads again once it answers`,
  refused: (url, d, state) => {
    const { role, database } = namesIn(url);
    return state === NO_SUCH_DATABASE
      ? `the PostgreSQL server at ${url} has no database ${database} (${d}): create it (as a superuser: CREATE DATABASE ${database} OWNER ${role}), or correct the database name in the URL`
      : `the PostgreSQL server at ${url} refused the role ${role} or its password (${d}): create the role (as a superuser: CREATE ROLE ${role} LOGIN PASSWORD '…'), or correct the user and password in the URL`;
  },
  full: (url, d) =>
    `the disk of the PostgreSQL server at ${url} is full (${d}): free space; intake accepts leads again once a write fits`,
  unwritable: (url, d) =>
    `the PostgreSQL database at ${url} does not take writes (${d}): connect to the primary, or grant the user write access; intake resumes once a write succeeds`,
  io: (url, d) =>
    `the PostgreSQL server at ${url} failed a read or write (${d}): check the server's disk; intake resumes once a write succeeds`,
  deleted: (url) => `${url} was deleted`,
  replaced: (url) => `${url} was replaced`,
  locked: (url) => `${url} is locked`,
};

/**
 * The {@link StoreError} for an error that means the PostgreSQL database cannot take or keep
 * writes now (unreachable, login refused, full, read-only, I/O), or `undefined` for any other
 * error. Decided by the SQLSTATE or Node's error code, never by the message. `url` is shown as
 * given: pass it redacted.
 */
export function storeFaultOf(error: unknown, url: string): StoreError | undefined {
  const code = faultCode(error);
  if (code === undefined) return undefined;
  const state = (error as { code?: unknown }).code;
  const detail =
    typeof state === "string"
      ? `${state}: ${(error as Error).message}`
      : (error as Error).message || "connection lost";
  const sqlState = error instanceof pg.DatabaseError ? error.code : undefined;
  return new StoreError(code, url, WHAT_TO_DO[code](url, detail, sqlState), { cause: error });
}
