import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../config.ts";
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

/** Opens an existing database for reading commands; a missing file is named, not created. */
export function openStoreOnly(o: { readonly db?: string; readonly config?: string }): SqliteStore {
  const { db } = configFrom(o);
  if (!existsSync(db))
    throw new UsageError(`no database at ${db}: post some leads first, or name it with --db`);
  return new SqliteStore(db);
}
