import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Config, ConfigError, DEFAULT_DB, loadConfig } from "../config.ts";
import { Gateway, type GatewayOptions } from "../gateway.ts";
import { isPostgresUrl } from "../store/database-url.ts";
import { openStore } from "../store/open-store.ts";
import type { Store } from "../store/store.ts";
import { UsageError } from "./io.ts";

/** The help of every command's `--db`. */
export const DB_OPTION =
  "the SQLite database file, or a PostgreSQL database as postgres://user@host:port/db (default ./data/postout.db, or POSTOUT_DB)";

/** The configuration, with a config mistake turned into a usage error (exit 2). */
export function configFrom(o: { readonly db?: string; readonly config?: string }) {
  try {
    return loadConfig({ configFile: o.config, db: o.db });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The local folder of the gateway's own files (field maps, the API key): the SQLite file's
 * folder, or `./data` for a PostgreSQL database.
 */
export function dataDirOf(db: string): string {
  return isPostgresUrl(db) ? resolve(dirname(DEFAULT_DB)) : dirname(resolve(db));
}

/** Where field maps are kept as files named by their content: `maps/` in the data folder. */
export function mapDirBeside(db: string): string {
  return join(dataDirOf(db), "maps");
}

/** Opens an existing database for reading commands; a missing SQLite file is named, not created. */
export async function openStoreOnly(o: {
  readonly db?: string;
  readonly config?: string;
}): Promise<Store> {
  const { db } = configFrom(o);
  if (!isPostgresUrl(db) && !existsSync(db))
    throw new UsageError(`no database at ${db}: post some leads first, or name it with --db`);
  return openStore(db);
}

/** This process's command line as the process lock names it to a second process. */
export function commandLine(): string {
  return ["postout", ...process.argv.slice(2)].join(" ");
}

/**
 * Opens the store and the gateway (with the built-in sandbox when no Marketo is configured), runs
 * a command with them, and closes both whatever happens. `quiet` (for `--json`) keeps the
 * sandbox announcement off stderr.
 */
export async function withGateway<T>(
  config: Config,
  options: { readonly quiet: boolean; readonly clientOptions?: GatewayOptions["clientOptions"] },
  run: (gateway: Gateway, store: Store) => Promise<T>,
): Promise<T> {
  // A dispatching command: on SQLite, one per database file (StoreLockedError, exit 2).
  const store = await openStore(config.db, { lockFor: commandLine() });
  try {
    const gateway = await Gateway.open({
      store,
      config,
      ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
      ...(options.quiet ? { announce: () => {} } : {}),
    });
    try {
      return await run(gateway, store);
    } finally {
      await gateway.close();
    }
  } finally {
    await store.close();
  }
}
