import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import Database from "better-sqlite3";
import { type LockHolder, StoreLockedError } from "../errors.ts";

/**
 * One dispatching process per SQLite database file. The lock is SQLite's own file lock on a
 * dedicated lock database (`<db>.lock`) kept in exclusive locking mode: the operating system
 * drops it when the process ends in any way (kill -9 too), so it is never left stuck, and it
 * does not depend on reading a pid as alive (pids are reused, and hosts may share a folder).
 * Who holds it is written beside it (`<db>.lock.json`) only to be named in the refusal.
 */
export class ProcessLock {
  readonly #db: Database.Database;
  readonly #infoPath: string;

  private constructor(db: Database.Database, infoPath: string) {
    this.#db = db;
    this.#infoPath = infoPath;
  }

  /** Takes the lock for `dbPath`, or throws {@link StoreLockedError} naming the process that holds it. */
  static acquire(dbPath: string, command: string): ProcessLock {
    const infoPath = `${dbPath}.lock.json`;
    const db = new Database(`${dbPath}.lock`);
    try {
      db.pragma("busy_timeout = 0");
      db.pragma("locking_mode = EXCLUSIVE");
      // In exclusive locking mode the lock a write transaction takes is kept until close.
      db.exec("BEGIN EXCLUSIVE; COMMIT");
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === "SQLITE_BUSY") {
        throw new StoreLockedError(dbPath, readHolder(infoPath));
      }
      throw error;
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: Date.now(), command };
    // Written whole under another name, then renamed: a reader never sees half of it.
    writeFileSync(`${infoPath}.${process.pid}`, JSON.stringify(holder));
    renameSync(`${infoPath}.${process.pid}`, infoPath);
    return new ProcessLock(db, infoPath);
  }

  release(): void {
    rmSync(this.#infoPath, { force: true });
    this.#db.close();
  }
}

function readHolder(infoPath: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(infoPath, "utf8")) as Partial<LockHolder>;
    if (
      typeof parsed.pid === "number" &&
      typeof parsed.host === "string" &&
      typeof parsed.since === "number" &&
      typeof parsed.command === "string"
    ) {
      return parsed as LockHolder;
    }
  } catch {
    // Not written yet (the holder is starting) or unreadable: the refusal says so.
  }
  return undefined;
}
