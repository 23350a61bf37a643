import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";
import {
  APPLIED_MIGRATIONS,
  BEGIN,
  COMMIT,
  MIGRATION_LOCK,
  MIGRATIONS_TABLE,
  RECORD_MIGRATION,
  ROLLBACK,
} from "./sql.ts";

const MIGRATIONS = new URL("./migrations/", import.meta.url);

/**
 * Brings the database's schema up to date: the numbered files of migrations/ not applied yet, in
 * order, in one transaction that holds an advisory lock. Processes starting at once wait for the
 * first; it migrates, and the others find nothing left to do. A failed file leaves the schema as
 * it was.
 */
export async function migrate(client: pg.ClientBase, now: number): Promise<void> {
  const files = readdirSync(MIGRATIONS)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort();
  await client.query(BEGIN);
  try {
    await client.query(MIGRATION_LOCK);
    await client.query(MIGRATIONS_TABLE);
    const applied = new Set(
      (await client.query<{ version: number }>(APPLIED_MIGRATIONS)).rows.map((r) => r.version),
    );
    for (const file of files) {
      const version = Number(file.slice(0, 3));
      if (applied.has(version)) continue;
      // No parameters: the file's statements run as one simple query.
      await client.query(readFileSync(new URL(file, MIGRATIONS), "utf8"));
      await client.query(RECORD_MIGRATION, [version, file, now]);
    }
    await client.query(COMMIT);
  } catch (error) {
    await client.query(ROLLBACK).catch(() => {});
    throw error;
  }
}
