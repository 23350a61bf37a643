import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { Gateway, type GatewayOptions } from "../gateway.ts";
import { SqliteStore } from "../store/sqlite/sqlite-store.ts";
import { UsageError } from "./io.ts";

/** The configuration, with a config mistake turned into a usage error (exit 2). */
export function configFrom(o: { readonly db?: string; readonly config?: string }) {
  try {
    return loadConfig({ configFile: o.config, db: o.db });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Where field maps are kept as files named by their content: `maps/` beside the database. */
export function mapDirBeside(db: string): string {
  return join(dirname(resolve(db)), "maps");
}

/** Opens an existing database for reading commands; a missing file is named, not created. */
export function openStoreOnly(o: { readonly db?: string; readonly config?: string }): SqliteStore {
  const { db } = configFrom(o);
  if (!existsSync(db))
    throw new UsageError(`no database at ${db}: post some leads first, or name it with --db`);
  return new SqliteStore(db);
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
  run: (gateway: Gateway, store: SqliteStore) => Promise<T>,
): Promise<T> {
  // A dispatching command: one per database file (StoreLockedError, exit 2).
  const store = new SqliteStore(config.db, { lockFor: commandLine() });
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
