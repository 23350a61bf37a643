import { isPostgresUrl } from "./database-url.ts";
import { PostgresStore } from "./postgres/postgres-store.ts";
import { SqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store.ts";

export interface OpenStoreOptions {
  /**
   * For a dispatching command on a SQLite file: take the file's process lock for this command
   * line (see SqliteStoreOptions.lockFor). PostgreSQL takes any number of processes: ignored.
   * @default undefined (no lock)
   */
  readonly lockFor?: string;
}

/**
 * Opens the store `db` names: a `postgres://` (or `postgresql://`) URL is a PostgreSQL
 * database, migrated at open; anything else is the path of a SQLite file.
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) return PostgresStore.open(db);
  return new SqliteStore(db, options);
}
