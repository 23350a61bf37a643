import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../errors.ts";

interface Identity {
  readonly dev: bigint;
  readonly ino: bigint;
}

function identityOf(path: string): Identity | undefined {
  try {
    const { dev, ino } = statSync(path, { bigint: true });
    return { dev, ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The database file (and its write-ahead log) as the store opened them. A SQLite connection
 * keeps writing to the file it opened even after that file was deleted or another was put at its
 * path, and those writes are lost at the next start: {@link check} tells, by comparing the
 * device and inode at the path with the opened ones (two `stat` calls).
 *
 * A deleted or replaced file stays a failure until the gateway restarts: the connection cannot be
 * moved to the file now at the path without losing what only the opened one holds.
 */
export class DatabaseFile {
  readonly path: string;
  readonly #files: readonly { readonly path: string; readonly identity: Identity }[];

  /** Call once the connection has opened the file in WAL mode (the log then exists). */
  constructor(path: string) {
    this.path = path;
    this.#files = [path, `${path}-wal`].flatMap((p) => {
      const identity = identityOf(p);
      return identity ? [{ path: p, identity }] : [];
    });
  }

  /** Why writes to the opened file would not last, or `undefined` when they would. */
  check(): StoreError | undefined {
    for (const file of this.#files) {
      const now = identityOf(file.path);
      const which = file.path === this.path ? "database file" : "database's write-ahead log";
      if (now === undefined) {
        return new StoreError(
          "deleted",
          this.path,
          `the ${which} ${file.path} was deleted while the gateway ran: no lead is accepted until the gateway is restarted (it opens the file at the path then: put a backup back first, or it starts an empty database)`,
        );
      }
      if (now.dev !== file.identity.dev || now.ino !== file.identity.ino) {
        return new StoreError(
          "replaced",
          this.path,
          `the ${which} ${file.path} was replaced by another file while the gateway ran: no lead is accepted until the gateway is restarted (it opens the file now at the path then)`,
        );
      }
    }
    for (const p of [this.path, dirname(this.path)]) {
      if (!writable(p)) {
        return new StoreError(
          "unwritable",
          this.path,
          `the database ${p === this.path ? "file" : "folder"} ${p} is not writable: restore write permission; intake resumes by itself once it is`,
        );
      }
    }
    return undefined;
  }
}
