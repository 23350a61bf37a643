import pg from "pg";
import { isStoreError, type StoreError } from "../errors.ts";
import { storeFaultOf } from "./postgres-fault.ts";
import { BEGIN, COMMIT, PREPARED, ROLLBACK } from "./sql.ts";

export interface DatabaseOptions {
  /**
   * Connections the process keeps to the server at most.
   * @default 10
   */
  readonly maxConnections?: number;
  /**
   * How long to wait for a connection before the server counts as unreachable.
   * @default 10_000
   */
  readonly connectTimeoutMs?: number;
}

const DEFAULTS = {
  maxConnections: 10,
  connectTimeoutMs: 10_000,
} satisfies Required<DatabaseOptions>;

// BIGINT (epoch ms, ids) as a number. Every value the store keeps fits in 2^53; a value that
// does not is refused loudly rather than rounded.
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid !== INT8_OID) return pg.types.getTypeParser(oid, format ?? "text");
    return (text: string) => {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} is beyond 2^53`);
      return value;
    };
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** A statement of the delivery path goes as a named prepared statement (sql.ts PREPARED). */
function statement(sql: string, params: readonly unknown[] = []): pg.QueryConfig {
  const name = PREPARED.get(sql);
  return name === undefined
    ? { text: sql, values: params as unknown[] }
    : { name, text: sql, values: params as unknown[] };
}

// Serialization failures and deadlocks (two intakes of the same keys in another order, a
// release crossing a record): the statement or transaction did nothing and is run again.
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_TRIES = 5;

function retryable(error: unknown): boolean {
  return error instanceof pg.DatabaseError && RETRYABLE.has(error.code ?? "");
}

/** A statement run inside a transaction. */
export type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params?: readonly unknown[],
) => Promise<pg.QueryResult<R>>;

/**
 * A pool of connections to one PostgreSQL database, with what the store needs around it: BIGINT
 * read as numbers; a statement or transaction undone by a deadlock run again; a failure of the
 * server (unreachable, full, read-only) turned into a StoreError and kept as the database's
 * {@link fault} until a write succeeds.
 */
export class Database {
  readonly #pool: pg.Pool;
  /** The server's URL as messages show it: without its password. */
  readonly url: string;
  #fault: StoreError | undefined;

  /** A pool for `url`; no connection is opened yet. `shown` is the URL without its password. */
  constructor(url: string, shown: string, options: DatabaseOptions = {}) {
    const o = { ...DEFAULTS, ...options };
    this.url = shown;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: o.maxConnections,
      connectionTimeoutMillis: o.connectTimeoutMs,
      application_name: "postout",
      types: TYPES,
    });
    // A connection lost while idle (the server stopped or restarted) is reported here; without a
    // listener it would end the process.
    this.#pool.on("error", (error) => this.#noteFault(error));
  }

  /** The last failure of the server, until a write succeeds. */
  get fault(): StoreError | undefined {
    return this.#fault;
  }

  #noteFault(error: unknown): void {
    this.#fault = storeFaultOf(error, this.url) ?? this.#fault;
  }

  /**
   * Runs work against the server: a failure of the server becomes a StoreError and the fault;
   * a write that succeeds clears the fault; any other error is rethrown as it is.
   */
  async #run<T>(work: () => Promise<T>, options: { readonly write: boolean }): Promise<T> {
    try {
      const result = await work();
      if (options.write) this.#fault = undefined;
      return result;
    } catch (error) {
      if (isStoreError(error)) throw error;
      const fault = storeFaultOf(error, this.url);
      if (!fault) throw error;
      this.#fault = fault;
      throw fault;
    }
  }

  /** One statement, outside a transaction (run again after a deadlock, which undid it). */
  #query<R extends pg.QueryResultRow>(
    sql: string,
    params: readonly unknown[],
    options: { readonly write: boolean },
  ): Promise<pg.QueryResult<R>> {
    return this.#run(async () => {
      for (let tries = 1; ; tries++) {
        try {
          return await this.#pool.query<R>(statement(sql, params));
        } catch (error) {
          if (!retryable(error) || tries >= MAX_TRIES) throw error;
        }
      }
    }, options);
  }

  /** A statement that only reads. */
  read<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []) {
    return this.#query<R>(sql, params, { write: false });
  }

  /** A statement that writes: its success clears the fault. */
  write<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []) {
    return this.#query<R>(sql, params, { write: true });
  }

  /**
   * Statements in one transaction on one connection (`begin` opens it: BEGIN unless given). A
   * deadlock or serialization failure rolls it back and runs `work` again (a few times);
   * anything else `work` throws rolls it back and is rethrown.
   */
  transaction<T>(
    work: (query: Query) => Promise<T>,
    options: { readonly write: boolean; readonly begin?: string },
  ): Promise<T> {
    return this.#run(async () => {
      for (let tries = 1; ; tries++) {
        const client = await this.#pool.connect();
        // Between statements no query is waiting for the connection's errors: listened to here.
        const onError = (error: Error) => this.#noteFault(error);
        client.on("error", onError);
        let broken: Error | undefined;
        try {
          await client.query(options.begin ?? BEGIN);
          const result = await work((sql, params) => client.query(statement(sql, params)));
          await client.query(COMMIT);
          return result;
        } catch (error) {
          try {
            await client.query(ROLLBACK);
          } catch (rollbackFailed) {
            broken = rollbackFailed as Error;
          }
          if (retryable(error) && tries < MAX_TRIES) continue;
          throw error;
        } finally {
          client.off("error", onError);
          // A connection that could not even roll back is not given to the next caller.
          client.release(broken);
        }
      }
    }, options);
  }

  /** Work on one connection of its own (which manages its own transactions), e.g. migrations. */
  session<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    return this.#run(
      async () => {
        const client = await this.#pool.connect();
        try {
          return await work(client);
        } finally {
          client.release();
        }
      },
      { write: true },
    );
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
